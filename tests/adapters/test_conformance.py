"""The conformance suite every adapter passes: Feathers' adapter tests (feathers-wire 8) plus
the behaviour our adapters promise beyond them (typed values, sorting, copies, concurrency).

Ids are adapter-specific (memory counts integers, persisted adapters use strings), so tests
only ever compare ids with ids the adapter itself returned.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from cryptorobot.adapters import Index
from cryptorobot.errors import BadRequest, Conflict, MethodNotAllowed, NotFound

UNKNOWN_ID = "568225fbfe21222432e836ff"


def names(records: list[dict[str, Any]]) -> list[str]:
    return [record["name"] for record in records]


def not_found(id: Any) -> str:
    return f"No record found for id '{id}'"


@pytest.fixture
async def doug(service) -> dict[str, Any]:
    return await service.create({"name": "Doug", "age": 32})


@pytest.fixture
async def people(service) -> dict[str, dict[str, Any]]:
    """Bob (25), Doug (32) and Alice (19), as the Query Syntax group creates them."""
    created = [await service.create({"name": name, "age": age}) for name, age in (("Bob", 25), ("Doug", 32), ("Alice", 19))]
    return {person["name"]: person for person in created}


# -- Basic functionality ---------------------------------------------------------------------


async def test_id_is_the_id_property(service, make_service) -> None:
    assert service.id == "id"
    custom = await make_service(id="_id")
    created = await custom.create({"name": "Doug"})
    assert custom.id == "_id"
    assert set(created) == {"_id", "name"}
    assert await custom.get(created["_id"]) == created


async def test_options_and_events(service) -> None:
    assert service.options["paginate"] is False
    assert service.options["multi"] is False
    assert service.events == ["testing"]


@pytest.mark.parametrize("method", ["_get", "_find", "_create", "_update", "_patch", "_remove"])
async def test_raw_methods_exist(service, method: str) -> None:
    assert callable(getattr(service, method))


# -- Methods: get ----------------------------------------------------------------------------


async def test_get(service, doug) -> None:
    assert await service.get(doug["id"]) == {"id": doug["id"], "name": "Doug", "age": 32}


async def test_get_select(service, doug) -> None:
    assert await service.get(doug["id"], {"query": {"$select": ["name"]}}) == {"id": doug["id"], "name": "Doug"}


async def test_get_id_and_non_matching_query(service, doug) -> None:
    with pytest.raises(NotFound) as caught:
        await service.get(doug["id"], {"query": {"name": "Tester"}})
    assert caught.value.message == not_found(doug["id"])


async def test_get_not_found(service, doug) -> None:
    with pytest.raises(NotFound) as caught:
        await service.get(UNKNOWN_ID)
    assert caught.value.message == f"No record found for id '{UNKNOWN_ID}'"


async def test_get_id_and_query_id(service, doug) -> None:
    alice = await service.create({"name": "Alice", "age": 12})
    with pytest.raises(NotFound):
        await service.get(doug["id"], {"query": {"id": alice["id"]}})


# -- Methods: find ---------------------------------------------------------------------------


async def test_find(service, doug) -> None:
    assert await service.find() == [doug]


# -- Methods: remove -------------------------------------------------------------------------


async def test_remove(service, doug) -> None:
    assert await service.remove(doug["id"]) == doug
    with pytest.raises(NotFound):
        await service.get(doug["id"])


async def test_remove_select(service, doug) -> None:
    assert await service.remove(doug["id"], {"query": {"$select": ["name"]}}) == {"id": doug["id"], "name": "Doug"}


async def test_remove_id_and_non_matching_query(service, doug) -> None:
    with pytest.raises(NotFound):
        await service.remove(doug["id"], {"query": {"name": "Tester"}})
    assert await service.get(doug["id"]) == doug


async def test_remove_multi(service, doug) -> None:
    with pytest.raises(MethodNotAllowed) as caught:
        await service.remove(None)
    assert caught.value.message == "Can not remove multiple entries"

    service.options["multi"] = ["remove"]
    await service._create([{"name": "Dave", "age": 29, "created": True}, {"name": "David", "age": 3, "created": True}])
    removed = await service.remove(None, {"query": {"created": True}})
    assert sorted(names(removed)) == ["Dave", "David"]
    assert await service.find() == [doug]


async def test_remove_multi_ignores_pagination(service, doug) -> None:
    service.options.update(multi=True, paginate={"default": 10, "max": 100})
    await service.create([{"name": f"Dave {n}", "created": True} for n in range(14)])
    removed = await service.remove(None, {"query": {"created": True, "$limit": 2}})
    assert len(removed) == 14
    assert await service.find({"paginate": False}) == [doug]


async def test_remove_id_and_query_id(service, doug) -> None:
    alice = await service.create({"name": "Alice", "age": 12})
    with pytest.raises(NotFound):
        await service.remove(doug["id"], {"query": {"id": alice["id"]}})


# -- Methods: update -------------------------------------------------------------------------


async def test_update_replaces(service, doug) -> None:
    original = {"id": doug["id"], "name": "Dougler"}
    updated = await service.update(doug["id"], original)
    assert updated == {"id": doug["id"], "name": "Dougler"}
    assert original == {"id": doug["id"], "name": "Dougler"}
    assert await service.get(doug["id"]) == updated


async def test_update_ignores_id_in_data(service, doug) -> None:
    updated = await service.update(doug["id"], {"id": UNKNOWN_ID, "name": "Dougler"})
    assert updated == {"id": doug["id"], "name": "Dougler"}


async def test_update_select(service, doug) -> None:
    updated = await service.update(doug["id"], {"name": "Dougler", "age": 10}, {"query": {"$select": ["name"]}})
    assert updated == {"id": doug["id"], "name": "Dougler"}


async def test_update_id_and_non_matching_query_changes_nothing(service, doug) -> None:
    with pytest.raises(NotFound):
        await service.update(doug["id"], {"name": "Dougler"}, {"query": {"name": "Tester"}})
    assert await service.get(doug["id"]) == doug


async def test_update_not_found(service, doug) -> None:
    with pytest.raises(NotFound) as caught:
        await service.update(UNKNOWN_ID, {"name": "NotFound"})
    assert caught.value.message == f"No record found for id '{UNKNOWN_ID}'"


async def test_update_query_not_found(service, doug) -> None:
    dave = await service.create({"name": "Dave"})
    with pytest.raises(NotFound):
        await service.update(dave["id"], {"name": "NotDave"}, {"query": {"name": "NotDave"}})


async def test_update_id_and_query_id(service, doug) -> None:
    alice = await service.create({"name": "Alice", "age": 12})
    with pytest.raises(NotFound):
        await service.update(doug["id"], {"name": "Dougler"}, {"query": {"id": alice["id"]}})


@pytest.mark.parametrize("id_and_data", [(None, {"name": "x"}), ("some", [{"name": "x"}])])
async def test_update_multiple_is_refused(service, id_and_data) -> None:
    with pytest.raises(BadRequest) as caught:
        await service.update(*id_and_data)
    assert caught.value.message == "You can not replace multiple instances. Did you mean 'patch'?"


# -- Methods: patch --------------------------------------------------------------------------


async def test_patch_merges(service, doug) -> None:
    original = {"id": doug["id"], "name": "PatchDoug"}
    patched = await service.patch(doug["id"], original)
    assert patched == {"id": doug["id"], "name": "PatchDoug", "age": 32}
    assert original == {"id": doug["id"], "name": "PatchDoug"}


async def test_patch_is_shallow_and_ignores_id_in_data(service) -> None:
    record = await service.create({"name": "Doug", "address": {"city": "Berlin", "zip": "10115"}})
    patched = await service.patch(record["id"], {"id": UNKNOWN_ID, "address": {"city": "Paris"}})
    assert patched == {"id": record["id"], "name": "Doug", "address": {"city": "Paris"}}


async def test_patch_select(service, doug) -> None:
    patched = await service.patch(doug["id"], {"name": "PatchDoug"}, {"query": {"$select": ["name"]}})
    assert patched == {"id": doug["id"], "name": "PatchDoug"}


async def test_patch_id_and_non_matching_query(service, doug) -> None:
    with pytest.raises(NotFound):
        await service.patch(doug["id"], {"name": "PatchDoug"}, {"query": {"name": "Tester"}})
    assert await service.get(doug["id"]) == doug


async def test_patch_multiple(service, doug) -> None:
    with pytest.raises(MethodNotAllowed) as caught:
        await service.patch(None, {})
    assert caught.value.message == "Can not patch multiple entries"

    service.options["multi"] = ["patch"]
    await service._create([{"name": "Dave", "age": 29, "created": True}, {"name": "David", "age": 3, "created": True}])
    patched = await service.patch(None, {"age": 2}, {"query": {"created": True}})
    assert sorted((p["name"], p["age"]) for p in patched) == [("Dave", 2), ("David", 2)]
    assert (await service.get(doug["id"]))["age"] == 32


async def test_patch_multiple_ignores_pagination(service, doug) -> None:
    service.options.update(multi=True, paginate={"default": 10, "max": 100})
    await service.create([{"name": f"Dave {n}", "created": True} for n in range(14)])
    patched = await service.patch(None, {"created": False}, {"query": {"created": True, "$limit": 2}})
    assert len(patched) == 14
    assert {record["created"] for record in patched} == {False}


async def test_patch_multi_query_same(service, doug) -> None:
    service.options["multi"] = True
    await service.create([{"name": "Dave", "age": 8}, {"name": "David", "age": 4}])
    patched = await service.patch(None, {"age": 2}, {"query": {"age": {"$lt": 10}}})
    assert sorted((p["name"], p["age"]) for p in patched) == [("Dave", 2), ("David", 2)]


async def test_patch_multi_query_changed(service, doug) -> None:
    service.options["multi"] = True
    await service.create([{"name": "Dave", "age": 10}, {"name": "David", "age": 10}])
    patched = await service.patch(None, {"age": 2}, {"query": {"age": 10}})
    assert sorted((p["name"], p["age"]) for p in patched) == [("Dave", 2), ("David", 2)]


async def test_patch_not_found(service, doug) -> None:
    with pytest.raises(NotFound) as caught:
        await service.patch(UNKNOWN_ID, {"name": "PatchDoug"})
    assert caught.value.message == f"No record found for id '{UNKNOWN_ID}'"


async def test_patch_query_not_found(service, doug) -> None:
    dave = await service.create({"name": "Dave"})
    with pytest.raises(NotFound):
        await service.patch(dave["id"], {"name": "PatchDave"}, {"query": {"name": "NotDave"}})


async def test_patch_id_and_query_id(service, doug) -> None:
    alice = await service.create({"name": "Alice", "age": 12})
    with pytest.raises(NotFound):
        await service.patch(doug["id"], {"name": "PatchDoug"}, {"query": {"id": alice["id"]}})


# -- Methods: create -------------------------------------------------------------------------


async def test_create(service) -> None:
    original = {"name": "Bill", "age": 40}
    created = await service.create(original)
    assert created == {"id": created["id"], "name": "Bill", "age": 40}
    assert original == {"name": "Bill", "age": 40}
    assert await service.get(created["id"]) == created


async def test_create_ignores_query(service) -> None:
    created = await service.create({"name": "Billy"}, {"query": {"name": "Dave", "$foo": 1}})
    assert created["name"] == "Billy"


async def test_create_select(service) -> None:
    created = await service.create({"name": "William", "age": 23}, {"query": {"$select": ["name"]}})
    assert created == {"id": created["id"], "name": "William"}


async def test_create_multi(service) -> None:
    with pytest.raises(MethodNotAllowed) as caught:
        await service.create([])
    assert caught.value.message == "Can not create multiple entries"

    service.options["multi"] = ["create", "patch"]
    created = await service.create([{"name": "Gerald", "age": 18}, {"name": "Herald", "age": 18}])
    assert names(created) == ["Gerald", "Herald"]
    assert all(record["id"] is not None for record in created)
    assert created[0]["id"] != created[1]["id"]
    assert await service.create([]) == []


async def test_create_keeps_a_supplied_id(service) -> None:
    created = await service.create({"id": "custom-id", "name": "Doug"})
    assert created == {"id": "custom-id", "name": "Doug"}
    assert await service.get("custom-id") == created


@pytest.mark.deviation("mongodb", reason="nx-27017 reports a duplicate _id as 'UNIQUE constraint failed: <collection>._id', "
                                          "naming no index")
async def test_create_refuses_an_existing_id(service) -> None:
    """A create never replaces a record (Feathers' memory adapter would; databases refuse)."""
    await service.create({"id": "taken", "name": "Doug"})
    service.options["multi"] = True
    for data in ({"id": "taken", "name": "Dave"}, [{"id": "fresh", "name": "A"}, {"id": "fresh", "name": "B"}]):
        with pytest.raises(Conflict) as caught:
            await service.create(data)
        assert caught.value.to_json() == {
            "name": "Conflict", "message": "A record with this id already exists", "code": 409,
            "className": "conflict", "data": {"fields": ["id"]}}
    assert await service.get("taken") == {"id": "taken", "name": "Doug"}
    assert await service.find({"query": {"id": "fresh"}}) == []


async def test_create_refuses_non_objects(service) -> None:
    service.options["multi"] = True
    for data in ("text", ["text"]):
        with pytest.raises(BadRequest) as caught:
            await service.create(data)
        assert caught.value.message == "Data must be an object"


# -- Public methods never call public methods ------------------------------------------------

PUBLIC_ARGS = {
    "find": lambda id: (),
    "get": lambda id: (id,),
    "create": lambda id: ({"name": "Eve"},),
    "update": lambda id: (id, {"name": "Eve"}),
    "patch": lambda id: (id, {"name": "Eve"}),
    "remove": lambda id: (id,),
}


@pytest.mark.parametrize("method", list(PUBLIC_ARGS))
async def test_public_methods_use_only_internal_ones(service, doug, method: str) -> None:
    async def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a public method called another public method")

    public = getattr(type(service), method)
    for name in PUBLIC_ARGS:
        setattr(service, name, refuse)  # instance attributes shadow the class's methods
    await public(service, *PUBLIC_ARGS[method](doug["id"]))


# -- Query syntax ----------------------------------------------------------------------------


async def find_names(service, query: dict[str, Any]) -> list[str]:
    return names(await service.find({"query": query}))


async def test_find_equal(service, people) -> None:
    assert await find_names(service, {"name": "Alice"}) == ["Alice"]
    assert await find_names(service, {"name": "Alice", "age": 20}) == []


async def test_find_sort(service, people) -> None:
    assert await find_names(service, {"$sort": {"name": 1}}) == ["Alice", "Bob", "Doug"]
    assert await find_names(service, {"$sort": {"name": -1}}) == ["Doug", "Bob", "Alice"]
    assert await find_names(service, {"$sort": {"name": "1"}}) == ["Alice", "Bob", "Doug"]
    assert await find_names(service, {"$sort": {"name": "-1"}}) == ["Doug", "Bob", "Alice"]


async def test_find_limit_and_skip(service, people) -> None:
    assert len(await service.find({"query": {"$limit": 2}})) == 2
    assert await service.find({"query": {"$limit": 0}}) == []
    assert await find_names(service, {"$sort": {"name": 1}, "$skip": 1}) == ["Bob", "Doug"]
    assert await find_names(service, {"$sort": {"name": 1}, "$skip": "1", "$limit": "1"}) == ["Bob"]


async def test_find_select(service, people) -> None:
    found = await service.find({"query": {"$select": ["name"], "$sort": {"name": 1}}})
    assert found == [{"id": people[name]["id"], "name": name} for name in ("Alice", "Bob", "Doug")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"$or": [{"name": "Alice"}, {"name": "Bob"}]}, ["Alice", "Bob"]),
        ({"name": {"$in": ["Alice", "Bob"]}}, ["Alice", "Bob"]),
        ({"name": {"$nin": ["Alice", "Bob"]}}, ["Doug"]),
        ({"age": {"$lt": 30}}, ["Alice", "Bob"]),
        ({"age": {"$lte": 25}}, ["Alice", "Bob"]),
        ({"age": {"$gt": 30}}, ["Doug"]),
        ({"age": {"$gte": 25}}, ["Bob", "Doug"]),
        ({"age": {"$ne": 25}}, ["Alice", "Doug"]),
        ({"age": {"$gt": 18, "$lt": 30}}, ["Alice", "Bob"]),
        ({"$or": [{"name": "Doug"}, {"age": {"$gte": 18, "$lt": 25}}]}, ["Alice", "Doug"]),
        ({"$and": [{"age": 19}]}, ["Alice"]),
        ({"$and": [{"$or": [{"name": "Alice"}]}]}, ["Alice"]),
        ({"$and": [{"age": {"$gt": 20}}, {"$or": [{"name": "Bob"}, {"name": "Alice"}]}]}, ["Bob"]),
        ({"$or": [{"$or": [{"name": "Bob"}]}, {"age": 19}], "name": {"$ne": "Doug"}}, ["Alice", "Bob"]),
        ({"age": "19"}, []),
    ],
)
async def test_find_operators(service, people, query: dict[str, Any], expected: list[str]) -> None:
    assert await find_names(service, {**query, "$sort": {"name": 1}}) == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"$or": [{"$and": [{"name": "Alice"}]}]}, "Invalid query parameter $and"),
        ({"age": {"$regex": "x"}}, "Invalid query parameter $regex"),
        ({"$foo": 1}, "Invalid filter value $foo"),
    ],
)
async def test_find_rejects_invalid_queries(service, people, query: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        await service.find({"query": query})
    assert caught.value.message == message


# -- params.adapter --------------------------------------------------------------------------


async def test_params_adapter_paginate(service, people) -> None:
    page = await service.find({"adapter": {"paginate": {"default": 3}}})
    assert (page["total"], page["limit"], page["skip"], len(page["data"])) == (3, 3, 0, 3)


async def test_params_adapter_multi(service, people) -> None:
    params = {"adapter": {"multi": ["create"]}}
    created = await service.create([{"name": "Eve"}, {"name": "Frank"}], params)
    assert names(created) == ["Eve", "Frank"]
    with pytest.raises(MethodNotAllowed) as caught:
        await service.patch(None, {}, params)
    assert caught.value.message == "Can not patch multiple entries"


# -- Pagination ------------------------------------------------------------------------------


@pytest.fixture
def paginated(service, people):
    service.options["paginate"] = {"default": 1, "max": 2}
    return service


async def test_paginate(paginated, people) -> None:
    page = await paginated.find({"query": {"$sort": {"name": -1}}})
    assert (page["total"], page["limit"], page["skip"], names(page["data"])) == (3, 1, 0, ["Doug"])


async def test_paginate_query(paginated, people) -> None:
    page = await paginated.find({"query": {"name": "Doug"}})
    assert page == {"total": 1, "limit": 1, "skip": 0, "data": [people["Doug"]]}


async def test_paginate_limit_above_max_and_skip(paginated, people) -> None:
    page = await paginated.find({"query": {"$skip": 1, "$limit": 4, "$sort": {"name": -1}}})
    assert (page["total"], page["limit"], page["skip"], names(page["data"])) == (3, 2, 1, ["Bob", "Alice"])


async def test_paginate_limit_zero_counts(paginated, people) -> None:
    assert await paginated.find({"query": {"$limit": 0}}) == {"total": 3, "limit": 0, "skip": 0, "data": []}
    assert await paginated.find({"query": {"$limit": 0, "$skip": 2, "age": {"$gt": 20}}}) == {
        "total": 2, "limit": 0, "skip": 2, "data": []}


async def test_paginate_params(paginated, people) -> None:
    page = await paginated.find({"paginate": {"default": 3}})
    assert (page["limit"], len(page["data"])) == (3, 3)
    assert len(await paginated.find({"paginate": False})) == 3


async def test_paginate_negative_limit_falls_back_to_default(paginated, people) -> None:
    page = await paginated.find({"query": {"$limit": -1}})
    assert (page["limit"], len(page["data"])) == (1, 1)


async def test_paginate_empty_dict_pages_without_limit(paginated, people) -> None:
    paginated.options["paginate"] = {}
    assert await paginated.find({"query": {"$sort": {"age": 1}, "$select": ["age"]}}) == {
        "total": 3, "skip": 0, "data": [{"id": people[n]["id"], "age": people[n]["age"]} for n in ("Alice", "Bob", "Doug")]}


async def test_paginate_max_without_default_uses_max(paginated, people) -> None:
    paginated.options["paginate"] = {"max": 2}
    page = await paginated.find()
    assert (page["total"], page["limit"], len(page["data"])) == (3, 2, 2)


async def test_no_pagination_negative_limit_is_no_limit(service, people) -> None:
    assert len(await service.find({"query": {"$limit": -1}})) == 3


# -- $select on every method -----------------------------------------------------------------


async def test_select_string_is_one_field(service, people) -> None:
    found = await service.find({"query": {"$select": "name", "name": "Bob"}})
    assert found == [{"id": people["Bob"]["id"], "name": "Bob"}]


async def test_select_on_multi_methods(service) -> None:
    service.options["multi"] = True
    select = {"$select": ["name"]}
    created = await service.create([{"name": "A", "age": 1}, {"name": "B", "age": 2}], {"query": select})
    assert [set(record) for record in created] == [{"id", "name"}, {"id", "name"}]
    patched = await service.patch(None, {"age": 3}, {"query": {**select, "age": {"$gt": 0}}})
    assert [set(record) for record in patched] == [{"id", "name"}, {"id", "name"}]
    removed = await service.remove(None, {"query": {"$select": ["age", "missing"]}})
    assert sorted(record["age"] for record in removed) == [3, 3]
    assert all(set(record) == {"id", "age"} for record in removed)


# -- Typed values ----------------------------------------------------------------------------

T0 = datetime(2024, 3, 13, 17, 21, 50, 123000, tzinfo=UTC)


@pytest.mark.deviation("mongodb", reason="nx-27017 compares datetimes at one-second granularity")
async def test_datetimes_round_trip_and_compare(service) -> None:
    service.options["multi"] = True
    await service.create([{"name": f"t{n}", "at": T0 + timedelta(milliseconds=n)} for n in range(3)])
    got = await find_names(service, {"$sort": {"at": -1}})
    assert got == ["t2", "t1", "t0"]
    [first] = await service.find({"query": {"name": "t0"}})
    assert first["at"] == T0 and first["at"].utcoffset() == timedelta(0)
    assert await find_names(service, {"at": {"$lt": T0 + timedelta(milliseconds=1)}}) == ["t0"]
    assert await find_names(service, {"at": {"$gte": T0 + timedelta(milliseconds=1)}, "$sort": {"name": 1}}) == ["t1", "t2"]
    assert await find_names(service, {"at": T0 + timedelta(milliseconds=2)}) == ["t2"]


async def test_aware_datetimes_in_other_zones_compare_as_instants(service) -> None:
    plus_two = timezone(timedelta(hours=2))
    await service.create({"name": "local", "at": datetime(2024, 3, 13, 19, 21, 50, 123000, tzinfo=plus_two)})
    assert await find_names(service, {"at": T0}) == ["local"]
    assert await find_names(service, {"at": {"$gt": T0}}) == []


async def test_naive_datetimes_count_as_utc(service) -> None:
    await service.create({"name": "naive", "at": T0.replace(tzinfo=None)})
    [record] = await service.find()
    assert record["at"] == T0
    assert await find_names(service, {"at": {"$lte": T0.replace(tzinfo=None)}}) == ["naive"]


@pytest.mark.deviation("mongodb", reason="nx-27017 has no type bracketing: $gte 0 also matches strings, dates and booleans")
async def test_comparisons_never_cross_kinds(service) -> None:
    service.options["multi"] = True
    await service.create([{"name": "int", "v": 5}, {"name": "str", "v": "5"}, {"name": "date", "v": T0},
                          {"name": "bool", "v": True}, {"name": "null", "v": None}])
    assert await find_names(service, {"v": {"$gte": 0}}) == ["int"]
    assert await find_names(service, {"v": {"$gte": ""}}) == ["str"]
    assert await find_names(service, {"v": {"$lt": T0 + timedelta(days=1)}}) == ["date"]


@pytest.mark.deviation("mongodb", reason="nx-27017 equality treats true as 1")
async def test_booleans_are_not_numbers(service) -> None:
    service.options["multi"] = True
    await service.create([{"name": "true", "v": True}, {"name": "one", "v": 1},
                          {"name": "false", "v": False}, {"name": "zero", "v": 0}])
    assert await find_names(service, {"v": True}) == ["true"]
    assert await find_names(service, {"v": 1}) == ["one"]
    assert await find_names(service, {"v": False}) == ["false"]
    assert await find_names(service, {"v": 0}) == ["zero"]
    assert await find_names(service, {"v": {"$in": [True, 0]}, "$sort": {"name": 1}}) == ["true", "zero"]
    assert await find_names(service, {"v": {"$ne": 1}, "$sort": {"name": 1}}) == ["false", "true", "zero"]
    assert await find_names(service, {"v": {"$gt": 0}}) == ["one"]
    [record] = await service.find({"query": {"name": "true"}})
    assert record["v"] is True


async def test_ints_and_floats_compare_as_numbers(service) -> None:
    service.options["multi"] = True
    await service.create([{"name": "one", "v": 1}, {"name": "half", "v": 1.5}, {"name": "two", "v": 2.0}])
    assert await find_names(service, {"v": 2}) == ["two"]
    assert await find_names(service, {"v": 1.0}) == ["one"]
    assert await find_names(service, {"v": {"$gt": 1}, "$sort": {"v": 1}}) == ["half", "two"]
    assert await find_names(service, {"$sort": {"v": -1}}) == ["two", "half", "one"]


async def test_strings_are_not_numbers(service) -> None:
    service.options["multi"] = True
    await service.create([{"name": "number", "v": 19}, {"name": "string", "v": "19"}])
    assert await find_names(service, {"v": 19}) == ["number"]
    assert await find_names(service, {"v": "19"}) == ["string"]
    assert await find_names(service, {"v": {"$in": ["19"]}}) == ["string"]


@pytest.mark.deviation("mongodb", reason="nx-27017: {$ne: null} also returns records missing the field")
async def test_null_and_missing(service) -> None:
    service.options["multi"] = True
    null, missing, _ = await service.create([{"name": "null", "v": None}, {"name": "missing"}, {"name": "set", "v": 1}])
    assert (null, missing) == ({"id": null["id"], "name": "null", "v": None}, {"id": missing["id"], "name": "missing"})
    assert await find_names(service, {"v": None, "$sort": {"name": 1}}) == ["missing", "null"]
    assert await find_names(service, {"v": {"$ne": None}}) == ["set"]
    assert await find_names(service, {"v": {"$in": [None]}, "$sort": {"name": 1}}) == ["missing", "null"]
    assert await find_names(service, {"v": {"$nin": [None]}}) == ["set"]
    assert await find_names(service, {"v": {"$ne": 1}, "$sort": {"name": 1}}) == ["missing", "null"]
    assert await find_names(service, {"v": {"$lt": 5}}) == ["set"]
    assert await service.find({"query": {"name": {"$ne": "set"}, "$sort": {"name": 1}, "$select": ["v"]}}) == [
        {"id": missing["id"]}, {"id": null["id"], "v": None}]


@pytest.mark.deviation("mongodb", reason="nx-27017 raises an error on equality with a whole array")
async def test_list_fields_match_any_element(service) -> None:
    service.options["multi"] = True
    await service.create([{"name": "ab", "tags": ["a", "b"]}, {"name": "c", "tags": ["c"]}, {"name": "none", "tags": []}])
    assert await find_names(service, {"tags": "a"}) == ["ab"]
    assert await find_names(service, {"tags": {"$in": ["b", "c"]}, "$sort": {"name": 1}}) == ["ab", "c"]
    assert await find_names(service, {"tags": ["a", "b"]}) == ["ab"]
    assert await find_names(service, {"tags": {"$ne": "a"}, "$sort": {"name": 1}}) == ["c", "none"]


@pytest.mark.deviation("mongodb", reason="nx-27017 cannot compare embedded documents (plain or inside $in): it raises an error")
async def test_nested_values_compare_deeply(service) -> None:
    service.options["multi"] = True
    await service.create([{"name": "a", "meta": {"x": 1, "y": [1, 2]}}, {"name": "b", "meta": {"x": True, "y": [1, 2]}}])
    assert await find_names(service, {"meta": {"y": [1, 2], "x": 1}}) == ["a"]


async def test_dotted_keys_query_and_sort(service) -> None:
    service.options["multi"] = True
    await service.create([
        {"name": "a", "address": {"city": "Berlin", "zip": 3}},
        {"name": "b", "address": {"city": "Paris", "zip": 1}},
        {"name": "c", "address": {"city": "Berlin", "zip": 2}},
        {"name": "d"},
    ])
    assert await find_names(service, {"address.city": "Berlin", "$sort": {"address.zip": 1}}) == ["c", "a"]
    assert await find_names(service, {"address.zip": {"$gte": 2}, "$sort": {"address.zip": -1}}) == ["a", "c"]
    assert await find_names(service, {"$sort": {"address.zip": 1}}) == ["d", "b", "c", "a"]
    assert await find_names(service, {"address.city": None}) == ["d"]


# -- Sorting ---------------------------------------------------------------------------------


async def test_multi_key_sort(service) -> None:
    service.options["multi"] = True
    await service.create([
        {"name": "b1", "group": 1, "rank": "b"},
        {"name": "a2", "group": 2, "rank": "a"},
        {"name": "a1", "group": 1, "rank": "a"},
        {"name": "c2", "group": 2, "rank": "c"},
    ])
    assert await find_names(service, {"$sort": {"group": 1, "rank": -1}}) == ["b1", "a1", "c2", "a2"]
    assert await find_names(service, {"$sort": {"group": -1, "rank": 1}}) == ["a2", "c2", "a1", "b1"]


async def test_sort_is_stable(service) -> None:
    service.options["multi"] = True
    await service.create([{"name": f"n{n}", "group": n % 2} for n in range(6)])
    assert await find_names(service, {"$sort": {"group": 1}}) == ["n0", "n2", "n4", "n1", "n3", "n5"]
    assert await find_names(service, {"$sort": {"group": -1}}) == ["n1", "n3", "n5", "n0", "n2", "n4"]


BSON_SORT_ORDER = ("MongoDB sorts mixed kinds in BSON order (null = missing < numbers < strings < objects < arrays by element "
                   "< booleans < dates); matching ours needs an unindexable aggregation")


@pytest.mark.deviation("mongodb", reason=BSON_SORT_ORDER + "; nx-27017 has an order of its own too")
@pytest.mark.deviation("mongodb-url", reason=BSON_SORT_ORDER)
async def test_cross_type_sort_order(service) -> None:
    service.options["multi"] = True
    values = {"missing": ..., "null": None, "number": 3, "string": "a", "boolean": False,
              "date": T0, "list": [1], "dict": {"x": 1}}
    shuffled = ["dict", "number", "missing", "date", "string", "list", "null", "boolean"]
    await service.create([{"name": n} if values[n] is ... else {"name": n, "v": values[n]} for n in shuffled])
    expected = list(values)
    assert await find_names(service, {"$sort": {"v": 1}}) == expected
    assert await find_names(service, {"$sort": {"v": -1}}) == expected[::-1]


# -- Unique indexes --------------------------------------------------------------------------


@pytest.mark.deviation("mongodb", reason="nx-27017 findAndModify ignores unique indexes: a duplicate is stored or reported as "
                                          "no match, never as a duplicate key")
async def test_unique_index_conflicts(make_service) -> None:
    service = await make_service(multi=True, indexes=[Index(("email",), unique=True), "name"])
    alice = await service.create({"name": "Alice", "email": "a@example.com"})
    bob = await service.create({"name": "Bob", "email": "b@example.com"})
    await service.create([{"name": "No email"}, {"name": "Null email", "email": None}, {"name": "No email 2"}])

    attempts = [
        lambda: service.create({"name": "Copy", "email": "a@example.com"}),
        lambda: service.update(bob["id"], {"name": "Bob", "email": "a@example.com"}),
        lambda: service.patch(bob["id"], {"email": "a@example.com"}),
        lambda: service.patch(None, {"email": "same@example.com"}, {"query": {"name": {"$in": ["Alice", "Bob"]}}}),
        lambda: service.create([{"name": "X", "email": "x@example.com"}, {"name": "Y", "email": "x@example.com"}]),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict) as caught:
            await attempt()
        assert caught.value.code == 409
    assert await find_names(service, {"email": {"$ne": None}, "$sort": {"name": 1}}) == ["Alice", "Bob"]

    assert (await service.patch(alice["id"], {"email": "a@example.com", "age": 3}))["age"] == 3
    await service.remove(alice["id"])
    assert (await service.create({"name": "New Alice", "email": "a@example.com"}))["email"] == "a@example.com"


async def test_unique_compound_index(make_service) -> None:
    service = await make_service(indexes=[Index(("exchange", "symbol"), unique=True)])
    await service.create({"exchange": "kraken", "symbol": "BTC/EUR"})
    await service.create({"exchange": "binance", "symbol": "BTC/EUR"})
    await service.create({"exchange": "kraken", "symbol": "ETH/EUR"})
    with pytest.raises(Conflict):
        await service.create({"exchange": "kraken", "symbol": "BTC/EUR"})


@pytest.mark.deviation("mongodb", reason="nx-27017 unique indexes treat true and 1 as the same value")
async def test_unique_index_is_type_strict(make_service) -> None:
    service = await make_service(indexes=[Index(("code",), unique=True)])
    for code in (1, "1", True):
        await service.create({"code": code})
    assert len(await service.find()) == 3


# -- Copies ----------------------------------------------------------------------------------


async def test_results_are_copies(service) -> None:
    data = {"name": "Doug", "tags": ["a"], "address": {"city": "Berlin"}}
    created = await service.create(data)
    data["tags"].append("from-input")
    data["address"]["city"] = "from-input"
    created["tags"].append("from-create")
    for result in (await service.get(created["id"]), (await service.find())[0]):
        result["tags"].append("from-read")
        result["address"]["city"] = "from-read"
    extra = {"k": [1]}
    patched = await service.patch(created["id"], {"extra": extra})
    extra["k"].append("from-patch-input")
    patched["extra"]["k"].append("from-patch")
    assert await service.get(created["id"]) == {
        "id": created["id"], "name": "Doug", "tags": ["a"], "address": {"city": "Berlin"}, "extra": {"k": [1]}}

    replacement = {"name": "Dougler", "tags": ["b"]}
    updated = await service.update(created["id"], replacement)
    replacement["tags"].append("from-update-input")
    updated["tags"].append("from-update")
    assert await service.get(created["id"]) == {"id": created["id"], "name": "Dougler", "tags": ["b"]}


# -- Concurrency -----------------------------------------------------------------------------


async def test_concurrent_creates(service) -> None:
    created = await asyncio.gather(*(service.create({"name": f"n{n}", "n": n}) for n in range(50)))
    assert len({record["id"] for record in created}) == 50
    assert sorted(record["n"] for record in await service.find()) == list(range(50))


async def test_concurrent_patches_of_one_record_lose_nothing(service, doug) -> None:
    await asyncio.gather(*(service.patch(doug["id"], {f"k{n}": n}) for n in range(50)))
    record = await service.get(doug["id"])
    assert {key: value for key, value in record.items() if key.startswith("k")} == {f"k{n}": n for n in range(50)}
    assert (record["name"], record["age"]) == ("Doug", 32)


# -- Large queries ---------------------------------------------------------------------------


async def test_in_with_500_values(service) -> None:
    await service.create([{"name": f"n{n}", "n": n} for n in range(300)], {"adapter": {"multi": True}})
    wanted = list(range(0, 1000, 2))
    assert len(wanted) == 500
    found = await service.find({"query": {"n": {"$in": wanted}, "$select": ["n"]}})
    assert sorted(record["n"] for record in found) == list(range(0, 300, 2))
    assert len(await service.find({"query": {"n": {"$nin": wanted}}})) == 150

"""Schemas over REST and Socket.IO, on the memory and SQLite adapters (the sample app)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from schema_sample import PATHS, SEED, build_app, seed

HIDDEN = "password"


@pytest.fixture
async def app() -> Any:
    return build_app()


@pytest.fixture
async def client(serve: Any, app: Any) -> Any:
    http = await serve(app)
    await seed(app)
    return http


@pytest.fixture
async def socket(sockets: Any, client: Any) -> Any:
    return await sockets(client)


def bad_request(errors: Any) -> dict[str, Any]:
    return {"name": "BadRequest", "message": "validation failed", "code": 400, "className": "bad-request",
            "errors": errors}


async def rest_find(client: Any, path: str, query_string: str) -> tuple[int, Any]:
    response = await client.get(f"/{path}?{query_string}")
    return response.status, await response.json()


# -- each schema kind over REST ---------------------------------------------------------------

@pytest.mark.parametrize("path", PATHS)
async def test_rest_create_with_invalid_data_is_400_and_writes_nothing(client: Any, path: str) -> None:
    response = await client.post(f"/{path}", json={"name": "", "count": "many", "email": "nope", "type": "z"})
    assert response.status == 400
    assert await response.json() == bad_request({
        "name": ["Length must be between 1 and 100."], "count": ["Not a valid integer."],
        "email": ["Not a valid email address."], "type": ["Must be one of: a, b, c."]})
    status, page = await rest_find(client, path, "$limit=0")
    assert (status, page["total"]) == (200, len(SEED))


@pytest.mark.parametrize("path", PATHS)
async def test_rest_create_refuses_server_fields(client: Any, path: str) -> None:
    response = await client.post(f"/{path}", json={"name": "x", "_id": "mine", "createdAt": "2020-01-01"})
    assert response.status == 400
    assert set((await response.json())["errors"]) == {"_id", "createdAt"}


@pytest.mark.parametrize("path", PATHS)
async def test_rest_patch_with_invalid_data_is_400_and_changes_nothing(client: Any, path: str) -> None:
    response = await client.patch(f"/{path}/i1", json={"count": -1, "userId": "u2"})
    assert response.status == 400
    assert await response.json() == bad_request({
        "count": ["Must be greater than or equal to 0 and less than or equal to 1000000."],
        "userId": ["Set by the server; clients can not write it."]})
    record = await (await client.get(f"/{path}/i1")).json()
    assert record["count"] == 1


@pytest.mark.parametrize("path", PATHS)
async def test_rest_query_on_a_hidden_field_or_with_a_forbidden_operator_is_400(client: Any, path: str) -> None:
    assert await rest_find(client, path, "password=hidden-1") == (400, bad_request({"password": ["Unknown field."]}))
    assert await rest_find(client, path, "name[$regex]=a") == (
        400, bad_request({"name": {"$regex": ["Operator not allowed."]}}))
    assert await rest_find(client, path, "$sort[password]=1") == (
        400, bad_request({"$sort": {"password": ["Unknown field."]}}))
    response = await client.get(f"/{path}/i1?password=hidden-1")
    assert response.status == 400


@pytest.mark.parametrize("path", PATHS)
async def test_rest_results_are_shaped_by_the_result_schema(client: Any, path: str) -> None:
    response = await client.post(f"/{path}", json={"name": "fig", "type": "a", "password": "secret-pw"})
    created = await response.json()
    assert response.status == 201
    assert HIDDEN not in created and created["label"] == "fig (a)"
    assert created["createdAt"].endswith("Z") and created["updatedAt"] == created["createdAt"]
    status, page = await rest_find(client, path, "$sort[name]=1")
    assert status == 200 and all(HIDDEN not in record and "label" in record for record in page["data"])
    record = await (await client.get(f"/{path}/i1")).json()
    assert record == {"_id": "i1", "name": "apple", "count": 1, "price": 0.5, "active": True, "type": "a",
                      "tags": ["fruit", "red"], "createdAt": "2023-12-31T23:00:00.000Z",
                      "updatedAt": "2023-12-31T23:00:00.000Z", "label": "apple (a)"}


# -- typed filtering over REST: the same records on both adapters ---------------------------------

FILTERS = [
    ("active=true", ["i1", "i3", "i4"]),
    ("active=false", ["i2", "i5"]),
    ("count=10", ["i2"]),
    ("count[$gt]=9", ["i2", "i3"]),
    ("count[$gte]=9&count[$lt]=100", ["i2", "i4"]),
    ("count[$ne]=1", ["i2", "i3", "i4", "i5"]),
    ("price[$lte]=1.25", ["i1", "i2"]),
    ("createdAt[$gte]=2024-01-01", ["i2", "i3", "i4", "i5"]),
    ("createdAt[$lt]=2024-01-01", ["i1"]),
    ("createdAt[$gte]=2024-01-01T00:00:00%2B01:00&createdAt[$lt]=2024-02-01", ["i1", "i2", "i3"]),
    ("createdAt=2024-02-01T00:00:00.000Z", ["i4"]),
    ("type[$in][]=a&type[$in][]=c", ["i1", "i3", "i4"]),
    ("type[$in][]=b", ["i2", "i5"]),
    ("type[$in]=b", ["i2", "i5"]),
    ("type[$nin][]=a", ["i2", "i3", "i5"]),
    ("tags=red", ["i1", "i3"]),
    ("tags[$in][]=fruit", ["i1", "i2"]),
    ("$or[0][count][$lt]=1&$or[1][type]=c", ["i3", "i5"]),
    ("$and[0][active]=true&$and[1][createdAt][$gte]=2024-01-01", ["i3", "i4"]),
    ("$sort[price]=-1&price[$gt]=0", ["i3", "i4", "i2", "i1"]),
    ("$sort[createdAt]=-1&$limit=2", ["i5", "i4"]),
    ("$sort[count]=1&$skip=1&$limit=2", ["i1", "i4"]),
]


@pytest.mark.parametrize(("query_string", "expected"), FILTERS)
async def test_typed_filtering_returns_the_same_records_on_both_adapters(
        client: Any, query_string: str, expected: list[str]) -> None:
    pages = []
    for path in PATHS:
        status, page = await rest_find(client, path, query_string)
        assert status == 200, page
        ids = [record["_id"] for record in page["data"]]
        if "$sort" not in query_string:
            ids.sort()
        assert ids == expected, path
        pages.append(page)
    assert pages[0] == pages[1]


async def test_in_with_hundreds_of_values_over_rest(client: Any) -> None:
    ids = [f"x{n}" for n in range(500)] + ["i3", "i1"]
    query_string = "&".join(f"_id[$in][]={quote(value)}" for value in ids) + "&$sort[_id]=1"
    for path in PATHS:
        status, page = await rest_find(client, path, query_string)
        assert status == 200
        assert [record["_id"] for record in page["data"]] == ["i1", "i3"]


async def test_select_over_rest(client: Any) -> None:
    for path in PATHS:
        status, page = await rest_find(client, path, "$select[]=name&_id=i2")
        assert (status, page["data"]) == (200, [{"_id": "i2", "name": "banana", "label": "banana (-)"}])
        status, page = await rest_find(client, path, "$select=count&_id=i2")
        assert page["data"] == [{"_id": "i2", "count": 10, "label": "? (-)"}]


# -- the same over Socket.IO --------------------------------------------------------------------

@pytest.mark.parametrize("path", PATHS)
async def test_socket_validation_errors_for_each_schema_kind(socket: Any, path: str) -> None:
    assert await socket.call("create", path, {"name": "x", "count": "many"}, {}) == bad_request(
        {"count": ["Not a valid integer."]})
    assert await socket.call("create", path, {"name": "x", "_id": "mine"}, {}) == bad_request(
        {"_id": ["Set by the server; clients can not write it."]})
    assert await socket.call("patch", path, "i1", {"email": "nope"}, {}) == bad_request(
        {"email": ["Not a valid email address."]})
    assert await socket.call("find", path, {"password": "hidden-1"}) == bad_request({"password": ["Unknown field."]})
    assert await socket.call("find", path, {"count": {"$regex": "1"}}) == bad_request(
        {"count": {"$regex": ["Operator not allowed."]}})
    assert await socket.call("find", path, {"$limit": -1}) == bad_request({"$limit": ["Must be a non-negative integer."]})
    error, page = await socket.call("find", path, {"$limit": 0})
    assert error is None and page["total"] == len(SEED)


@pytest.mark.parametrize("path", PATHS)
async def test_socket_queries_with_json_types_match_rest_strings(client: Any, socket: Any, path: str) -> None:
    typed = {"active": True, "count": {"$gte": 1}, "createdAt": {"$gte": "2024-01-01T00:00:00Z"},
             "type": {"$in": ["a", "c"]}, "$sort": {"count": -1}}
    error, page = await socket.call("find", path, typed)
    assert error is None
    status, over_rest = await rest_find(
        client, path, "active=true&count[$gte]=1&createdAt[$gte]=2024-01-01&type[$in][]=a&type[$in][]=c&$sort[count]=-1")
    assert status == 200 and page == over_rest
    assert [record["_id"] for record in page["data"]] == ["i3", "i4"]


@pytest.mark.parametrize("path", PATHS)
async def test_socket_results_and_pushed_events_carry_the_resolved_shape(
        app: Any, socket: Any, sockets: Any, client: Any, settled: Any, path: str) -> None:
    app.on("connection", lambda connection: app.channel("everyone").join(connection))
    app.publish(lambda data, context: app.channel("everyone"))
    listener = await sockets(client)
    error, created = await socket.call("create", path, {"name": "kiwi", "type": "b", "password": "secret-pw"}, {})
    assert error is None and HIDDEN not in created and created["label"] == "kiwi (b)"
    response = await client.patch(f"/{path}/i1", json={"name": "apricot"})
    assert response.status == 200
    await settled(app, listener)
    events = [(name, args[0]) for name, args in listener.received if name.startswith(path)]
    assert [name for name, _ in events] == [f"{path} created", f"{path} patched"]
    assert events[0][1] == created
    assert HIDDEN not in events[1][1] and events[1][1]["label"] == "apricot (a)"
    stored = await app.service(path).get("i1")
    assert stored[HIDDEN] == "hidden-1"


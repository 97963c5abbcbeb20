"""MemoryService behaviour beyond the conformance suite: the store, auto ids, id types."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cryptorobot.adapters import Index, MemoryService
from cryptorobot.errors import BadRequest, Conflict, NotFound


async def test_store_is_keyed_by_str_id_and_ids_keep_their_type() -> None:
    service = MemoryService()
    created = await service.create({"name": "Doug"})
    assert created == {"name": "Doug", "id": 0}
    assert list(service.store) == ["0"]
    assert await service.get("0") == created
    assert await service.update("0", {"id": "0", "name": "Dougler"}) == {"id": 0, "name": "Dougler"}
    assert await service.patch("0", {"age": 3}) == {"id": 0, "name": "Dougler", "age": 3}
    with pytest.raises(NotFound) as caught:
        await service.get("0", {"query": {"name": "other"}})
    assert caught.value.message == "No record found for id '0'"
    assert await service.remove("0") == {"id": 0, "name": "Dougler", "age": 3}
    assert service.store == {}


async def test_auto_ids_start_at_start_id_and_skip_taken_keys() -> None:
    service = MemoryService(start_id=5, multi=True)
    await service.create({"id": 6, "name": "taken"})
    created = await service.create([{"name": "a"}, {"name": "b"}, {"id": 0, "name": "falsy id"}, {"id": "x", "name": "c"}])
    assert [record["id"] for record in created] == [5, 7, 8, "x"]
    assert service.options["start_id"] == 5


async def test_a_shared_store_is_one_collection() -> None:
    store: dict = {}
    first, second = MemoryService(store=store), MemoryService(store=store)
    a = await first.create({"name": "a"})
    b = await second.create({"name": "b"})
    assert (a["id"], b["id"]) == (0, 1)
    assert await second.get(a["id"]) == a
    assert [r["name"] for r in await first.find()] == ["a", "b"]
    assert first.options["store"] is store


async def test_a_seeded_store_is_used_as_it_is() -> None:
    service = MemoryService(store={"7": {"id": 7, "name": "seed"}}, indexes=[Index(("name",), unique=True)])
    assert await service.get(7) == {"id": 7, "name": "seed"}
    with pytest.raises(Conflict):
        await service.create({"name": "seed"})


async def test_unique_index_ignores_records_removed_through_another_service() -> None:
    store: dict = {}
    indexed = MemoryService(store=store, indexes=[Index(("email",), unique=True)])
    plain = MemoryService(store=store)
    record = await indexed.create({"email": "a@example.com"})
    await plain.remove(record["id"])
    assert (await indexed.create({"email": "a@example.com"}))["email"] == "a@example.com"


async def test_failed_batch_stores_nothing() -> None:
    service = MemoryService(multi=True, indexes=[Index(("email",), unique=True)])
    with pytest.raises(Conflict):
        await service.create([{"email": "a"}, {"email": "b"}, {"email": "a"}])
    assert service.store == {}


async def test_find_without_sort_keeps_insertion_order() -> None:
    service = MemoryService(multi=True)
    await service.create([{"id": "b"}, {"id": "a"}, {"id": 3}])
    await service.update("b", {"name": "updated"})
    assert [record["id"] for record in await service.find()] == ["b", "a", 3]


async def test_naive_datetimes_are_stored_as_utc() -> None:
    service = MemoryService()
    created = await service.create({"at": datetime(2024, 1, 2, 3, 4, 5, 678000)})
    assert created["at"] == datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert service.store[str(created["id"])]["at"].tzinfo is UTC


async def test_stored_records_are_not_the_results() -> None:
    service = MemoryService()
    created = await service.create({"tags": ["a"]})
    stored = service.store[str(created["id"])]
    assert stored == created and stored is not created and stored["tags"] is not created["tags"]


async def test_allowed_but_unsupported_operator_is_a_bad_request() -> None:
    service = MemoryService(operators=["$like"])
    await service.create({"name": "Doug"})
    with pytest.raises(BadRequest) as caught:
        await service.find({"query": {"name": {"$like": "D%"}}})
    assert caught.value.message == "Operator $like is not supported by this adapter"

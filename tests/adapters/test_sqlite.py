"""SQLite-only behaviour: the planner, the file on disk, ids, safety and the thread model.

What every adapter shares is in test_conformance.py; here is what only a file can show.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cryptorobot.adapters import Index, SqliteService
from cryptorobot.adapters.matching import compile_query
from cryptorobot.adapters.sorting import sort_records
from cryptorobot.adapters.sqlite.codec import decode, encode
from cryptorobot.adapters.sqlite.sql import Compiler, order_by
from cryptorobot.errors import BadRequest, Conflict, GeneralError, NotFound, Unavailable

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def open_service(tmp_path: Path):
    """`await open_service(**options)`: a set-up service on tmp_path/db.sqlite3 (path
    overridable); every one still open is torn down at the end."""
    services: list[SqliteService] = []

    async def make(name: str = "items", **options: Any) -> SqliteService:
        options.setdefault("path", str(tmp_path / "db.sqlite3"))
        service = SqliteService(**options)
        await service.setup(None, name)
        services.append(service)
        return service

    yield make
    for service in services:
        await service.teardown()


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def our_indexes(path: Path, table: str) -> set[str]:
    with raw(path) as connection:
        return {name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name=? AND name LIKE 'crx%'", (table,))}


# -- the planner uses the declared indexes ---------------------------------------------------


async def test_indexed_equality_sort_limit_uses_the_index(open_service) -> None:
    service = await open_service(indexes=[Index(("status", "createdAt"))], multi=True)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    await service.create([{"status": f"s{n % 5}", "createdAt": start + timedelta(minutes=n)} for n in range(500)])
    query = {"status": "s3", "$sort": {"createdAt": -1}, "$limit": 10}

    plan = await service.query_plan({"query": query})
    assert any("USING INDEX crx_items_" in line for line in plan), plan
    assert not any(line.startswith("SCAN") for line in plan), plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan  # at most the tie-break within equal dates

    found = await service.find({"query": query})
    assert [r["createdAt"] for r in found] == [start + timedelta(minutes=n) for n in range(498, 448, -5)]


@pytest.mark.parametrize("query", [
    {"score": {"$gt": 3}, "$sort": {"score": -1}, "$limit": 10},
    {"score": {"$gte": 3, "$lt": 9}, "$sort": {"score": 1}},
    {"score": {"$in": [1, 2, 3]}, "$sort": {"score": 1}},
    {"$sort": {"score": 1}, "$limit": 5},
])
async def test_ranges_and_sorts_on_an_indexed_field_use_the_index(open_service, query) -> None:
    service = await open_service(indexes=["score"])
    plan = await service.query_plan({"query": query})
    assert any("USING INDEX crx_items_" in line for line in plan), plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan  # the index gives the order


async def test_a_list_in_an_indexed_field_keeps_matching_elements(open_service, tmp_path) -> None:
    service = await open_service(indexes=["tag"])
    await service.create({"name": "plain", "tag": "a"})
    assert await service.find({"query": {"tag": "b"}}) == []
    await service.create({"name": "listed", "tag": ["b", "c"]})
    assert [r["name"] for r in await service.find({"query": {"tag": "b"}})] == ["listed"]
    await service.teardown()
    reopened = await open_service(indexes=["tag"])  # the list is found in the data again
    assert [r["name"] for r in await reopened.find({"query": {"tag": {"$in": ["c", "a"]}}})] == ["plain", "listed"]


# -- the file ----------------------------------------------------------------------------------


async def test_data_survives_close_and_reopen(open_service) -> None:
    service = await open_service(multi=True)
    at = datetime(2024, 3, 13, 17, 21, 50, 123000, tzinfo=UTC)
    created = await service.create([{"name": "a", "at": at, "n": 1.5, "ok": True, "none": None, "tags": ["x"]},
                                    {"id": 7, "name": "b"}])
    await service.teardown()
    reopened = await open_service()
    assert await reopened.find() == created
    assert await reopened.get("7") == {"id": 7, "name": "b"}


async def test_services_share_a_file_one_table_each(open_service, tmp_path) -> None:
    users = await open_service("users")
    messages = await open_service("api/messages")
    await users.create({"name": "u"})
    await messages.create({"text": "m"})
    assert [r["name"] for r in await users.find()] == ["u"]
    assert [r["text"] for r in await messages.find()] == ["m"]
    assert users._database is messages._database  # one writer for the file
    with raw(tmp_path / "db.sqlite3") as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"users", "api_messages"} <= tables
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_index_changes_apply_at_start_up_and_keep_rows(open_service, tmp_path) -> None:
    path = tmp_path / "db.sqlite3"
    service = await open_service(multi=True)
    await service.create([{"name": f"n{n}", "email": f"{n}@x"} for n in range(20)])
    await service.teardown()
    with raw(path) as connection:  # an index made by hand is never touched
        connection.execute("CREATE INDEX by_hand ON items (doc)")

    service = await open_service(indexes=["name", Index(("email",), unique=True)])
    assert len(our_indexes(path, "items")) == 2
    assert len(await service.find()) == 20
    assert "USING INDEX" in " ".join(await service.query_plan({"query": {"name": "n3"}}))
    await service.teardown()

    service = await open_service(indexes=["name"])
    assert len(our_indexes(path, "items")) == 1
    assert len(await service.find()) == 20
    await service.create({"name": "dup", "email": "3@x"})  # no longer unique
    with raw(path) as connection:
        assert connection.execute("SELECT count(*) FROM sqlite_master WHERE name='by_hand'").fetchone()[0] == 1


async def test_a_unique_index_over_duplicates_fails_start_up_and_keeps_rows(open_service) -> None:
    service = await open_service(multi=True)
    await service.create([{"email": "same"}, {"email": "same"}])
    await service.teardown()
    with pytest.raises(Conflict):
        await open_service(indexes=[Index(("email",), unique=True)])
    assert len(await (await open_service()).find()) == 2


async def test_unique_conflict_names_the_fields_not_the_value(open_service) -> None:
    service = await open_service(indexes=[Index(("apiKey",), unique=True)])
    await service.create({"apiKey": "s3cr3t-value"})
    with pytest.raises(Conflict) as caught:
        await service.create({"apiKey": "s3cr3t-value"})
    assert "apiKey" in caught.value.message
    assert "s3cr3t" not in json.dumps(caught.value.to_json())


async def test_create_with_an_existing_id_conflicts(open_service) -> None:
    service = await open_service()
    await service.create({"id": "a", "v": 1})
    with pytest.raises(Conflict):
        await service.create({"id": "a", "v": 2})
    assert await service.get("a") == {"id": "a", "v": 1}


async def test_multi_record_writes_are_all_or_nothing(open_service) -> None:
    service = await open_service(multi=True, indexes=[Index(("k",), unique=True)])
    await service.create([{"k": 1}, {"k": 2}, {"k": 3}])
    with pytest.raises(Conflict):
        await service.create([{"k": 10}, {"k": 11}, {"k": 1}])
    with pytest.raises(Conflict):
        await service.patch(None, {"k": 5})
    with pytest.raises(BadRequest):
        await service.create([{"k": 20}, {"k": float("nan")}])
    assert sorted(r["k"] for r in await service.find()) == [1, 2, 3]


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    script = f"""
import asyncio, os, signal, sys
sys.path.insert(0, {str(ROOT)!r})
from cryptorobot.adapters import SqliteService
async def main():
    service = SqliteService(path={str(tmp_path / 'db.sqlite3')!r}, multi=True)
    await service.setup(None, "items")
    await service.create([{{"n": n}} for n in range(100)])
    for n in range(100, 150):
        await service.create({{"n": n}})
    print("acknowledged", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
asyncio.run(main())
"""
    process = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert process.returncode == -signal.SIGKILL, process.stderr
    assert "acknowledged" in process.stdout
    with raw(tmp_path / "db.sqlite3") as connection:
        assert connection.execute("SELECT count(*) FROM items").fetchone()[0] == 150


# -- ids ---------------------------------------------------------------------------------------


async def test_new_ids_are_object_id_strings_sortable_by_creation(open_service) -> None:
    service = await open_service(multi=True)
    made = [r["id"] for r in await service.create([{"n": n} for n in range(300)])]
    made += [(await service.create({"n": n}))["id"] for n in range(300, 400)]
    assert all(isinstance(id, str) and len(id) == 24 and int(id, 16) for id in made)
    assert made == sorted(made) and len(set(made)) == len(made)
    assert [r["n"] for r in await service.find({"query": {"$sort": {"id": 1}}})] == list(range(400))


async def test_supplied_ids_keep_their_type_and_match_their_string_form(open_service) -> None:
    service = await open_service()
    await service.create({"id": 1, "name": "one"})
    assert await service.get("1") == {"id": 1, "name": "one"}
    assert (await service.update("1", {"name": "uno"}))["id"] == 1
    assert (await service.patch(1, {"x": 2}))["id"] == 1
    assert await service.remove("1") == {"id": 1, "name": "uno", "x": 2}
    with pytest.raises(NotFound):
        await service.get(1)


# -- stored form -------------------------------------------------------------------------------


async def test_datetimes_are_tagged_epoch_milliseconds(open_service, tmp_path) -> None:
    service = await open_service()
    local = timezone(timedelta(hours=2))
    created = await service.create({"id": "d", "at": datetime(2024, 3, 13, 19, 21, 50, 123456, tzinfo=local)})
    assert created["at"] == datetime(2024, 3, 13, 17, 21, 50, 123000, tzinfo=UTC)
    assert created["at"].tzinfo == UTC
    with raw(tmp_path / "db.sqlite3") as connection:
        stored = connection.execute("SELECT doc FROM items WHERE pk='d'").fetchone()[0]
    assert json.loads(stored)["at"] == {"$date": 1710350510123}


@pytest.mark.parametrize("data", [{"$date": 5}, {"a": {"$date": 5, "b": 1}}, {"a": [{"$date": 1}]}])
async def test_the_date_tag_is_reserved(open_service, data) -> None:
    service = await open_service()
    with pytest.raises(BadRequest):
        await service.create(data)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), b"bytes", {1, 2}])
async def test_values_json_can_not_keep_are_refused(open_service, value) -> None:
    service = await open_service()
    with pytest.raises(BadRequest):
        await service.create({"v": value})


def test_codec_round_trip() -> None:
    value = {"a": [1, 1.5, "x", None, True, {"b": datetime(2020, 1, 1, tzinfo=UTC)}],
             "c": 'quote " and "$date"'}
    assert decode(encode(value)) == value


# -- safety ------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", [
    "a') OR 1=1 --", "a' OR '1'='1", "x'); DROP TABLE items; --", "a[0]", "*", "", "ключ",
])
async def test_field_names_never_reach_sql_as_code(open_service, tmp_path, field) -> None:
    service = await open_service(multi=True)
    await service.create([{"name": "secret"}, {field: 1, "name": "odd"}])
    assert [r["name"] for r in await service.find({"query": {field: 1}})] == ["odd"]
    assert [r["name"] for r in await service.find({"query": {field: {"$ne": 1}, "$sort": {field: -1}}})] == ["secret"]
    assert len(await service.find()) == 2


@pytest.mark.parametrize("field", ['a"b', 'a" OR 1 --', "a\\b", "a\x00b", "a\nb"])
async def test_field_names_sqlite_paths_can_not_hold_are_refused(open_service, field) -> None:
    service = await open_service()
    await service.create({"name": "x"})
    with pytest.raises(BadRequest):
        await service.find({"query": {field: 1}})
    with pytest.raises(BadRequest):
        await service.find({"query": {"$sort": {field: 1}}})


async def test_dotted_keys_are_nested_paths(open_service) -> None:
    service = await open_service(multi=True, indexes=["address.city"])
    await service.create([{"name": "a", "address": {"city": "Berlin"}}, {"name": "b", "address.city": "Berlin"}])
    assert [r["name"] for r in await service.find({"query": {"address.city": "Berlin"}})] == ["a"]


async def test_table_names_are_sanitised(open_service, tmp_path) -> None:
    service = await open_service('users"; DROP TABLE x; --')
    await service.create({"a": 1})
    with raw(tmp_path / "db.sqlite3") as connection:
        names = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert names == ["users___DROP_TABLE_x____"]


async def test_long_or_and_in_lists_stay_within_sqlite_limits(open_service) -> None:
    service = await open_service(multi=True)
    await service.create([{"n": n, "d": {"v": n}} for n in range(50)])
    assert len(await service.find({"query": {"$or": [{"n": n} for n in range(3000)]}})) == 50
    assert len(await service.find({"query": {"d": {"$in": [{"v": n} for n in range(2000)]}}})) == 50


# -- errors ------------------------------------------------------------------------------------


async def test_an_unopenable_file_is_unavailable(tmp_path) -> None:
    (tmp_path / "file").write_text("not a directory")
    service = SqliteService(path=str(tmp_path / "file" / "db.sqlite3"))
    with pytest.raises(Unavailable):
        await service.setup(None, "items")
    (tmp_path / "dir.sqlite3").mkdir()  # a directory where the file should be
    with pytest.raises(Unavailable):
        await SqliteService(path=str(tmp_path / "dir.sqlite3")).setup(None, "items")


async def test_database_errors_never_escape_raw(open_service, tmp_path) -> None:
    service = await open_service()
    await service.create({"a": 1})
    with raw(tmp_path / "db.sqlite3") as connection:
        connection.execute("DROP TABLE items")
    with pytest.raises((Unavailable, GeneralError)):
        await service.find()
    with pytest.raises((Unavailable, GeneralError)):
        await service.create({"a": 2})


# -- threads, locks and the event loop -------------------------------------------------------


async def test_a_writer_in_another_connection_is_waited_for(open_service, tmp_path) -> None:
    service = await open_service(busy_timeout=5)
    other = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock
    threading.Timer(0.3, lambda: other.execute("COMMIT")).start()
    began = time.perf_counter()
    await service.create({"a": 1})  # waits instead of "database is locked"
    assert time.perf_counter() - began >= 0.25
    other.close()


async def test_a_lock_held_past_the_busy_timeout_is_unavailable(open_service, tmp_path) -> None:
    service = await open_service(busy_timeout=0.1)
    other = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(Unavailable):
            await service.create({"a": 1})
    finally:
        other.execute("COMMIT")
    await service.create({"a": 2})


async def test_slow_queries_block_neither_the_loop_nor_lookups(open_service) -> None:
    service = await open_service(multi=True)
    doc = {"text": "x" * 2000}
    for _ in range(4):
        await service.create([dict(doc, n=n) for n in range(2500)])
    probe = await service.create({"probe": True})
    slow = [asyncio.ensure_future(service.find({"query": {"n": {"$gt": -1}, "text": {"$ne": "y"}, "$limit": 0},
                                                "paginate": {"default": 1}})) for _ in range(3)]
    await asyncio.sleep(0.01)
    lags = []
    while not all(task.done() for task in slow):
        began = time.perf_counter()
        await service.get(probe["id"])  # the lookup lane is not behind the scans
        await asyncio.sleep(0)
        lags.append(time.perf_counter() - began)
    assert [(await task)["total"] for task in slow] == [10000] * 3
    assert lags and max(lags) < 0.1, max(lags)


async def test_a_failing_write_in_a_group_commit_fails_alone(open_service) -> None:
    service = await open_service(indexes=[Index(("k",), unique=True)])
    results = await asyncio.gather(*(service.create({"k": n % 10}) for n in range(30)), return_exceptions=True)
    assert sum(isinstance(r, dict) for r in results) == 10
    assert all(isinstance(r, (dict, Conflict)) for r in results)
    assert sorted(r["k"] for r in await service.find()) == list(range(10))


async def test_in_memory_database() -> None:
    service = SqliteService(multi=True, paginate={"default": 2})
    await service.setup(None, "mem")
    await service.create([{"n": n} for n in range(5)])
    assert (await service.find({"query": {"n": {"$gte": 2}}}))["total"] == 3
    await service.teardown()


# -- SQL == memory, on random data and queries -------------------------------------------------

DAY = datetime(2024, 1, 1, tzinfo=UTC)


def _random_value(rnd: random.Random, depth: int = 0, scalars_only: bool = False) -> Any:
    roll = rnd.random()
    if not scalars_only and depth < 2 and roll < 0.15:
        return [_random_value(rnd, depth + 1) for _ in range(rnd.randint(0, 3))]
    if not scalars_only and depth < 2 and roll < 0.25:
        return {key: _random_value(rnd, depth + 1) for key in rnd.sample(["x", "y", "a"], rnd.randint(0, 2))}
    return rnd.choice([None, True, False, 0, 1, 1.0, 2, 2.5, -1, "", "a", "b", "1", "A",
                       DAY, DAY + timedelta(milliseconds=1), DAY - timedelta(days=1)])


def _random_query(rnd: random.Random, scalars_only: bool, depth: int = 0) -> dict[str, Any]:
    query: dict[str, Any] = {}
    for _ in range(rnd.randint(1, 2)):
        field = rnd.choice(["a", "b", "c", "a.x", "c.y", "missing"])
        op = rnd.choice([None, None, "$in", "$nin", "$lt", "$lte", "$gt", "$gte", "$ne"])
        if op is None:
            query[field] = _random_value(rnd, scalars_only=scalars_only)
        elif op in ("$in", "$nin"):
            query[field] = {op: [_random_value(rnd, scalars_only=scalars_only) for _ in range(rnd.randint(0, 3))]}
        else:
            query[field] = {op: _random_value(rnd, scalars_only=scalars_only)}
    if depth < 2 and rnd.random() < 0.2:
        query["$or"] = [_random_query(rnd, scalars_only, depth + 1) for _ in range(rnd.randint(1, 2))]
    if depth < 2 and rnd.random() < 0.1:
        query["$and"] = [_random_query(rnd, scalars_only, depth + 1) for _ in range(rnd.randint(1, 2))]
    return query


@pytest.mark.parametrize("scalars_only", [False, True])
@pytest.mark.parametrize("seed", [1, 2])
def test_sql_matches_the_memory_adapter(seed: int, scalars_only: bool) -> None:
    """Filtering agrees with the memory matcher on any data; sorting too where no list or dict
    is sorted (those order by their JSON text within their kind: a documented difference)."""
    rnd = random.Random(seed)
    records = [{"id": str(n), **{k: _random_value(rnd, scalars_only=scalars_only)
                                for k in "abc" if rnd.random() < 0.8}} for n in range(200)]
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, pk TEXT UNIQUE, doc TEXT)")
    connection.executemany("INSERT INTO t (pk, doc) VALUES (?, ?)", [(r["id"], encode(r)) for r in records])
    # With scalar data every field may take the list-free path (and pinned sorts).
    scalar = (lambda field: True) if scalars_only else (lambda field: False)
    for _ in range(600):
        query = _random_query(rnd, scalars_only)
        sort = {f: rnd.choice([1, -1]) for f in rnd.sample(["a", "b", "c", "a.x"], rnd.randint(0, 2))}
        compiler = Compiler(scalar)
        sql = f"SELECT pk FROM t WHERE {compiler.where(query)} {order_by(sort, compiler.pinned)}"
        got = [pk for (pk,) in connection.execute(sql, compiler.params)]
        expected = [r for r in records if compile_query(query)(r)]
        if scalars_only:
            sort_records(expected, sort)
            assert got == [r["id"] for r in expected], (query, sort)
        else:
            assert sorted(got, key=int) == [r["id"] for r in expected], query

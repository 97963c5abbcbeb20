"""SQLite adapter vs raw sqlite3 running the same statements, on one data set.

    .venv/bin/python bench/sqlite_adapter.py --records 100000

Measured (operations per second, higher is better):

* insert, batched: the adapter's `create(list)` of `--batch` records vs raw `executemany`
  of the same INSERT in one transaction per batch (raw encodes with `json.dumps` too);
* insert, single: `create(dict)` vs one INSERT + commit per record;
* get by id; indexed equality + sort + limit 10; count with an indexed filter; count with
  an unindexed range filter (a full scan).

The raw side runs the exact SQL the adapter generates (taken from `service.statements`),
synchronously on one connection, and decodes rows with `json.loads` so both sides end with
dicts. The adapter side runs `--concurrency` callers at once on one event loop, as a server
would; its figures include the hops to and from the database threads. The overhead column
is adapter time per operation over raw time per operation, minus one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptorobot.adapters import Index, SqliteService
from cryptorobot.adapters.sqlite.codec import encode
from cryptorobot.adapters.sqlite.ids import new_id
from cryptorobot.adapters.sqlite.schema import prepare

STATUSES = [f"status{i}" for i in range(10)]
START = datetime(2024, 1, 1, tzinfo=UTC)
INDEXES = (Index(("status", "createdAt")),)


def make_records(count: int, seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    return [{"id": new_id(), "name": f"user{i}", "status": rnd.choice(STATUSES),
             "createdAt": START + timedelta(seconds=i, milliseconds=rnd.randrange(1000)),
             "score": rnd.random(), "level": rnd.randrange(100), "active": rnd.random() < 0.5}
            for i in range(count)]


REPEAT = 3
"""Read figures are the best of this many runs: the machine may be shared and noisy."""


async def concurrently(total: int, concurrency: int, op: Callable[[int], Awaitable[Any]],
                       repeat: int | None = None) -> float:
    """Seconds to run op(0..total-1) with `concurrency` callers in flight (best of `repeat`)."""
    async def worker(start: int) -> None:
        for i in range(start, total, concurrency):
            await op(i)
    best = float("inf")
    for _ in range(repeat or REPEAT):
        began = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(concurrency)))
        best = min(best, time.perf_counter() - began)
    return best


def timed(total: int, op: Callable[[int], Any], repeat: int | None = None) -> float:
    """Seconds to run op(0..total-1) one after the other (best of `repeat`)."""
    best = float("inf")
    for _ in range(repeat or REPEAT):
        began = time.perf_counter()
        for i in range(total):
            op(i)
        best = min(best, time.perf_counter() - began)
    return best


class Raw:
    """Plain sqlite3 on its own file, with the adapter's schema and statements."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, cached_statements=512)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("BEGIN IMMEDIATE")
        prepare(self.db, "bench", INDEXES)
        self.db.execute("COMMIT")
        self.insert_sql = 'INSERT INTO "bench" (pk, doc) VALUES (?1, ?2)'

    def insert_batch(self, records: list[dict[str, Any]]) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.executemany(self.insert_sql, [(r["id"], json.dumps(r)) for r in records])
        self.db.execute("COMMIT")

    def insert_one(self, record: dict[str, Any]) -> None:
        self.db.execute(self.insert_sql, (record["id"], json.dumps(record)))

    def rows(self, statement: tuple[str, list[Any]]) -> list[dict[str, Any]]:
        return [json.loads(row[0]) for row in self.db.execute(*statement)]

    def scalar(self, statement: tuple[str, list[Any]]) -> Any:
        return self.db.execute(*statement).fetchone()[0]


def as_raw_json(record: dict[str, Any]) -> dict[str, Any]:
    """The record with datetimes already in the stored form, so raw json.dumps can take it."""
    return json.loads(encode(record))


def fresh_database_files(directory: str) -> tuple[str, str]:
    """The adapter's and the raw database's paths in `directory`, an earlier run's files removed."""
    adapter_file, raw_file = os.path.join(directory, "adapter.sqlite3"), os.path.join(directory, "raw.sqlite3")
    for name in (adapter_file, raw_file):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(name + suffix):
                os.remove(name + suffix)
    return adapter_file, raw_file


async def run(args: argparse.Namespace) -> list[tuple[str, float, float]]:
    adapter_file, raw_file = fresh_database_files(args.dir)
    records = make_records(args.records)
    raw_records = [as_raw_json(r) for r in records]
    singles = make_records(args.singles, seed=8)
    raw_singles = [as_raw_json(r) for r in singles]
    service = SqliteService(path=adapter_file, multi=True, indexes=INDEXES, readers=args.readers)
    await service.setup(None, "bench")
    raw = Raw(raw_file)
    results: list[tuple[str, float, float]] = []
    c = args.concurrency

    def add(name: str, count: int, adapter_seconds: float, raw_seconds: float) -> None:
        results.append((name, count / adapter_seconds, count / raw_seconds))
        print(f"  {name}: done", file=sys.stderr, flush=True)

    # Inserts: batched create(list) vs executemany per batch.
    batches = [records[i:i + args.batch] for i in range(0, len(records), args.batch)]
    raw_batches = [raw_records[i:i + args.batch] for i in range(0, len(raw_records), args.batch)]
    began = time.perf_counter()
    for batch in batches:
        await service.create(batch)
    adapter_seconds = time.perf_counter() - began
    add(f"insert, batches of {args.batch} (records/s)", len(records), adapter_seconds,
        timed(len(raw_batches), lambda i: raw.insert_batch(raw_batches[i]), repeat=1))

    add("insert, single create (records/s)", len(singles),
        await concurrently(len(singles), c, lambda i: service.create(singles[i]), repeat=1),
        timed(len(raw_singles), lambda i: raw.insert_one(raw_singles[i]), repeat=1))

    rnd = random.Random(1)
    ids = [rnd.choice(records)["id"] for _ in range(args.gets)]
    get_sql = ('SELECT doc FROM "bench" WHERE pk=?1', [])
    add("get by id (/s)", len(ids),
        await concurrently(len(ids), c, lambda i: service.get(ids[i])),
        timed(len(ids), lambda i: raw.rows((get_sql[0], [ids[i]]))))

    def query(i: int) -> dict[str, Any]:
        return {"status": STATUSES[i % len(STATUSES)], "$sort": {"createdAt": -1}, "$limit": 10}

    raw_queries = [(await service.statements({"query": query(i)}))[1] for i in range(len(STATUSES))]
    plan = await service.query_plan({"query": query(0)})
    add("indexed equality + sort + limit 10 (/s)", args.queries,
        await concurrently(args.queries, c, lambda i: service.find({"query": query(i)})),
        timed(args.queries, lambda i: raw.rows(raw_queries[i % len(STATUSES)])))

    paged = {"default": 10, "max": 100}

    def counted(q: dict[str, Any]) -> Callable[[int], Awaitable[Any]]:
        return lambda i: service.find({"query": {**q, "$limit": 0}, "paginate": paged})

    indexed = {"status": "status3"}
    count_indexed = (await service.statements({"query": {**indexed, "$limit": 0}, "paginate": paged}))[0]
    add("count, indexed filter (/s)", args.counts,
        await concurrently(args.counts, c, counted(indexed)),
        timed(args.counts, lambda i: raw.scalar(count_indexed)))

    scan = {"score": {"$gt": 0.5}, "active": True}
    count_scan = (await service.statements({"query": {**scan, "$limit": 0}, "paginate": paged}))[0]
    scans = max(3, args.counts // 50)
    add("count, unindexed filter (full scan) (/s)", scans,
        await concurrently(scans, min(c, 4), counted(scan)),
        timed(scans, lambda i: raw.scalar(count_scan)))

    await service.teardown()
    raw.db.close()
    print(f"plan of the indexed query: {' | '.join(plan)}")
    return results


def main() -> None:
    global REPEAT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000, help="records per create(list)")
    parser.add_argument("--singles", type=int, default=10_000, help="records inserted one by one")
    parser.add_argument("--gets", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--counts", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=REPEAT, help="read figures: best of this many runs")
    parser.add_argument("--dir", help="where the two database files go (default: a temp dir)")
    args = parser.parse_args()
    REPEAT = args.repeat
    if args.dir:
        results = asyncio.run(run(args))
    else:
        with tempfile.TemporaryDirectory(prefix="crbench-") as directory:
            args.dir = directory
            results = asyncio.run(run(args))
    print(f"\n{args.records} records, concurrency {args.concurrency}, readers {args.readers}, "
          f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}\n")
    print(f"{'operation':<44}{'adapter':>12}{'raw':>12}{'overhead':>10}")
    for name, adapter, raw in results:
        print(f"{name:<44}{adapter:>12,.0f}{raw:>12,.0f}{raw / adapter - 1:>10.0%}")


if __name__ == "__main__":
    main()

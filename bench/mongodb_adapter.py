"""MongoDB adapter vs raw PyMongo calls doing the same work, against one server in one run.

    .venv/bin/python bench/mongodb_adapter.py [--url mongodb://...] [--records 2000]
                                              [--ops 400] [--rounds 5] [--concurrency 1]

Without `--url` it starts nx-27017 on a free port with a temporary data directory (and
stops it at the end). Scenarios, each on its own collection of `--records` documents
(`symbol`, `at`, `price`, `size`; indexed on (symbol, at)):

* create:   `service.create(doc)` vs `insert_one(doc)`;
* get:      `service.get(hex_id)` vs `find_one({"_id": ObjectId})`;
* find:     `service.find({"query": {"symbol": s, "$sort": {"at": -1}, "$limit": 10}})` vs
            `find({"symbol": s}, sort=[("at", -1), ("_id", 1)], limit=10).to_list()`: the
            same command (the adapter adds `_id` as the last sort key for stable ties).

Both sides use the same client (the adapter is given it) and decode to aware UTC
datetimes; the adapter also converts ObjectIds to text, builds the filter from the
Feathers query and maps errors. Rounds alternate between the sides so drift hits both.
Reported per side: operations per second (median of the rounds) and the client process's
CPU time per operation; overhead = adapter / raw - 1, for time and for CPU.

With nx-27017 on the same machine, the server competes with the client for the CPUs, so
the client CPU figures move by +-10% between runs. The last column is steadier: the
adapter's own CPU per operation with the driver replaced by a stub that answers at once
with the documents the server answered (sanitising, filter building, ObjectId and
datetime decoding, the records), as a share of the raw call's client CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "adapters"))  # nx_server: the tests' server launcher

from bson import CodecOptions, ObjectId  # noqa: E402
from pymongo import AsyncMongoClient  # noqa: E402

from cryptorobot.adapters import Index, MongoService  # noqa: E402

SYMBOLS = [f"SYM{n}/EUR" for n in range(20)]
T0 = datetime(2024, 1, 1, tzinfo=UTC)
Op = Callable[[int], Awaitable[Any]]


def document(n: int) -> dict[str, Any]:
    return {"symbol": SYMBOLS[n % len(SYMBOLS)], "at": T0 + timedelta(seconds=n), "price": 100.0 + n % 97,
            "size": n % 13}


async def timed(op: Op, ops: int, concurrency: int) -> tuple[float, float]:
    """Run `ops` calls of `op(i)` with `concurrency` callers: (ops per second, CPU us per op)."""
    counter = iter(range(ops))

    async def caller() -> None:
        for i in counter:
            await op(i)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return ops / wall, cpu / ops * 1e6


async def run(args: argparse.Namespace, url: str) -> list[tuple[str, str, float, float, float | None]]:
    client = AsyncMongoClient(url)
    database = f"bench_{int(time.time())}"
    codec = CodecOptions(tz_aware=True, tzinfo=UTC)
    index = Index(("symbol", "at"))
    results: list[Any] = []
    try:
        # One collection per side and scenario, so both start from the same state.
        services = {name: MongoService(client=client, database=database, collection=f"adapter_{name}",
                                       indexes=[index]) for name in ("create", "read")}
        for service in services.values():
            await service.setup(None, "unused")
        raw = {name: client[database].get_collection(f"raw_{name}", codec_options=codec) for name in ("create", "read")}
        for collection in raw.values():
            await collection.create_index([("symbol", 1), ("at", 1)])

        seed = [document(n) for n in range(args.records)]
        created = await services["read"].create(seed, {"adapter": {"multi": True}})
        await raw["read"].insert_many([dict(doc) for doc in seed])
        adapter_ids = [record["_id"] for record in created]
        raw_ids = [doc["_id"] for doc in await raw["read"].find({}, {"_id": 1}).to_list(None)]
        rng = random.Random(7)
        order = [rng.randrange(args.records) for _ in range(args.ops)]

        adapter_read, raw_read = services["read"], raw["read"]
        scenarios: dict[str, tuple[Op, Op]] = {
            "create": (lambda i: services["create"].create(document(i)),
                       lambda i: raw["create"].insert_one(document(i))),
            "get": (lambda i: adapter_read.get(adapter_ids[order[i % len(order)]]),
                    lambda i: raw_read.find_one({"_id": raw_ids[order[i % len(order)]]})),
            "find": (lambda i: adapter_read.find({"query": {"symbol": SYMBOLS[order[i % len(order)] % len(SYMBOLS)],
                                                            "$sort": {"at": -1}, "$limit": 10}}),
                     lambda i: raw_read.find({"symbol": SYMBOLS[order[i % len(order)] % len(SYMBOLS)]},
                                             sort=[("at", -1), ("_id", 1)], limit=10).to_list(None)),
        }
        # Both sides must answer the same thing before they are timed.
        probe = await scenarios["find"][0](0)
        expected = await scenarios["find"][1](0)
        assert [r["at"] for r in probe] == [d["at"] for d in expected] and len(probe) == 10
        assert (await scenarios["get"][0](0))["at"] == (await scenarios["get"][1](0))["at"]

        for name, (adapter_op, raw_op) in scenarios.items():
            await adapter_op(0), await raw_op(0)  # warm up
            samples: dict[str, list[tuple[float, float]]] = {"adapter": [], "pymongo": []}
            for _ in range(args.rounds):
                samples["adapter"].append(await timed(adapter_op, args.ops, args.concurrency))
                samples["pymongo"].append(await timed(raw_op, args.ops, args.concurrency))
            for side, values in samples.items():
                results.append((name, side, statistics.median(v[0] for v in values),
                                statistics.median(v[1] for v in values)))
        stubbed = await adapter_only(services, scenarios, order, adapter_ids, args.ops * 5)
        results = [(name, side, rate, cpu, stubbed[name] if side == "adapter" else None)
                   for name, side, rate, cpu in results]
        for service in services.values():
            await service.teardown()
    finally:
        await client.drop_database(database)
        await client.close()
    return results


class _Cursor:
    def __init__(self, documents: list[Any]) -> None:
        self.documents = documents

    async def to_list(self, length: Any = None) -> list[Any]:
        return list(self.documents)


class _StubCollection:
    """Answers at once with documents the server gave (undecoded, as the driver hands them)."""

    def __init__(self, one: Any, many: list[Any]) -> None:
        self.one, self.many = one, many

    async def insert_one(self, document: Any) -> None:
        return None

    async def find_one(self, *args: Any, **kwargs: Any) -> Any:
        return self.one

    def find(self, *args: Any, **kwargs: Any) -> _Cursor:
        return _Cursor(self.many)


async def adapter_only(services: dict[str, MongoService], scenarios: dict[str, tuple[Op, Op]], order: list[int],
                       adapter_ids: list[str], ops: int) -> dict[str, float]:
    """The adapter's own CPU us per operation, the driver stubbed out (see the module doc)."""
    read = services["read"]
    real = {name: service.collection for name, service in services.items()}
    one = await read.collection.find_one({"_id": ObjectId(adapter_ids[order[0]])})
    many = await read.collection.find({"symbol": SYMBOLS[order[0] % len(SYMBOLS)]},
                                      sort=[("at", -1), ("_id", 1)], limit=10).to_list(None)
    try:
        for service in services.values():
            service.collection = _StubCollection(one, many)
        result = {}
        for name, (adapter_op, _) in scenarios.items():
            result[name] = statistics.median([(await timed(adapter_op, ops, 1))[1] for _ in range(5)])
        return result
    finally:
        for name, service in services.items():
            service.collection = real[name]


def report(results: list[tuple[str, str, float, float, float | None]]) -> None:
    print(f"{'scenario':<8} {'side':<8} {'ops/s':>7} {'client CPU us/op':>17} {'overhead: time':>15} {'CPU':>7}"
          f" {'adapter-only CPU us/op (share of raw CPU)':>42}")
    by_key = {(name, side): (rate, cpu) for name, side, rate, cpu, _ in results}
    for name, side, rate, cpu, own in results:
        extra = ""
        if side == "adapter":
            raw_rate, raw_cpu = by_key[(name, "pymongo")]
            extra = f"{raw_rate / rate - 1:>+15.1%} {cpu / raw_cpu - 1:>+7.1%} {own:>34.1f} ({own / raw_cpu:.1%})"
        print(f"{name:<8} {side:<8} {rate:>7.0f} {cpu:>17.0f} {extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a MongoDB server to use (default: start nx-27017)")
    parser.add_argument("--records", type=int, default=2000, help="documents in the read collections")
    parser.add_argument("--ops", type=int, default=400, help="operations per round and side")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per side (alternating)")
    parser.add_argument("--concurrency", type=int, default=1, help="callers at once")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        uvloop = None
    server = None
    if args.url is None:
        import nx_server

        server = nx_server.NxServer().start()
    url = args.url or server.url
    try:
        print(f"server: {'nx-27017 (started here)' if server else url}; records {args.records}, ops {args.ops} x "
              f"{args.rounds} rounds per side, concurrency {args.concurrency}, loop {'uvloop' if uvloop else 'asyncio'}")
        results = (uvloop.run if uvloop else asyncio.run)(run(args, url))
        report(results)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()

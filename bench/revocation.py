"""What checking tokens against ended sessions costs per request.

Two platform servers (`cryptorobot.platform.create_app`) with the same settings run side by
side, each in a process of its own; one checks every token against the revocation store
(as configured), the other has the check replaced by a no-op. This process logs a user in
on each and then loads both, one after the other in each round, with:

  rest-get    GET /users/:id with `Authorization: Bearer <token>`: JWT verification,
              the revocation check, the user's record, the owner restriction, the result
              schema (a typical authenticated call)
  socket-get  emit("get", "users", id) on sockets logged in with the token (every call
              checks the token again)

Stores (`--stores`): `memory` (storage = memory; the revocation table is a memory adapter),
`sqlite` (storage = sqlite; a table in the SQLite file), `redis` (storage = sqlite; keys in
Redis on 127.0.0.1:6379), `mongodb` (storage = mongodb on nx-27017; a collection there).

Columns: server CPU microseconds per request (the capacity figure, independent of the
client) and requests per second, medians over rounds, and the ratio checked/unchecked of
each (medians of per-round pairs).

    .venv/bin/python bench/revocation.py [--stores memory,sqlite,redis] [--rounds 5]
                                         [--seconds 3] [--concurrency 16] [--check-costs]

`--check-costs` also times `Revocations.check` alone, in this process, per store: from the
in-memory copy, from a SQLite query, from Redis with `MGET` (what a process does while its
copy is not in sync).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kernel

REPO = kernel.REPO
PASSWORD = "correct horse battery"
STORES = ("memory", "sqlite", "redis", "mongodb")
SIDES = ("checked", "unchecked")


class NoChecks:
    """Stands in for `Revocations.check` on the unchecked side."""

    @staticmethod
    async def check(payload: Any) -> None:
        return None


def settings_for(store: str, data_dir: str, mongodb_url: str | None) -> dict[str, Any]:
    from cryptorobot.config import load_config

    settings = load_config("production", environ={})
    authentication = {**settings["authentication"], "secret": "bench-secret-" * 4, "password_rounds": 4,
                      "revocation": {"store": "redis" if store == "redis" else "storage",
                                     "redis_url": "redis://127.0.0.1:6379/0"}}
    settings.update(data_dir=data_dir, authentication=authentication, logging={"level": "WARNING"},
                    storage={"memory": "memory", "mongodb": "mongodb"}.get(store, "sqlite"))
    if mongodb_url:
        settings["mongodb"] = {"url": mongodb_url, "database": f"bench-{Path(data_dir).name}"}
    return settings


def server_main(side: str, store: str, mongodb_url: str | None, control: Any) -> None:
    kernel.install_uvloop()
    asyncio.run(_serve(side, store, mongodb_url, control))


async def _serve(side: str, store: str, mongodb_url: str | None, control: Any) -> None:
    from cryptorobot.platform import create_app
    from cryptorobot.server import create_web_app

    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app(settings_for(store, data_dir, mongodb_url))
        if side == "unchecked":
            app.service("authentication").raw.revocations.check = NoChecks.check
        await kernel.serve_until_stopped(create_web_app(app), control)


def start_server(side: str, store: str, mongodb_url: str | None) -> kernel.Server:
    """One platform server process (kernel.Server's control protocol)."""
    return kernel.Server(f"{store}/{side}", 0, target=server_main, args=(side, store, mongodb_url))


async def member(server: kernel.Server) -> tuple[dict[str, Any], str]:
    """Sign up and log in on `server`: the user as the API shows it, and a token."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.post(f"{server.base}/users", json={"email": "bench@example.com", "password": PASSWORD}) as r:
            user = await r.json()
            assert r.status == 201, user
        async with session.post(f"{server.base}/authentication",
                                json={"strategy": "local", "email": "bench@example.com", "password": PASSWORD}) as r:
            login = await r.json()
            assert r.status == 201, login
    return user, login["accessToken"]


async def checked_calls(call: Callable[[], Awaitable[Any]], expected: Any, label: str, tally: kernel.Tally) -> None:
    """Loop `call()` while the tally runs; every answer must equal `expected`."""
    await checked_turns([(call, expected)], label, tally)


async def checked_turns(turns: list[tuple[Callable[[], Awaitable[Any]], Any]], label: str, tally: kernel.Tally) -> None:
    """Loop over `turns` (a call and what it must answer) while the tally runs."""
    index = 0
    while tally.running:
        call, expected = turns[index]
        index = (index + 1) % len(turns)
        try:
            answer = await call()
        except Exception as problem:  # a dead server must show up, not hang the run
            tally.fail(f"{label}: {problem!r}")
            await asyncio.sleep(0.01)
            continue
        if answer != expected:
            tally.fail(f"{label}: {str(answer)[:200]}")
        elif tally.counting:
            tally.done += 1


def rest_get(session: Any, url: str, token: str) -> Callable[[], Awaitable[Any]]:
    headers = {"Authorization": f"Bearer {token}"}

    async def call() -> tuple[int, Any]:
        async with session.get(url, headers=headers) as response:
            return response.status, await response.json()

    return call


def socket_get(client: Any, user: dict) -> Callable[[], Awaitable[Any]]:
    async def call() -> list[Any]:
        return list(await client.call("get", ("users", user["_id"]), timeout=10))

    return call


async def run(scenario: str, server: kernel.Server, user: dict, token: str, args: argparse.Namespace) -> kernel.Result:
    import aiohttp
    import socketio

    tally = kernel.Tally()
    if scenario == "rest-get":
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            url = f"{server.base}/users/{user['_id']}"
            workers = [checked_calls(rest_get(session, url, token), (200, user), f"GET {url}", tally)
                       for _ in range(args.concurrency)]
            return await kernel.measure(server, workers, tally, args.warmup, args.seconds)
    clients = [socketio.AsyncClient(reconnection=False) for _ in range(args.concurrency)]
    await asyncio.gather(*(client.connect(server.base, transports=["websocket"]) for client in clients))
    try:
        for client in clients:
            ack = await client.call("create", ("authentication", {"strategy": "jwt", "accessToken": token}, {}))
            assert ack[0] is None, ack
        workers = [checked_calls(socket_get(client, user), [None, user], "socket get", tally) for client in clients]
        return await kernel.measure(server, workers, tally, args.warmup, args.seconds)
    finally:
        await asyncio.gather(*(client.disconnect() for client in clients), return_exceptions=True)


async def benchmark(args: argparse.Namespace) -> bool:
    mongodb_url = None
    if "mongodb" in args.stores:
        sys.path.insert(0, str(REPO))
        from tests.adapters import nx_server

        mongodb_url = nx_server.shared().url
    valid = True
    print(f"{'store':<8} {'scenario':<10} {'checked us/req':>14} {'unchecked':>9} {'ratio':>6} | "
          f"{'checked req/s':>13} {'unchecked':>9} {'ratio':>6}")
    for store in args.stores:
        servers = {side: start_server(side, store, mongodb_url) for side in SIDES}
        try:
            logins = {side: await member(server) for side, server in servers.items()}
            for scenario in args.scenarios:
                results: dict[str, list[kernel.Result]] = {side: [] for side in SIDES}
                for round_number in range(args.rounds):
                    for side in SIDES if round_number % 2 == 0 else SIDES[::-1]:
                        user, token = logins[side]
                        results[side].append(await run(scenario, servers[side], user, token, args))
                valid &= all(not r.errors for side in SIDES for r in results[side])
                for side in SIDES:
                    for result in results[side]:
                        if result.errors:
                            print(f"  !! {store}/{side}: {result.errors} failed: {result.first_error}")
                cpu = [[r.server_us for r in results[side]] for side in SIDES]
                rps = [[r.rps for r in results[side]] for side in SIDES]
                print(f"{store:<8} {scenario:<10} {statistics.median(cpu[0]):14.1f} {statistics.median(cpu[1]):9.1f} "
                      f"{kernel.paired_ratio(cpu[0], cpu[1]):6.3f} | {statistics.median(rps[0]):13.0f} "
                      f"{statistics.median(rps[1]):9.0f} {kernel.paired_ratio(rps[0], rps[1]):6.3f}", flush=True)
        finally:
            for server in servers.values():
                server.stop()
    print(f"\nmedians of {args.rounds} rounds of {args.seconds:g} s; ratios checked/unchecked are medians of "
          "per-round pairs (us/req > 1: the check costs that much more CPU; req/s < 1: that much less throughput)")
    return valid


async def check_costs(calls: int = 2000, repeats: int = 7) -> None:
    """The check alone, in this process: microseconds per `Revocations.check` (best batch)."""
    from cryptorobot import ManualClock
    from cryptorobot.adapters import SqliteService
    from cryptorobot.auth.revocation import Revocations, token_id
    from cryptorobot.auth.revocation_stores import AdapterRevocationStore, MemoryRevocationStore, RedisRevocationStore

    clock = ManualClock()
    payload = {"sub": "1", "iat": int(clock.time()), "exp": int(clock.time()) + 86400, "jti": token_id(clock.now_ms())}
    with tempfile.TemporaryDirectory() as data_dir:
        redis_copy = RedisRevocationStore("redis://127.0.0.1:6379/0", clock, prefix="bench-revocation:")
        redis_direct = RedisRevocationStore("redis://127.0.0.1:6379/0", clock, prefix="bench-revocation:")
        stores = {
            "memory (copy)": MemoryRevocationStore(clock),
            "sqlite (copy)": AdapterRevocationStore(SqliteService(path=f"{data_dir}/db", id="_id", multi=["remove"]),
                                                    clock, shared=False),
            "sqlite (query)": AdapterRevocationStore(SqliteService(path=f"{data_dir}/db", id="_id", multi=["remove"]),
                                                     clock, shared=True),
            "redis (copy)": redis_copy,
            "redis (MGET)": redis_direct,
        }
        following = None
        for store in stores.values():
            await store.setup()
        following = asyncio.ensure_future(redis_copy.follow())
        await asyncio.wait_for(redis_copy.in_sync.wait(), 10)
        print("\nthe check alone, in-process (best of batches):")
        for name, store in stores.items():
            revocations = Revocations(store, clock, 86400)
            await revocations.end_subject("someone else")
            best = float("inf")
            for _ in range(repeats):
                started = time.perf_counter()
                for _ in range(calls):
                    await revocations.check(payload)
                best = min(best, (time.perf_counter() - started) / calls * 1e6)
            print(f"  {name:<15} {best:7.1f} us per check")
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        for store in stores.values():
            await store.close()


def paired_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of a paired platform benchmark: scenarios, rounds, seconds, warm-up, concurrency."""
    parser.add_argument("--scenarios", default="rest-get,socket-get", type=lambda text: text.split(","))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=16)
    return parser


def main() -> None:
    parser = paired_arguments(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]))
    parser.add_argument("--stores", default="memory,sqlite,redis", type=lambda text: text.split(","))
    parser.add_argument("--check-costs", action="store_true", help="also time the check alone per store (needs Redis)")
    args = parser.parse_args()
    unknown = set(args.stores) - set(STORES)
    if unknown:
        raise SystemExit(f"unknown stores: {', '.join(sorted(unknown))}")
    kernel.install_uvloop()
    if not asyncio.run(benchmark(args)):
        raise SystemExit(1)
    if args.check_costs:
        asyncio.run(check_costs())


if __name__ == "__main__":
    main()

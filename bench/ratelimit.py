"""What rate limits cost per request: the same platform with and without them.

Two platform servers (`cryptorobot.platform.create_app`, memory storage) with the same
settings run side by side, each in a process of its own; on one every call is charged to
its user's tier budget (`[ratelimit]`, as configured), the other has `ratelimit.enabled =
false`. This process signs up `--users` users on each (at least one per connection; the
connections take turns over them) and loads both, one after the other in each round, with:

  rest-get    GET /users/:id with `Authorization: Bearer <token>` (JWT, revocation check,
              the user's record, the owner restriction, the result schema; limited: the
              tier's budget charged, its `X-RateLimit-*` headers written)
  socket-get  emit("get", "users", id) on sockets logged in with the token

Counters (`--counters`): `memory` (this process's `MemoryCounters`) or `redis` (Redis on
127.0.0.1:6379, a key prefix per run). Budgets: 100,000 calls per 60 s, so none runs out; a
user's moving window holds every call of theirs of the last minute, so the more users
share the load the shorter each window's log (about what one user sends in a minute: with
`--users 400` and 2,000 requests a second, 300, as under an enterprise tier's 1,000).

Columns: server CPU microseconds per request (the capacity figure, independent of the
client) and requests per second, medians over rounds, and the ratio limited/unlimited of
each (medians of per-round pairs).

    .venv/bin/python bench/ratelimit.py [--counters memory,redis] [--rounds 5] [--seconds 3]
                                        [--concurrency 16] [--users 400] [--scenarios rest-get,socket-get]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from revocation import checked_calls, checked_turns, paired_arguments, rest_get, socket_get

import kernel

PASSWORD = "correct horse battery"
COUNTERS = ("memory", "redis")
SIDES = ("limited", "unlimited")
REDIS_URL = "redis://127.0.0.1:6379/0"
BUDGET = 100_000


def settings_for(side: str, counters: str, data_dir: str, prefix: str) -> dict[str, Any]:
    from cryptorobot.config import load_config

    settings = load_config("production", environ={})
    settings.update(
        data_dir=data_dir, storage="memory", logging={"level": "WARNING"},
        authentication={**settings["authentication"], "secret": "bench-secret-" * 4, "password_rounds": 4,
                        "revocation": {"store": "memory"}},
        ratelimit={**settings["ratelimit"], "enabled": side == "limited", "anonymous": BUDGET,
                   "redis_url": REDIS_URL if counters == "redis" else "", "key_prefix": prefix,
                   "tiers": {"free": {"requests": BUDGET, "connections": 1000}}})
    return settings


def server_main(side: str, counters: str, prefix: str, control: Any) -> None:
    kernel.install_uvloop()
    asyncio.run(_serve(side, counters, prefix, control))


async def _serve(side: str, counters: str, prefix: str, control: Any) -> None:
    from cryptorobot.platform import create_app
    from cryptorobot.server import create_web_app

    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app(settings_for(side, counters, data_dir, prefix))
        await kernel.serve_until_stopped(create_web_app(app), control)


async def members(server: kernel.Server, count: int) -> list[tuple[dict[str, Any], str]]:
    """`count` users signed up and logged in on `server`: (user as the API shows it, token)."""
    import aiohttp

    found = []
    async with aiohttp.ClientSession() as session:
        for n in range(count):
            email = f"bench{n}@example.com"
            async with session.post(f"{server.base}/users", json={"email": email, "password": PASSWORD}) as r:
                user = await r.json()
                assert r.status == 201, user
            async with session.post(f"{server.base}/authentication",
                                    json={"strategy": "local", "email": email, "password": PASSWORD}) as r:
                login = await r.json()
                assert r.status == 201, login
            found.append((user, login["accessToken"]))
    return found


async def run(scenario: str, server: kernel.Server, users: list[tuple[dict, str]], args: argparse.Namespace,
              ) -> kernel.Result:
    """One measurement. rest-get: `concurrency` connections, each taking its share of the
    users in turn; socket-get: one socket per connection, each logged in as one user."""
    import aiohttp
    import socketio

    tally = kernel.Tally()
    if scenario == "rest-get":
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            workers = [checked_turns([(rest_get(session, f"{server.base}/users/{user['_id']}", token), (200, user))
                                      for user, token in users[n::args.concurrency]], "rest get", tally)
                       for n in range(args.concurrency)]
            return await kernel.measure(server, workers, tally, args.warmup, args.seconds)
    sockets = users[:args.concurrency]
    clients = [socketio.AsyncClient(reconnection=False) for _ in sockets]
    await asyncio.gather(*(client.connect(server.base, transports=["websocket"]) for client in clients))
    try:
        for client, (_, token) in zip(clients, sockets, strict=True):
            ack = await client.call("create", ("authentication", {"strategy": "jwt", "accessToken": token}, {}))
            assert ack[0] is None, ack
        workers = [checked_calls(socket_get(client, user), [None, user], "socket get", tally)
                   for client, (user, _) in zip(clients, sockets, strict=True)]
        return await kernel.measure(server, workers, tally, args.warmup, args.seconds)
    finally:
        await asyncio.gather(*(client.disconnect() for client in clients), return_exceptions=True)


async def benchmark(args: argparse.Namespace) -> bool:
    valid = True
    print(f"{'counters':<8} {'scenario':<10} {'limited us/req':>14} {'unlimited':>9} {'ratio':>6} | "
          f"{'limited req/s':>13} {'unlimited':>9} {'ratio':>6}")
    for counters in args.counters:
        prefix = f"bench-ratelimit-{uuid.uuid4().hex[:8]}"
        servers = {side: kernel.Server(f"{counters}/{side}", 0, target=server_main, args=(side, counters, prefix))
                   for side in SIDES}
        try:
            users = {side: await members(server, max(args.users, args.concurrency)) for side, server in servers.items()}
            for scenario in args.scenarios:
                results: dict[str, list[kernel.Result]] = {side: [] for side in SIDES}
                for round_number in range(args.rounds):
                    for side in SIDES if round_number % 2 == 0 else SIDES[::-1]:
                        results[side].append(await run(scenario, servers[side], users[side], args))
                for side in SIDES:
                    for result in results[side]:
                        if result.errors:
                            valid = False
                            print(f"  !! {counters}/{side}: {result.errors} failed: {result.first_error}")
                cpu = [[r.server_us for r in results[side]] for side in SIDES]
                rps = [[r.rps for r in results[side]] for side in SIDES]
                print(f"{counters:<8} {scenario:<10} {statistics.median(cpu[0]):14.1f} "
                      f"{statistics.median(cpu[1]):9.1f} {kernel.paired_ratio(cpu[0], cpu[1]):6.3f} | "
                      f"{statistics.median(rps[0]):13.0f} {statistics.median(rps[1]):9.0f} "
                      f"{kernel.paired_ratio(rps[0], rps[1]):6.3f}", flush=True)
        finally:
            for server in servers.values():
                server.stop()
            if counters == "redis":
                await _forget(prefix)
    print(f"\nmedians of {args.rounds} rounds of {args.seconds:g} s; ratios limited/unlimited are medians of "
          "per-round pairs (us/req > 1: the limits cost that much more CPU; req/s < 1: that much less throughput)")
    return valid


async def _forget(prefix: str) -> None:
    import redis.asyncio

    client = redis.asyncio.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def main() -> None:
    parser = paired_arguments(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]))
    parser.add_argument("--counters", default="memory,redis", type=lambda text: text.split(","))
    parser.add_argument("--users", type=int, default=400, help="users per server, taking turns (rest-get)")
    args = parser.parse_args()
    unknown = set(args.counters) - set(COUNTERS)
    if unknown:
        raise SystemExit(f"unknown counters: {', '.join(sorted(unknown))}")
    kernel.install_uvloop()
    if not asyncio.run(benchmark(args)):
        raise SystemExit(1)


if __name__ == "__main__":
    main()

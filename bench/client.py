"""Client overhead: `cryptorobot.client.Client` against bare python-socketio / aiohttp calls.

One server process (`tests.client.client_app:create_app`, 100 messages) answers both sides;
this process is the client. Each side makes the same `get` calls, each answer checked, for
`--seconds` per measurement: one call in flight at a time (`seq`), or `--concurrency` calls
in flight on one client (`conc`). Figures are medians over `--rounds`, the sides taking turns:

  calls/s   calls answered per second;
  us/call   this (client) process's CPU per call: what the client costs, which the server's
            speed does not change. The ratio ours / bare is the figure to track.

    .venv/bin/python bench/client.py [--seconds 2] [--rounds 3] [--concurrency 32]
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

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as `python bench/client.py` without installing the repo
    sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402
import socketio  # noqa: E402

from cryptorobot.client import Client  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402

RECORDS = 100
Get = Callable[[int], Awaitable[dict[str, Any]]]


async def measure(get: Get, seconds: float, concurrency: int) -> tuple[float, float]:
    """(calls per second, client CPU microseconds per call) of `get` for `seconds`."""
    calls = 0
    deadline = time.monotonic() + seconds

    async def worker(offset: int) -> None:
        nonlocal calls
        id = offset
        while time.monotonic() < deadline:
            record = await get(id % RECORDS)
            if record["id"] != id % RECORDS:
                raise SystemExit(f"wrong answer: {record!r} for id {id % RECORDS}")
            calls += 1
            id += concurrency
    started, cpu = time.monotonic(), time.process_time()
    await asyncio.gather(*(worker(offset) for offset in range(concurrency)))
    elapsed, used = time.monotonic() - started, time.process_time() - cpu
    return calls / elapsed, used / calls * 1e6


async def sides(url: str) -> dict[str, tuple[Get, Callable[[], Awaitable[None]]]]:
    """name -> (get, close) for the four clients."""
    bare_socket = socketio.AsyncClient(reconnection=False, handle_sigint=False)
    await bare_socket.connect(url, transports=["websocket"], wait_timeout=10)

    async def socket_get(id: int) -> dict[str, Any]:
        error, record = await bare_socket.call("get", ("messages", id, {}), timeout=60)
        assert error is None
        return record

    session = aiohttp.ClientSession()

    async def rest_get(id: int) -> dict[str, Any]:
        async with session.get(f"{url}/messages/{id}", headers={"Accept": "application/json"}) as response:
            assert response.status == 200
            return await response.json()

    ours_socket, ours_rest = Client(url), Client(url, transport="rest")
    await ours_socket.connect()
    return {
        "socketio bare": (socket_get, bare_socket.disconnect),
        "socketio Client": (ours_socket.service("messages").get, ours_socket.close),
        "rest bare": (rest_get, session.close),
        "rest Client": (ours_rest.service("messages").get, ours_rest.close),
    }


async def main(arguments: argparse.Namespace) -> None:
    with ServerProcess("tests.client.client_app:create_app", Path(tempfile.mkdtemp(prefix="bench-client-"))) as server:
        seeder = Client(server.url, transport="rest")
        await seeder.service("messages").create([{"id": id, "text": f"message {id}"} for id in range(RECORDS)])
        await seeder.close()
        clients = await sides(server.url)
        results: dict[tuple[str, str], list[tuple[float, float]]] = {}
        try:
            for _ in range(arguments.rounds):
                for mode, concurrency in (("seq", 1), ("conc", arguments.concurrency)):
                    for name, (get, _) in clients.items():
                        results.setdefault((name, mode), []).append(await measure(get, arguments.seconds, concurrency))
        finally:
            for _, close in clients.values():
                await close()
    print(f"{'client':<18}{'mode':<6}{'calls/s':>10}{'us/call':>10}{'CPU ratio':>11}")
    for (name, mode), figures in results.items():
        rate = statistics.median(figure[0] for figure in figures)
        cpu = statistics.median(figure[1] for figure in figures)
        bare = statistics.median(figure[1] for figure in results[(name.split()[0] + " bare", mode)])
        print(f"{name:<18}{mode:<6}{rate:>10.0f}{cpu:>10.0f}{cpu / bare:>10.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    asyncio.run(main(parser.parse_args()))

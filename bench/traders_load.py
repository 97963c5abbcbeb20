"""Traders under load: 200 paper traders on 50 replayed `sim` symbols in one server process.

The platform (`cryptorobot.platform.create_app`, memory storage) runs in a server process
with 50 stored 1m random-walk series replayed at `--speed` candles a second. Each of
`--traders` users (signed up server-side) gets a paper account, an `sma_cross` strategy
(2/4, so it trades every few candles) and one trader, spread round-robin over the symbols.
A client process opens one Socket.IO socket per user, logs it in, and counts what arrives.

The reference, in the same run, is the same server with the same feeds and sockets and no
trader running: the event-loop lag figures are given for both, and as a ratio.

Figures:

  loop lag p99/max  how late a 10 ms sleep wakes in the server (ms), traders running vs idle;
  events            the `traders/pods/events created`, `trades created` and `traders patched`
                    the server emitted from the window's start until every trader was stopped
                    (so nothing is emitted later), and how many of them reached the sockets
                    (matched by record id; must be all of them);
  memory/trader     server RSS growth from starting the traders to the end of the window,
                    divided by their number (KiB; includes their records in memory storage);
  start, shutdown   seconds to start every trader (one `start` call each, in turn), and for a
                    clean shutdown of the server with every pod running (`app.teardown`).

    .venv/bin/python bench/traders_load.py [--traders 200] [--symbols 50] [--speed 2] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PASSWORD = "correct horse battery"
WATCHED = ("traders/pods/events created", "trades created", "traders patched")


def symbols(count: int) -> list[str]:
    from engine.sim_markets import sim_catalog

    usdt = [symbol for symbol in sim_catalog().symbols if symbol.endswith("/USDT")]
    return usdt[:count]


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def event_key(name: str, data: dict[str, Any]) -> str:
    """One emitted event, the same on both sides: a record's id (a patch: with its `updatedAt`)."""
    return f"{name}|{data.get('_id')}|{data.get('updatedAt') if name == 'traders patched' else ''}"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


# -- the server process ------------------------------------------------------------------------

def server_main(args: argparse.Namespace, data_dir: str, port: int, control: Any) -> None:
    asyncio.run(_server(args, Path(data_dir), port, control))


async def _server(args: argparse.Namespace, data_dir: Path, port: int, control: Any) -> None:
    from aiohttp import web

    from cryptorobot.config import load_config
    from cryptorobot.platform import create_app
    from cryptorobot.server import create_web_app
    from engine.candles import SeriesKey, SqliteCandleStore
    from tests.engine.candle_support import walk

    names = symbols(args.symbols)
    store = SqliteCandleStore(data_dir / "candles.db")
    for number, symbol in enumerate(names):
        store.write(SeriesKey("sim", symbol, "1m"), walk(5000, seed=number + 1))
    store.close()
    settings = {**load_config("test", environ={}), "data_dir": str(data_dir), "storage": "memory",
                "tickers": {"rate": 2.0, "replay": {"candles_per_second": args.speed}},
                "traders": {"max_running": 10}}
    app = create_app(settings)
    emitted: set[str] = set()
    for name in WATCHED:
        path, event = name.split(" ")
        app.service(path).on(event, lambda data, context=None, name=name: emitted.add(event_key(name, data)))
    runner = web.AppRunner(create_web_app(app))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    loop = asyncio.get_running_loop()
    lags: list[float] = []

    async def probe() -> None:
        while True:
            asked = loop.time()
            await asyncio.sleep(0.01)
            lags.append((loop.time() - asked - 0.01) * 1000)

    prober = asyncio.create_task(probe())
    traders: list[Any] = []
    while True:
        command = await loop.run_in_executor(None, control.recv)
        if command == "setup":
            for number in range(args.traders):
                user = await app.service("users").create({"email": f"u{number}@example.com", "password": PASSWORD})
                account = await app.service("exchanges").create({"exchange": "sim", "userId": user["_id"]})
                strategy = await app.service("strategies").create({
                    "name": "cross", "type": "sma_cross", "pair": names[number % len(names)], "userId": user["_id"],
                    "settings": {"fastPeriod": 2, "slowPeriod": 4}})
                traders.append(await app.service("traders").create({
                    "name": f"bot{number}", "strategyId": strategy["_id"], "exchangeId": account["_id"],
                    "userId": user["_id"]}))
            control.send("ready")
        elif command == "mark":
            lags.clear()
            emitted.clear()
            control.send(rss_kib())
        elif command == "start":
            began = time.perf_counter()
            for trader in traders:
                started = await app.service("traders").start({"id": trader["_id"]})
                assert started["status"] == "running", started
            control.send(time.perf_counter() - began)
        elif command == "report":
            control.send((percentile(lags, 0.99), max(lags, default=float("nan")), rss_kib()))
        elif command == "stop":  # every trader stopped: no event after this one's answer
            for trader in traders:
                await app.service("traders").stop({"id": trader["_id"]})
            control.send(sorted(emitted))
        elif command == "shutdown":
            prober.cancel()
            began = time.perf_counter()
            await runner.cleanup()  # the server's own shutdown: sockets, then app.teardown
            control.send(time.perf_counter() - began)
            return


# -- the client process ------------------------------------------------------------------------

def client_main(url: str, users: int, control: Any) -> None:
    asyncio.run(_clients(url, users, control))


async def _clients(url: str, users: int, control: Any) -> None:
    import socketio

    received: set[str] = set()
    clients = []
    for number in range(users):
        client = socketio.AsyncClient(reconnection=False)

        async def record(event: str, *args: Any) -> None:
            if event in WATCHED:
                received.add(event_key(event, args[0]))

        client.on("*", record)
        await client.connect(url, transports=["websocket"])
        error, _ = await client.call("create", ("authentication", {"strategy": "local", "email": f"u{number}@example.com",
                                                                   "password": PASSWORD}, {}), timeout=30)
        assert error is None, error
        clients.append(client)
    control.send("connected")
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, control.recv)
        if command == "mark":
            received.clear()
            control.send("marked")
        elif command == "report":
            control.send(sorted(received))
        elif command == "close":
            for client in clients:
                await client.disconnect()
            control.send("closed")
            return


# -- the run ---------------------------------------------------------------------------------------

def window(server: Any, clients: Any, seconds: float) -> tuple[float, float, int]:
    """Marks both sides, waits `seconds`: lag p99 and max (ms), RSS growth (KiB)."""
    server.send("mark")
    rss = server.recv()
    clients.send("mark")
    clients.recv()
    time.sleep(seconds)
    server.send("report")
    p99, worst, rss_after = server.recv()
    return p99, worst, rss_after - rss


def delivery(server: Any, clients: Any) -> tuple[set[str], set[str]]:
    """Stops every trader, lets what is in flight arrive: the events emitted since the mark and
    those received (`event_key`s)."""
    server.send("stop")
    emitted = set(server.recv())
    time.sleep(2.0)
    clients.send("report")
    return emitted, set(clients.recv())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traders", type=int, default=200)
    parser.add_argument("--symbols", type=int, default=50)
    parser.add_argument("--speed", type=float, default=2.0, help="candles a second per replayed symbol")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    from tests.server_process import free_port

    port = free_port()
    context = multiprocessing.get_context("spawn")
    server_end, server = context.Pipe()
    clients_end, clients = context.Pipe()
    with tempfile.TemporaryDirectory() as data_dir:
        process = context.Process(target=server_main, args=(args, data_dir, port, server_end))
        process.start()
        time.sleep(0.5)
        server.send("setup")
        assert server.recv() == "ready"
        client = context.Process(target=client_main, args=(f"http://127.0.0.1:{port}", args.traders, clients_end))
        client.start()
        assert clients.recv() == "connected"
        idle = window(server, clients, args.seconds)
        server.send("start")
        start_seconds = server.recv()
        busy = window(server, clients, args.seconds)
        emitted, delivered = delivery(server, clients)
        server.send("start")  # running again, for the shutdown
        server.recv()
        clients.send("close")
        clients.recv()
        server.send("shutdown")
        shutdown_seconds = server.recv()
        process.join(30)
        client.join(30)

    p99, worst, grown = busy
    expected = len(emitted)
    got = len(emitted & delivered)
    print(f"{args.traders} traders on {args.symbols} symbols, {args.speed:g} candles/s each, {args.seconds:g} s windows")
    print(f"loop lag p99/max ms   idle {idle[0]:.1f}/{idle[1]:.1f}   running {p99:.1f}/{worst:.1f}   "
          f"p99 ratio {p99 / idle[0] if idle[0] > 0 else float('nan'):.2f}")
    print(f"events delivered      {got}/{expected} ({got / expected if expected else float('nan'):.4f}); "
          + ", ".join(f"{name}: {sum(key.startswith(name) for key in emitted & delivered)}/"
                      f"{sum(key.startswith(name) for key in emitted)}" for name in WATCHED))
    print(f"memory per trader     {grown / args.traders:.0f} KiB (RSS +{grown / 1024:.1f} MiB)")
    print(f"start all / shutdown  {start_seconds:.2f} s ({start_seconds / args.traders * 1000:.1f} ms each) / "
          f"{shutdown_seconds:.2f} s with every trader running")
    if got != expected:
        sys.exit(1)


if __name__ == "__main__":
    main()

"""Ticker fan-out: replayed prices delivered to a thousand sockets, against bare python-socketio.

100 `sim` symbols are replayed (stored 1m series, 2.5 candles a second: 10 price points a
second each) by the platform (`cryptorobot.platform.create_app`, memory storage, rate 2).
1,000 websocket clients, spread over several client processes so the server's CPU is its
own, each log in at the handshake (a JWT in `Authorization`) and `subscribe` to 10 symbols:
every symbol has 100 sockets. The expected delivery is sockets x symbols x rate
= 1,000 x 10 x 2 = 20,000 `exchanges/ticker patched` events a second, whatever the feed rate.

The reference, in the same run, is a bare python-socketio server on aiohttp doing the same
fan-out with nothing else: the same ticker dicts, updated 10 times a second per symbol,
emitted to each symbol's room twice a second (phases spread), sockets joining rooms on a
`subscribe` event. It is the floor for this transport: what python-socketio's room emit costs.

Figures, over the measured window (after a warm-up), medians over `--rounds`:

  events/s      delivered to all sockets, and the ratio to the expected number;
  p50/p99 ms    latency from the feed to the socket: receive time - the ticker's `updatedAt`
                (when the server made it from a price point; coalescing holds a ticker up to
                one feed interval, 100 ms, before its room's next send);
  worst p99     the slowest socket's p99; `late` sockets had an event older than one second
                in the window's last third (a socket falling behind shows a growing delay);
  srv CPU       server-process CPU, % of one core, and µs per delivered event;
  max/s         the most events per second one socket got for one symbol over the window
                (coalescing: at most the rate, 2, plus one event over the window);
  clients CPU   the client processes' CPU, % of one core;
  in-server     ms from a ticker's making to its fan-out into the sockets' send queues
                (cryptorobot only), and the server's event-loop lag (how late a 10 ms sleep
                wakes up): on a shared machine, the share of latency that is CPU contention.

    .venv/bin/python bench/ticker_fanout.py [--sockets 1000] [--symbols 100] [--per-socket 10]
        [--points 10] [--rate 2] [--seconds 20] [--warmup 5] [--rounds 1] [--clients 4]
        [--sides bare,cryptorobot] [--profile]

`--profile` runs the cryptorobot server under cProfile during the window and prints its
top functions by own time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import datetime as dt
import json
import multiprocessing
import os
import pstats
import socket
import statistics
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as `python bench/ticker_fanout.py` without installing the repo
    sys.path.insert(0, str(REPO))

PASSWORD = "correct horse battery"
EVENT = "exchanges/ticker patched"
CANDLES = 2000
"""Stored 1m candles per symbol (the replay loops when they run out)."""
USERS = 20


# -- data ------------------------------------------------------------------------------------

def bench_symbols(count: int) -> list[str]:
    """`count` built-in `sim` symbols (those quoted in USDT first)."""
    from engine.sim_markets import sim_catalog

    markets = sorted(sim_catalog(), key=lambda market: market.quote != "USDT")
    symbols = [market.symbol for market in markets]
    if count > len(symbols):
        raise SystemExit(f"at most {len(symbols)} symbols")
    return symbols[:count]


def store_series(data_dir: Path, symbols: list[str]) -> None:
    """A stored 1m random-walk series per symbol, at the symbol's reference price."""
    import numpy as np

    from engine.candles import Candles, SeriesKey, SqliteCandleStore
    from engine.sim_markets import sim_catalog

    catalog = sim_catalog()
    store = SqliteCandleStore(data_dir / "candles.db")
    start = 1_704_067_200_000
    for number, symbol in enumerate(symbols):
        rng = np.random.default_rng(number)
        price = float(catalog.market(symbol).info["referencePrice"])
        close = price * np.exp(np.cumsum(rng.normal(0, 0.001, CANDLES)))
        open_ = np.concatenate(([price], close[:-1]))
        spread = np.abs(rng.normal(0, 0.0005, CANDLES)) * close
        store.write(SeriesKey("sim", symbol, "1m"), Candles(
            "1m", start + np.arange(CANDLES, dtype=np.int64) * 60_000, open_, np.maximum(open_, close) + spread,
            np.minimum(open_, close) - spread, close, rng.random(CANDLES) * 10))
    store.close()


def subscriptions(sockets: int, symbols: list[str], per_socket: int) -> list[list[str]]:
    """Socket `i` watches `per_socket` consecutive symbols from `i * per_socket`: every
    symbol gets the same number of sockets."""
    return [[symbols[(i * per_socket + k) % len(symbols)] for k in range(per_socket)] for i in range(sockets)]


# -- servers (child processes) --------------------------------------------------------------

def install_uvloop() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def server_main(side: str, options: dict[str, Any], control: Any) -> None:
    install_uvloop()
    asyncio.run(_serve(side, options, control))


def cryptorobot_web_app(options: dict[str, Any]) -> Any:
    import logging

    from cryptorobot.config import load_config
    from cryptorobot.platform import create_app
    from cryptorobot.server import create_web_app

    settings = load_config("test", environ={})
    settings.update(data_dir=options["data_dir"], storage="memory")
    settings["tickers"] = {**settings["tickers"], "rate": options["rate"], "replay": {
        **settings["tickers"]["replay"], "candles_per_second": options["points"] / 4, "save_interval": 3600}}
    app = create_app(settings)
    logging.getLogger().setLevel(logging.WARNING)
    deliver = app.events.deliver

    async def timed(event_name: str, deliveries: list[Any]) -> None:
        """The platform's delivery, timed: feed (`updatedAt`) to the sockets' send queues."""
        await deliver(event_name, deliveries)
        if event_name == EVENT:
            now = dt.datetime.now(dt.UTC)
            SERVER_LAGS.extend((now - delivery.payload["updatedAt"]).total_seconds() * 1000 for delivery in deliveries)

    app.events.deliver = timed  # type: ignore[method-assign]
    return create_web_app(app)


SERVER_LAGS: list[float] = []
"""In the cryptorobot server process: ms from each ticker's making to its fan-out."""


def bare_web_app(options: dict[str, Any]) -> Any:
    """python-socketio's own room emit: the same tickers, rooms and rate, nothing else."""
    import socketio
    from aiohttp import web

    from cryptorobot import jsonutil

    sio = socketio.AsyncServer(async_mode="aiohttp", json=jsonutil, cors_allowed_origins="*")
    web_app = web.Application()
    sio.attach(web_app)
    symbols: list[str] = options["symbols"]
    tickers: dict[str, dict[str, Any]] = {}

    @sio.on("subscribe")
    async def subscribe(sid: str, path: str, data: dict[str, Any], query: Any = None) -> Any:
        for symbol in data["symbols"]:
            await sio.enter_room(sid, f"tickers/sim/{symbol}")
        return None, {"exchange": "sim", "symbols": sorted(data["symbols"])}

    async def produce() -> None:
        points, rate = options["points"], options["rate"]
        every = max(1, round(points / rate))
        tick, step = 0, 1.0 / points
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            now = dt.datetime.now(dt.UTC)
            for number, symbol in enumerate(symbols):
                price = 100.0 + (tick % 50) + number
                tickers[symbol] = {
                    "symbol": symbol, "timestamp": 1_704_067_200_000 + tick, "datetime": "2024-01-01T00:00:00.000Z",
                    "high": price, "low": price, "bid": price, "bidVolume": None, "ask": price, "askVolume": None,
                    "vwap": None, "open": price, "close": price, "last": price, "previousClose": None, "change": 0.0,
                    "percentage": 0.0, "average": price, "baseVolume": 1.0, "quoteVolume": None, "markPrice": None,
                    "indexPrice": None, "_id": f"sim:{symbol}", "exchange": "sim", "updatedAt": now}
                if (tick + number) % every == 0:
                    await sio.emit(EVENT, tickers[symbol], to=f"tickers/sim/{symbol}")
            tick += 1
            due += step
            await asyncio.sleep(max(0.0, due - loop.time()))

    async def start(_: Any) -> None:
        web_app["producer"] = asyncio.get_running_loop().create_task(produce())

    web_app.on_startup.append(start)
    return web_app


async def _serve(side: str, options: dict[str, Any], control: Any) -> None:
    from aiohttp import web

    web_app = bare_web_app(options) if side == "bare" else cryptorobot_web_app(options)
    runner = web.AppRunner(web_app, access_log=None, handle_signals=False)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock, backlog=2048)
    await site.start()
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()
    profiler: cProfile.Profile | None = None
    lags: list[float] = []

    async def probe() -> None:
        """The event loop's lateness: how much later than asked a 10 ms sleep wakes up."""
        while True:
            asked = loop.time() + 0.01
            await asyncio.sleep(0.01)
            lags.append((loop.time() - asked) * 1000)

    probing = loop.create_task(probe())

    def on_command() -> None:
        nonlocal profiler
        command, *rest = control.recv()
        if command == "cpu":
            SERVER_LAGS.clear()
            lags.clear()
            control.send(time.process_time())
        elif command == "lags":
            control.send((percentile(SERVER_LAGS, 0.5), percentile(SERVER_LAGS, 0.99), percentile(lags, 0.99),
                          max(lags, default=float("nan"))))
        elif command == "profile-start":
            profiler = cProfile.Profile()
            profiler.enable()
            control.send("ok")
        elif command == "profile-stop":
            assert profiler is not None
            profiler.disable()
            profiler.dump_stats(rest[0])
            control.send("ok")
        elif command == "stop":
            stopped.set()

    loop.add_reader(control.fileno(), on_command)
    control.send(("ready", sock.getsockname()[1]))
    await stopped.wait()
    probing.cancel()
    loop.remove_reader(control.fileno())
    await runner.cleanup()
    control.send("stopped")


class Server:
    def __init__(self, side: str, options: dict[str, Any]) -> None:
        context = multiprocessing.get_context("spawn")
        self.control, child = context.Pipe()
        self.process = context.Process(target=server_main, args=(side, options, child), daemon=True)
        self.process.start()
        message = self.control.recv()
        assert message[0] == "ready", message
        self.port = int(message[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def request(self, *command: Any) -> Any:
        self.control.send(command)
        return self.control.recv()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.control.send(("stop",))
            if self.control.poll(30):
                self.control.recv()
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


def post_json(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def tokens(url: str) -> list[str]:
    """Sign up `USERS` users and log them in; their access tokens."""
    found = []
    stamp = int(time.time() * 1000)
    for number in range(USERS):
        email = f"bench-{stamp}-{number}@example.com"
        post_json(f"{url}/users", {"email": email, "password": PASSWORD})
        found.append(post_json(f"{url}/authentication", {"strategy": "local", "email": email,
                                                         "password": PASSWORD})["accessToken"])
    return found


# -- clients (child processes) ----------------------------------------------------------------

@dataclass
class Tally:
    """What one client process saw in the window."""

    events: int
    latencies: list[float]
    per_socket: list[int]
    socket_p99: list[float]
    late_sockets: int
    max_per_second: float
    cpu_seconds: float
    errors: list[str]


def _ms(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000


def client_main(url: str, jobs: list[tuple[str | None, list[str]]], control: Any) -> None:
    install_uvloop()
    asyncio.run(_clients(url, jobs, control))


async def _clients(url: str, jobs: list[tuple[str | None, list[str]]], control: Any) -> None:
    import aiohttp

    try:
        import orjson

        loads: Any = orjson.loads
    except ImportError:
        loads = json.loads
    ws_url = url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    window: list[float] = [float("inf"), float("inf")]
    records: list[list[tuple[float, float, str]]] = [[] for _ in jobs]
    errors: list[str] = []
    ready = 0
    all_ready = asyncio.Event()

    async def one(number: int, token: str | None, symbols: list[str], session: aiohttp.ClientSession) -> None:
        nonlocal ready
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with session.ws_connect(ws_url, headers=headers, max_msg_size=0, autoping=True) as ws:
            opened = await ws.receive_str()
            assert opened.startswith("0"), opened
            await ws.send_str("40")
            joined = await ws.receive_str()
            assert joined.startswith("40"), joined
            await ws.send_str("421" + json.dumps(["subscribe", "exchanges/ticker", {"exchange": "sim",
                                                                                    "symbols": symbols}, {}]))
            mine = records[number]
            acked = False
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                text = message.data
                if text == "2":
                    await ws.send_str("3")
                elif text.startswith("42"):
                    now = time.time() * 1000
                    if window[0] <= now <= window[1]:
                        ticker = loads(text[2:])[1]
                        mine.append((now, now - _ms(ticker["updatedAt"]), ticker["symbol"]))
                    elif now > window[1]:
                        return
                elif text.startswith("431") and not acked:
                    acked = True
                    if text[3:].startswith("[null"):
                        ready += 1
                        if ready == len(jobs):
                            all_ready.set()
                    else:
                        errors.append(text[:200])
                        all_ready.set()

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = []
        for start in range(0, len(jobs), 50):  # connect in batches
            batch = [asyncio.ensure_future(one(start + i, *job, session)) for i, job in enumerate(jobs[start:start + 50])]
            tasks += batch
            await asyncio.sleep(0.05)
        await asyncio.wait_for(all_ready.wait(), 120)
        control.send(("ready", errors))
        window[0], window[1] = control.recv()
        await asyncio.sleep(max(0.0, window[0] / 1000 - time.time()))
        cpu_before = time.process_time()
        await asyncio.sleep(max(0.0, window[1] / 1000 - time.time()))
        cpu = time.process_time() - cpu_before
        await asyncio.wait(tasks, timeout=10)
        for task in tasks:
            task.cancel()

    latencies = [latency for mine in records for _, latency, _ in mine]
    span = (window[1] - window[0]) / 1000
    tail = window[1] - (window[1] - window[0]) / 3
    socket_p99, late, most = [], 0, 0
    for mine in records:
        if mine:
            ordered = sorted(latency for _, latency, _ in mine)
            socket_p99.append(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))])
            late += any(latency > 1000 for at, latency, _ in mine if at >= tail)
            per_symbol: dict[str, int] = {}
            for _, _, symbol in mine:
                per_symbol[symbol] = per_symbol.get(symbol, 0) + 1
            most = max(most, *per_symbol.values())
    control.send(Tally(len(latencies), latencies[:: max(1, len(latencies) // 20000)],
                       [round(len(mine) / span, 2) for mine in records], socket_p99, late, most / span, cpu, errors))


# -- one measurement --------------------------------------------------------------------------

@dataclass
class Result:
    events_per_second: float
    expected: float
    p50: float
    p99: float
    worst_p99: float
    late: int
    cpu_percent: float
    us_per_event: float
    max_per_second: float
    slowest_socket: float
    client_cpu_percent: float
    server_p50: float
    server_p99: float
    loop_p99: float
    loop_max: float
    errors: list[str]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else float("nan")


def measure(side: str, args: argparse.Namespace, data_dir: Path, symbols: list[str]) -> Result:
    options = {"data_dir": str(data_dir), "symbols": symbols, "points": args.points, "rate": args.rate}
    server = Server(side, options)
    try:
        keys = tokens(server.url) if side == "cryptorobot" else [None]
        plan = subscriptions(args.sockets, symbols, args.per_socket)
        jobs = [(keys[i % len(keys)], plan[i]) for i in range(args.sockets)]
        context = multiprocessing.get_context("spawn")
        pipes, processes = [], []
        for part in range(args.clients):
            parent, child = context.Pipe()
            share = jobs[part::args.clients]
            process = context.Process(target=client_main, args=(server.url, share, child), daemon=True)
            process.start()
            pipes.append(parent)
            processes.append(process)
        errors = [error for pipe in pipes for error in pipe.recv()[1]]
        start = time.time() + args.warmup
        end = start + args.seconds
        for pipe in pipes:
            pipe.send((start * 1000, end * 1000))
        time.sleep(max(0.0, start - time.time()))
        profile_path = None
        if args.profile and side == "cryptorobot":
            profile_path = str(data_dir / "fanout.prof")
            server.request("profile-start")
        cpu_before = server.request("cpu")
        time.sleep(max(0.0, end - time.time()))
        lags = server.request("lags")
        cpu_after = server.request("cpu")
        if profile_path:
            server.request("profile-stop", profile_path)
        tallies: list[Tally] = [pipe.recv() for pipe in pipes]
        for process in processes:
            process.join(30)
    finally:
        server.stop()
    events = sum(tally.events for tally in tallies)
    latencies = [latency for tally in tallies for latency in tally.latencies]
    rates = [rate for tally in tallies for rate in tally.per_socket]
    cpu = cpu_after - cpu_before
    if profile_path:
        print_profile(profile_path, events)
    return Result(
        events_per_second=events / args.seconds, expected=args.sockets * args.per_socket * args.rate,
        p50=percentile(latencies, 0.5), p99=percentile(latencies, 0.99),
        worst_p99=max((p for tally in tallies for p in tally.socket_p99), default=float("nan")),
        late=sum(tally.late_sockets for tally in tallies), cpu_percent=cpu / args.seconds * 100,
        us_per_event=cpu / max(events, 1) * 1e6, max_per_second=max(tally.max_per_second for tally in tallies),
        slowest_socket=min(rates, default=0.0),
        client_cpu_percent=sum(tally.cpu_seconds for tally in tallies) / args.seconds * 100,
        server_p50=lags[0], server_p99=lags[1], loop_p99=lags[2], loop_max=lags[3],
        errors=errors + [e for tally in tallies for e in tally.errors])


def print_profile(path: str, events: int) -> None:
    stats = pstats.Stats(path)
    print(f"\nserver profile, top functions by own time (µs per delivered event, {events} events):")
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:25]  # type: ignore[attr-defined]
    for (file, line, name), (_, calls, own, total, _) in rows:
        print(f"  {own / events * 1e6:8.2f} own {total / events * 1e6:8.2f} cum  {calls:>9}  "
              f"{Path(file).name}:{line} {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--per-socket", type=int, default=10)
    parser.add_argument("--points", type=float, default=10.0, help="price points per symbol per second")
    parser.add_argument("--rate", type=float, default=2.0, help="tickers.rate: events per symbol per second per socket")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--sides", default="bare,cryptorobot")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    symbols = bench_symbols(args.symbols)
    print(f"{args.sockets} sockets x {args.per_socket} of {args.symbols} symbols, {args.points:g} points/s per "
          f"symbol, rate {args.rate:g}; {args.seconds:g} s after {args.warmup:g} s; {args.clients} client processes; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}", flush=True)
    results: dict[str, list[Result]] = {}
    with tempfile.TemporaryDirectory(prefix="fanout-") as tmp:
        data_dir = Path(tmp)
        store_series(data_dir, symbols)
        for _ in range(args.rounds):
            for side in args.sides.split(","):
                result = measure(side, args, data_dir, symbols)
                results.setdefault(side, []).append(result)
                print(f"  {side}: {result}", flush=True)
    print(f"\n{'side':<12} {'events/s':>9} {'of expected':>11} {'p50 ms':>7} {'p99 ms':>7} {'worst p99':>9} "
          f"{'late':>5} {'srv CPU':>8} {'us/event':>8} {'max/s':>5} {'clients CPU':>11} {'in-server p50/p99':>17} "
          f"{'loop lag p99/max':>16}")
    for side, rounds in results.items():
        def med(name: str, rounds: list[Result] = rounds) -> float:
            return statistics.median(getattr(result, name) for result in rounds)

        print(f"{side:<12} {med('events_per_second'):>9.0f} {med('events_per_second') / rounds[0].expected:>10.1%} "
              f"{med('p50'):>7.1f} {med('p99'):>7.1f} {med('worst_p99'):>9.1f} {med('late'):>5.0f} "
              f"{med('cpu_percent'):>7.0f}% {med('us_per_event'):>8.1f} {max(r.max_per_second for r in rounds):>5.2f} "
              f"{med('client_cpu_percent'):>10.0f}% {med('server_p50'):>8.1f}/{med('server_p99'):<8.1f} "
              f"{med('loop_p99'):>7.1f}/{med('loop_max'):<8.1f}")
        errors = [error for result in rounds for error in result.errors]
        if errors:
            print(f"  errors: {errors[:5]}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    if {"bare", "cryptorobot"} <= set(results):
        ratio = statistics.median(r.us_per_event for r in results["cryptorobot"]) / statistics.median(
            r.us_per_event for r in results["bare"])
        print(f"\nserver CPU per delivered event, cryptorobot / bare python-socketio: {ratio:.2f}")


if __name__ == "__main__":
    main()

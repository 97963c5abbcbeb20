"""Kernel overhead benchmark: cryptorobot against a bare aiohttp / python-socketio stack.

Both sides serve the same 1,000 strategy records from a server process of their own; this
process is the load generator (it never shares an event loop with a server). Scenarios:

  rest-get    GET /strategies/:id                      (ids rotate through every record)
  rest-find   GET /strategies?type=momentum&$limit=10  (paginated: total, limit, skip, data)
  socket-get  Socket.IO emit("get", "strategies", id) with ack -> [null, record]

Every response is checked (status, ids, totals) so a broken server cannot post a good
number. Speed is reported as ratios against the bare stack measured in the same run:

  req/s        what the Python load generator achieved (aiohttp ClientSession, keep-alive,
               a pool of --concurrency connections; --concurrency socket clients);
  srv us/req   server-process CPU per request over the measured window. The Python client
               costs about as much CPU per request as a bare server, so on a small machine it
               can cap both sides and squeeze the req/s ratio towards 1; the CPU ratio
               (bare us / cryptorobot us) is the server's capacity ratio and does not depend
               on the client;
  wrk req/s    an extra REST column when `wrk` is installed (a C client that needs little CPU).

    .venv/bin/python bench/kernel.py [--seconds 5] [--records 1000] [--concurrency 32]
                                     [--scenarios rest-get,socket-get] [--profile [SCENARIO]]

`--profile` runs the cryptorobot server under cProfile for one scenario (rest-get by
default) and prints the top 25 cryptorobot functions by cumulative time, per request.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import importlib.util
import json
import multiprocessing
import os
import pstats
import random
import re
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as `python bench/kernel.py` without installing the repo
    sys.path.insert(0, str(REPO))

SIDES = ("bare", "cryptorobot")
SCENARIOS = ("rest-get", "rest-find", "socket-get")
TYPES = ("momentum", "mean-reversion", "arbitrage", "grid", "dca")
FIND_TYPE, FIND_LIMIT = "momentum", 10
PAGINATE = {"default": 25, "max": 100}
MEMORY_MODULE = REPO / "cryptorobot" / "adapters" / "memory.py"


# -- data ------------------------------------------------------------------------------------

def make_records(count: int) -> list[dict[str, Any]]:
    """Deterministic strategy records, so every process builds the very same data.

    Ids are strings (as Mongo-style ids are): a REST path segment is a string, so string ids
    keep get-by-id a plain lookup on both sides with no coercion question.
    """
    rng = random.Random(20240501)
    symbols = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "ADA/USDT")
    return [
        {
            "_id": f"{index:024x}",
            "name": f"strategy {index}",
            "type": TYPES[rng.randrange(len(TYPES))],
            "userId": f"user-{rng.randrange(50):03d}",
            "createdAt": f"2024-{1 + index % 12:02d}-{1 + index % 28:02d}T{index % 24:02d}:00:00.000Z",
            "active": rng.random() < 0.8,
            "params": {"symbol": rng.choice(symbols), "window": rng.randrange(5, 200),
                       "threshold": round(rng.uniform(0.001, 0.05), 4)},
        }
        for index in range(count)
    ]


def find_page(records: list[dict[str, Any]], kind: str, limit: int) -> dict[str, Any]:
    """The paginated page Feathers' memory adapter answers: the bare side's straightforward filter.

    Also the load generator's expectation for rest-find.
    """
    matches = [record for record in records if record["type"] == kind]
    return {"total": len(matches), "limit": limit, "skip": 0, "data": matches[:limit]}


# -- servers (each runs in a child process) --------------------------------------------------

def bare_handlers(records: list[dict[str, Any]]) -> tuple[Any, Any, Any]:
    """The bare side's REST get, REST find and Socket.IO get handlers over `records`.

    This is the floor any framework on this stack pays: a dict lookup or a plain filter and
    json.dumps; aiohttp routing and python-socketio's event/ack machinery come on top.
    """
    from aiohttp import web

    by_id = {record["_id"]: record for record in records}

    async def get(request: web.Request) -> web.Response:
        record = by_id.get(request.match_info["id"])
        if record is None:
            return web.json_response({"name": "NotFound", "code": 404}, status=404)
        return web.Response(text=json.dumps(record), content_type="application/json")

    async def find(request: web.Request) -> web.Response:
        query = request.query
        limit = min(int(query.get("$limit", PAGINATE["default"])), PAGINATE["max"])
        kind = query.get("type")
        matches = [record for record in records if kind is None or record["type"] == kind]
        page = {"total": len(matches), "limit": limit, "skip": 0, "data": matches[:limit]}
        return web.Response(text=json.dumps(page), content_type="application/json")

    async def socket_get(sid: str, path: str, id: str, query: Any = None) -> Any:
        record = by_id.get(id) if path == "strategies" else None
        if record is None:
            return {"name": "NotFound", "code": 404}
        return None, record  # the ack's arguments: (error, result), as Feathers answers

    return get, find, socket_get


def build_bare_app(records: list[dict[str, Any]]) -> Any:
    """A plain aiohttp app with a plain python-socketio server attached, as cryptorobot does."""
    import socketio
    from aiohttp import web

    get, find, socket_get = bare_handlers(records)
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*")
    sio.on("get", socket_get)
    web_app = web.Application()
    sio.attach(web_app)
    web_app.router.add_get("/strategies/{id}", get)
    web_app.router.add_get("/strategies", find)
    return web_app


def import_memory_service() -> Any:
    """`cryptorobot.adapters.MemoryService`, wherever the adapter package exports it from."""
    try:
        from cryptorobot.adapters import MemoryService  # type: ignore[attr-defined]
    except ImportError:
        from cryptorobot.adapters.memory import MemoryService
    return MemoryService


def new_cryptorobot_app() -> Any:
    """The cryptorobot side's App: one MemoryService, as an application would register it."""
    from cryptorobot import App

    app = App()
    app.use("strategies", import_memory_service()(id="_id", paginate=dict(PAGINATE)))
    return app


async def seed(app: Any, records: list[dict[str, Any]]) -> None:
    """Create the records through the public, hooked service API, as an application would.

    The check afterwards fails fast if ids were not kept, rather than letting every
    benchmark request fail.
    """
    service = app.service("strategies")
    for record in records:
        await service.create(dict(record))
    stored = await service.get(records[-1]["_id"])
    if stored != records[-1]:
        raise RuntimeError(f"seeded record differs: {stored!r} != {records[-1]!r}")


def build_cryptorobot_app(records: list[dict[str, Any]]) -> Any:
    """The same data behind cryptorobot's kernel: App + MemoryService + create_web_app."""
    from cryptorobot.server import create_web_app

    app = new_cryptorobot_app()
    web_app = create_web_app(app)

    async def seed_on_startup(_: Any) -> None:
        await seed(app, records)

    web_app.on_startup.append(seed_on_startup)  # after create_web_app's own (app.setup)
    return web_app


def install_uvloop() -> str:
    """Use uvloop when installed (servers and load generator alike); returns the loop's name."""
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


def server_main(side: str, count: int, control: Any) -> None:
    """Child-process entry point: serve `side` on a free port until told to stop."""
    install_uvloop()
    asyncio.run(_serve(side, count, control))


async def _serve(side: str, count: int, control: Any) -> None:
    """Serve `side`, with the cProfile commands `profile-start` and `profile-stop PATH`
    (dump the stats there) besides `serve_until_stopped`'s."""
    records = make_records(count)
    web_app = build_bare_app(records) if side == "bare" else build_cryptorobot_app(records)
    profiler: cProfile.Profile | None = None

    def on_profile_command(command: str, rest: list[Any]) -> None:
        nonlocal profiler
        if command == "profile-start":
            profiler = cProfile.Profile()
            profiler.enable()
            control.send("ok")
        elif command == "profile-stop":
            assert profiler is not None
            profiler.disable()
            profiler.dump_stats(rest[0])
            control.send("ok")

    await serve_until_stopped(web_app, control, on_profile_command)


async def serve_until_stopped(web_app: Any, control: Any,
                              other_commands: Callable[[str, list[Any]], None] | None = None) -> None:
    """Serve `web_app` on a free port, report `("ready", port)`, then answer control commands
    from the parent until `stop`.

    Commands arrive on a multiprocessing pipe read from the event loop itself, so they are
    handled between requests: `cpu` (process CPU seconds) and `stop`; any other goes to
    `other_commands(command, arguments)`.
    """
    from aiohttp import web

    runner = web.AppRunner(web_app, access_log=None, handle_signals=False)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock, backlog=1024)
    await site.start()

    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()

    def on_command() -> None:
        command, *rest = control.recv()
        if command == "cpu":
            control.send(time.process_time())
        elif command == "stop":
            stopped.set()
        elif other_commands is not None:
            other_commands(command, rest)

    loop.add_reader(control.fileno(), on_command)
    control.send(("ready", sock.getsockname()[1]))
    await stopped.wait()
    loop.remove_reader(control.fileno())
    await runner.cleanup()
    control.send("stopped")


class Server:
    """The parent's handle on one server process: start, query CPU, profile, stop."""

    def __init__(self, side: str, count: int, *, target: Any = None, args: tuple[Any, ...] | None = None) -> None:
        """`target(*args, control)` runs in the child (default: `server_main(side, count, control)`)
        and ends in `serve_until_stopped`; `side` names the server in messages."""
        context = multiprocessing.get_context("spawn")  # a fresh interpreter, no inherited loop
        self.side = side
        self.control, child = context.Pipe()
        target, args = (server_main, (side, count)) if target is None else (target, args or ())
        self.process = context.Process(target=target, args=(*args, child), daemon=True)
        self.process.start()
        if not self.control.poll(60):
            self.process.kill()
            raise RuntimeError(f"{side} server did not start (see its traceback above)")
        _, self.port = self.control.recv()
        self.base = f"http://127.0.0.1:{self.port}"

    def request(self, *command: Any) -> Any:
        self.control.send(command)
        if not self.control.poll(30):
            raise RuntimeError(f"{self.side} server stopped answering {command[0]!r}")
        return self.control.recv()

    def cpu(self) -> float:
        return self.request("cpu")

    def stop(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(OSError, EOFError, RuntimeError):
                self.request("stop")
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


# -- load generator --------------------------------------------------------------------------

@dataclass
class Tally:
    """Shared by the workers of one scenario: completions inside the window, and failures."""

    running: bool = True
    counting: bool = False
    done: int = 0
    errors: int = 0
    first_error: str | None = None

    def fail(self, problem: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = problem


@dataclass
class Result:
    """One scenario on one side in one round; void (errors > 0) if any response was wrong."""

    rps: float
    requests: int  # completed inside the measured window
    server_us: float  # server CPU microseconds per request
    client_load: float  # load-generator CPU seconds per second (1.0 = one core saturated)
    errors: int = 0
    first_error: str | None = None
    wrk_rps: float | None = None
    wrk_server_us: float | None = None
    notes: list[str] = field(default_factory=list)


async def rest_get_worker(session: Any, urls: list[tuple[Any, dict]], start: int, tally: Tally) -> None:
    """Loop GET /strategies/:id over every id; the body must be exactly the record."""
    index = start
    while tally.running:
        url, record = urls[index]
        index = (index + 1) % len(urls)
        try:
            async with session.get(url) as response:
                body = await response.read()
                if response.status != 200:
                    tally.fail(f"GET {url}: status {response.status}: {body[:200]!r}")
                elif json.loads(body) != record:
                    tally.fail(f"GET {url}: wrong body {body[:200]!r}")
                elif tally.counting:
                    tally.done += 1
        except Exception as problem:  # a dead server must show up, not hang the run
            tally.fail(f"GET {url}: {problem!r}")
            await asyncio.sleep(0.01)


async def rest_find_worker(session: Any, url: Any, page: dict[str, Any], tally: Tally) -> None:
    """Loop the filtered find; total, limit and the ids of the page must all match."""
    expected_ids = [record["_id"] for record in page["data"]]
    while tally.running:
        try:
            async with session.get(url) as response:
                body = await response.read()
                if response.status != 200:
                    tally.fail(f"find: status {response.status}: {body[:200]!r}")
                    continue
                got = json.loads(body)
                if (got.get("total") != page["total"] or got.get("limit") != page["limit"]
                        or [record.get("_id") for record in got.get("data", ())] != expected_ids
                        or any(record.get("type") != FIND_TYPE for record in got["data"])):
                    tally.fail(f"find: wrong page {body[:200]!r}")
                elif tally.counting:
                    tally.done += 1
        except Exception as problem:
            tally.fail(f"find: {problem!r}")
            await asyncio.sleep(0.01)


async def socket_get_worker(client: Any, records: list[dict], start: int, tally: Tally) -> None:
    """Loop emit("get", "strategies", id) with an ack; the ack must be [null, record].

    A future resolved by the ack callback instead of `client.call`, whose per-call
    `asyncio.wait_for` would add client cost that is not the server's.
    """
    loop = asyncio.get_running_loop()
    index = start
    while tally.running:
        record = records[index]
        index = (index + 1) % len(records)
        answer = loop.create_future()

        def on_ack(*args: Any, answer: asyncio.Future = answer) -> None:
            if not answer.done():
                answer.set_result(args)

        try:
            await client.emit("get", ("strategies", record["_id"]), callback=on_ack)
            args = await asyncio.wait_for(answer, 10) if not answer.done() else answer.result()
            if list(args) != [None, record]:
                tally.fail(f"socket get {record['_id']}: wrong ack {str(args)[:200]}")
            elif tally.counting:
                tally.done += 1
        except Exception as problem:
            tally.fail(f"socket get {record['_id']}: {problem!r}")
            await asyncio.sleep(0.01)


async def measure(server: Server, workers: list[Any], tally: Tally, warmup: float, seconds: float) -> Result:
    """Run `workers` through a warm-up, then count completions over a fixed window.

    Server CPU is read at the window's edges, so it covers exactly the counted requests
    (plus the few in flight at the edges, negligible over seconds).
    """
    tasks = [asyncio.ensure_future(worker) for worker in workers]
    await asyncio.sleep(warmup)
    cpu_before, client_before = server.cpu(), time.process_time()
    tally.counting, started = True, time.perf_counter()
    await asyncio.sleep(seconds)
    tally.counting, elapsed = False, time.perf_counter() - started
    cpu_after, client_after = server.cpu(), time.process_time()
    tally.running = False
    await asyncio.gather(*tasks)
    done = max(tally.done, 1)
    return Result(rps=tally.done / elapsed, requests=tally.done, server_us=(cpu_after - cpu_before) / done * 1e6,
                  client_load=(client_after - client_before) / elapsed,
                  errors=tally.errors, first_error=tally.first_error)


async def run_rest(scenario: str, server: Server, records: list[dict], args: argparse.Namespace) -> Result:
    """One REST scenario through a keep-alive ClientSession with `concurrency` connections."""
    import aiohttp
    from yarl import URL

    tally = Tally()
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        if scenario == "rest-get":
            urls = [(URL(f"{server.base}/strategies/{record['_id']}", encoded=True), record) for record in records]
            step = max(len(urls) // args.concurrency, 1)
            workers = [rest_get_worker(session, urls, (n * step) % len(urls), tally) for n in range(args.concurrency)]
        else:
            url = URL(f"{server.base}/strategies?type={FIND_TYPE}&$limit={FIND_LIMIT}", encoded=True)
            page = find_page(records, FIND_TYPE, FIND_LIMIT)
            workers = [rest_find_worker(session, url, page, tally) for _ in range(args.concurrency)]
        return await measure(server, workers, tally, args.warmup, args.seconds)


async def run_socket(server: Server, records: list[dict], args: argparse.Namespace) -> Result:
    """socket-get with `concurrency` websocket clients, one call in flight each."""
    import socketio

    clients = [socketio.AsyncClient(reconnection=False) for _ in range(args.concurrency)]
    await asyncio.gather(*(client.connect(server.base, transports=["websocket"]) for client in clients))
    try:
        tally = Tally()
        step = max(len(records) // len(clients), 1)
        workers = [socket_get_worker(client, records, (n * step) % len(records), tally)
                   for n, client in enumerate(clients)]
        return await measure(server, workers, tally, args.warmup, args.seconds)
    finally:
        await asyncio.gather(*(client.disconnect() for client in clients), return_exceptions=True)


async def run_wrk(scenario: str, server: Server, records: list[dict],
                  args: argparse.Namespace) -> tuple[float | None, float | None, str | None]:
    """REST throughput from wrk (1 thread), with server CPU per request; None when unusable.

    rest-get rotates through every id with a Lua script. Any non-2xx answer voids the figure;
    body checks are the Python generator's job, which ran first against the same server.
    """
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        if scenario == "rest-get":
            ids = ",".join(f'"{record["_id"]}"' for record in records)
            script.write(f"local ids = {{{ids}}}\nlocal i = 0\n"
                         "request = function()\n  i = i % #ids + 1\n"
                         '  return wrk.format("GET", "/strategies/" .. ids[i])\nend\n')
            url = f"{server.base}/"
        else:
            url = f"{server.base}/strategies?type={FIND_TYPE}&$limit={FIND_LIMIT}"
    command = ["wrk", "-t1", f"-c{args.concurrency}", f"-d{max(1, round(args.seconds))}s", "-s", script.name, url]
    try:
        cpu_before = server.cpu()
        process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE,
                                                       stderr=asyncio.subprocess.STDOUT)
        output = (await process.communicate())[0].decode()
        cpu_after = server.cpu()
    finally:
        os.unlink(script.name)
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if process.returncode or not found or not total:
        return None, None, f"wrk failed: {output[-300:]!r}"
    if "Non-2xx" in output:
        return None, None, f"wrk got error statuses: {output[-300:]!r}"
    return float(found[1]), (cpu_after - cpu_before) / max(int(total[1]), 1) * 1e6, None


async def run_scenario(scenario: str, server: Server, records: list[dict], args: argparse.Namespace) -> Result:
    """The Python generator's figure for one scenario, plus wrk's when wanted and possible."""
    if scenario == "socket-get":
        return await run_socket(server, records, args)
    result = await run_rest(scenario, server, records, args)
    if args.wrk and not result.errors:
        result.wrk_rps, result.wrk_server_us, note = await run_wrk(scenario, server, records, args)
        if note:
            result.notes.append(note)
    return result


# -- orchestration and output ----------------------------------------------------------------

def wait_for_memory_adapter(timeout: float) -> None:
    """Poll until the memory adapter imports (it may still be being written).

    Each attempt runs in a fresh interpreter, so a half-written module is never cached here.
    """
    import subprocess

    deadline = time.monotonic() + timeout
    code = ("import cryptorobot.server\n"
            "try:\n    from cryptorobot.adapters import MemoryService\n"
            "except ImportError:\n    from cryptorobot.adapters.memory import MemoryService\n")
    while True:
        attempt = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
        if attempt.returncode == 0:
            return
        if time.monotonic() >= deadline:
            raise SystemExit(f"cryptorobot's MemoryService does not import yet:\n{attempt.stderr[-1500:]}")
        print(f"waiting for {MEMORY_MODULE.relative_to(REPO)} to import ...", file=sys.stderr)
        time.sleep(10)


Rounds = dict[str, dict[str, list[Result]]]  # side -> scenario -> one Result per round


async def benchmark(args: argparse.Namespace) -> Rounds:
    """Every scenario on both sides, paired: both servers stay up (an idle one costs nothing)
    and each round measures bare and cryptorobot back to back, alternating which goes first.

    This machine is shared, so load from elsewhere drifts over seconds; pairing keeps each
    ratio's two figures close in time, and the median over rounds drops the outliers.
    """
    records = make_records(args.records)
    rounds: Rounds = {side: {scenario: [] for scenario in args.scenarios} for side in SIDES}
    servers = {side: Server(side, args.records) for side in SIDES}
    try:
        for round_number in range(args.rounds):
            for position, scenario in enumerate(args.scenarios):
                order = SIDES if (round_number + position) % 2 == 0 else SIDES[::-1]
                for side in order:
                    result = await run_scenario(scenario, servers[side], records, args)
                    rounds[side][scenario].append(result)
                    wrk = ("" if result.wrk_rps is None
                           else f"; wrk {result.wrk_rps:.0f} req/s, server {result.wrk_server_us:.1f} us/req")
                    print(f"  round {round_number + 1} {side:<11} {scenario:<10} {result.rps:8.0f} req/s "
                          f"server {result.server_us:6.1f} us/req, client {result.client_load:.2f} cores"
                          f"{wrk}{'  ERRORS' if result.errors else ''}", file=sys.stderr, flush=True)
    finally:
        for server in servers.values():
            server.stop()
    return rounds


def median(values: list[float | None]) -> float | None:
    present = [value for value in values if value]
    return statistics.median(present) if present else None


def paired_ratio(numerators: list[float | None], denominators: list[float | None]) -> float | None:
    """Median of the per-round ratios (each from two back-to-back measurements)."""
    return median([n / d if n and d else None for n, d in zip(numerators, denominators, strict=True)])


def cell(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_table(rounds: Rounds, args: argparse.Namespace) -> bool:
    """The comparison table (medians over rounds); False when any figure is void."""
    header = (f"{'scenario':<11} {'bare req/s':>10} {'cr req/s':>9} {'ratio':>6} | "
              f"{'bare us/req':>11} {'cr us/req':>9} {'ratio':>6}")
    if args.wrk:
        header += f" | {'wrk bare':>9} {'wrk cr':>8} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    valid = True
    for scenario in args.scenarios:
        bare, ours = rounds["bare"][scenario], rounds["cryptorobot"][scenario]

        def figures(results: list[Result], name: str) -> list[float | None]:
            return [None if r.errors else getattr(r, name) for r in results]  # void: "-"

        rps = (figures(bare, "rps"), figures(ours, "rps"))
        cpu = (figures(bare, "server_us"), figures(ours, "server_us"))
        line = (f"{scenario:<11} {cell(median(rps[0])):>10} {cell(median(rps[1])):>9} "
                f"{cell(paired_ratio(rps[1], rps[0]), 2):>6} | "
                f"{cell(median(cpu[0]), 1):>11} {cell(median(cpu[1]), 1):>9} "
                f"{cell(paired_ratio(cpu[0], cpu[1]), 2):>6}")
        if args.wrk:
            wrk = (figures(bare, "wrk_rps"), figures(ours, "wrk_rps"))
            line += (f" | {cell(median(wrk[0])):>9} {cell(median(wrk[1])):>8} "
                     f"{cell(paired_ratio(wrk[1], wrk[0]), 2):>6}")
        print(line)
        for side, results in (("bare", bare), ("cryptorobot", ours)):
            for result in results:
                if result.errors:
                    valid = False
                    print(f"  !! {side}: {result.errors} wrong/failed responses, figure void: {result.first_error}")
                for note in result.notes:
                    print(f"  note {side}: {note}")
    loads = [r.client_load for by_scenario in rounds.values() for results in by_scenario.values() for r in results]
    print(f"\nmedians of {args.rounds} round(s); ratios are medians of per-round pairs. "
          "req/s ratio = cryptorobot/bare;\nus/req = server CPU per request, its ratio "
          "bare/cryptorobot is the server's capacity ratio, whatever the client.\n"
          f"load generator CPU: {min(loads):.2f}-{max(loads):.2f} cores"
          + ("  (near 1.0: the Python client is the bottleneck; trust us/req and wrk ratios)"
             if max(loads) > 0.9 else ""))
    return valid


async def profile(args: argparse.Namespace) -> None:
    """Run one scenario against a cProfile'd cryptorobot server and print where its time goes."""
    records = make_records(args.records)
    server = Server("cryptorobot", args.records)
    warm_up = argparse.Namespace(**{**vars(args), "wrk": False, "seconds": 1})
    profiled = argparse.Namespace(**{**vars(args), "wrk": False, "warmup": 0})
    with tempfile.TemporaryDirectory() as folder:
        stats_path = os.path.join(folder, "server.prof")
        try:
            await run_scenario(args.profile, server, records, warm_up)
            server.request("profile-start")
            result = await run_scenario(args.profile, server, records, profiled)
            server.request("profile-stop", stats_path)
        finally:
            server.stop()
        stats = pstats.Stats(stats_path)
    print(f"\nprofile: {args.profile} on cryptorobot under cProfile, {result.requests} requests "
          f"({result.rps:.0f} req/s with profiler overhead){' ERRORS' if result.errors else ''}")
    print_profile(stats, max(result.requests, 1))


def print_profile(stats: pstats.Stats, requests: int) -> None:
    """Top 25 cryptorobot functions by cumulative time, then the top 12 outside it by own time.

    Times are per request (microseconds, inflated two- to three-fold by cProfile) and as a share of all
    profiled server time, so the breakdown reads as per-request overhead.
    """
    package = str(Path(importlib.util.find_spec("cryptorobot").origin).parent) + os.sep
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(tottime for (_, _, tottime, _, _) in entries.values()) or 1.0

    def label(key: tuple[str, int, str]) -> str:
        filename, line, function = key
        if filename.startswith(package):
            filename = "cryptorobot/" + filename[len(package):]
        elif "site-packages" in filename:
            filename = filename.split("site-packages" + os.sep, 1)[1]
        return f"{filename}:{line}({function})"

    def table(title: str, keys: list, sort_index: int, limit: int) -> None:
        print(f"\n{title}\n{'calls/req':>9} {'own us/req':>10} {'cum us/req':>10} {'cum %':>6}  function")
        for key in sorted(keys, key=lambda k: entries[k][sort_index], reverse=True)[:limit]:
            _, calls, tottime, cumtime, _ = entries[key]
            print(f"{calls / requests:>9.2f} {tottime / requests * 1e6:>10.1f} {cumtime / requests * 1e6:>10.1f} "
                  f"{cumtime / total * 100:>5.1f}%  {label(key)}")

    ours = [key for key in entries if key[0].startswith(package)]
    theirs = [key for key in entries if not key[0].startswith(package)]
    print(f"profiled server time: {total / requests * 1e6:.1f} us/request")
    table("top 25 cryptorobot functions by cumulative time", ours, sort_index=3, limit=25)
    table("top 12 functions outside cryptorobot by own time", theirs, sort_index=2, limit=12)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measured window per scenario")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured load before each window")
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32,
                        help="REST connections in the pool, and Socket.IO clients")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        type=lambda text: [s for s in text.split(",") if s])
    parser.add_argument("--rounds", type=int, default=3, help="paired rounds; medians are reported")
    parser.add_argument("--no-wrk", dest="wrk", action="store_false", help="skip wrk even when installed")
    parser.add_argument("--profile", nargs="?", const="rest-get", choices=SCENARIOS,
                        help="also profile cryptorobot on this scenario (default rest-get)")
    parser.add_argument("--wait", type=float, default=600, help="seconds to wait for the memory adapter")
    args = parser.parse_args(argv)
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    args.wrk = args.wrk and shutil.which("wrk") is not None
    return args


def main() -> None:
    args = parse_args()
    loop_name = install_uvloop()
    wait_for_memory_adapter(args.wait)
    print(f"kernel benchmark: {args.records} records, {args.seconds:g}s per scenario after "
          f"{args.warmup:g}s warm-up, concurrency {args.concurrency}, {loop_name} everywhere, "
          f"{os.cpu_count()} CPUs{', wrk column' if args.wrk else ''}", flush=True)
    valid = print_table(asyncio.run(benchmark(args)), args)
    if args.profile:
        asyncio.run(profile(args))
    sys.exit(0 if valid else 1)


if __name__ == "__main__":
    main()

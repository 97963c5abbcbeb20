"""Realtime benchmark (issue 17): cryptorobot against bare python-socketio and Feathers 5.

Three servers serve the same two services, each in a process of its own pinned to one core
(`taskset -c --server-core`); this process is the load generator, pinned to the other cores:

  bare         aiohttp + python-socketio as they come: plain handlers over dicts, `sio.emit`
               to a room for events (the floor of the stack cryptorobot is built on);
  cryptorobot  `App` + two `MemoryService`s + `create_web_app`, every connection in the
               channel `everybody`, every event published to it;
  feathers     Feathers 5 (koa, socketio, memory adapter) doing the same, from npm
               (`bench/feathers/`, `npm ci --prefix bench/feathers`); skipped without Node.

`strategies` holds the seeded records (kernel.py's), paginated; `messages` is created and
patched by the load. Phases:

  rest-get       GET /strategies/:id, ids rotating
  rest-find      GET /strategies?type=momentum&$limit=10 (a filter over 1,000 records)
  rest-create    POST /messages
  socket-get     50 sockets, emit("get", "strategies", id), one call in flight each
  socket-find    50 sockets, emit("find", "strategies", {type, $limit})
  socket-create  50 sockets creating messages, all 50 receiving every `messages created`
  fan-out        one socket patching a message, one patch in flight, 500 sockets receiving
                 `messages patched`; the unit is a delivered event

Every answer is checked (a wrong one voids the figure and the script exits 1); sockets are
raw Engine.IO/Socket.IO clients over aiohttp websockets (cheap, the same for every server).
Figures per phase and side: operations per second as the Python load generator drove them,
and the server's CPU per operation (`/proc/<pid>/stat`, so the same for Node and Python).
The ratio printed is capacity per core, other / cryptorobot CPU per operation; >= 1.0 means
cryptorobot serves at least as much per core as the other side.

    .venv/bin/python bench/realtime.py [--seconds 3] [--warmup 1] [--rounds 1] [--sides bare,cryptorobot,feathers]
                                       [--phases rest-get,...,fan-out] [--listeners 500] [--server-core 0]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
for folder in (REPO, HERE):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from kernel import FIND_LIMIT, FIND_TYPE, PAGINATE, find_page, install_uvloop, make_records  # noqa: E402

SIDES = ("bare", "cryptorobot", "feathers")
PHASES = ("rest-get", "rest-find", "rest-create", "socket-get", "socket-find", "socket-create", "fan-out")
FEATHERS = HERE / "feathers"
ROOM = "everybody"


# -- servers (each a child process: `realtime.py --serve SIDE --port N`) ---------------------

def bare_app(records: list[dict[str, Any]]) -> Any:
    """aiohttp + python-socketio, stock: the same services as plain handlers over dicts."""
    import socketio
    from aiohttp import web

    by_id = {record["_id"]: record for record in records}
    messages: dict[int, dict[str, Any]] = {}
    counter = itertools.count()
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*")

    def page(query: dict[str, Any]) -> dict[str, Any]:
        limit = min(int(query.get("$limit", PAGINATE["default"])), PAGINATE["max"])
        kind = query.get("type")
        matches = [record for record in records if kind is None or record["type"] == kind]
        return {"total": len(matches), "limit": limit, "skip": 0, "data": matches[:limit]}

    async def create(data: dict[str, Any]) -> dict[str, Any]:
        record = {**data, "_id": next(counter)}
        messages[record["_id"]] = record
        await sio.emit("messages created", record, room=ROOM)
        return record

    async def rest_get(request: web.Request) -> web.Response:
        record = by_id.get(request.match_info["id"])
        if record is None:
            return web.json_response({"name": "NotFound", "code": 404}, status=404)
        return web.Response(text=json.dumps(record), content_type="application/json")

    async def rest_find(request: web.Request) -> web.Response:
        return web.Response(text=json.dumps(page(dict(request.query))), content_type="application/json")

    async def rest_create(request: web.Request) -> web.Response:
        record = await create(await request.json())
        return web.Response(text=json.dumps(record), status=201, content_type="application/json")

    @sio.on("connect")
    async def connect(sid: str, environ: Any, auth: Any = None) -> None:
        await sio.enter_room(sid, ROOM)

    @sio.on("get")
    async def get(sid: str, path: str, id: Any, query: Any = None) -> Any:
        record = by_id.get(id)
        return (None, record) if record is not None else {"name": "NotFound", "code": 404}

    @sio.on("find")
    async def find(sid: str, path: str, query: Any = None) -> Any:
        return None, page(query or {})

    @sio.on("create")
    async def socket_create(sid: str, path: str, data: Any, query: Any = None) -> Any:
        return None, await create(data)

    @sio.on("patch")
    async def patch(sid: str, path: str, id: Any, data: Any, query: Any = None) -> Any:
        record = messages[id]
        record.update(data)
        await sio.emit("messages patched", record, room=ROOM)
        return None, record

    web_app = web.Application()
    sio.attach(web_app)
    web_app.router.add_get("/strategies/{id}", rest_get)
    web_app.router.add_get("/strategies", rest_find)
    web_app.router.add_post("/messages", rest_create)
    return web_app


def cryptorobot_app(records: list[dict[str, Any]]) -> Any:
    """cryptorobot's kernel: App, two MemoryServices, every event to the channel `everybody`."""
    from cryptorobot import App
    from cryptorobot.adapters.memory import MemoryService
    from cryptorobot.server import create_web_app

    app = App()
    app.use("strategies", MemoryService(id="_id", paginate=dict(PAGINATE)))
    app.use("messages", MemoryService(id="_id"))
    app.on("connection", lambda connection: app.channel(ROOM).join(connection))
    app.publish(lambda data, context: app.channel(ROOM))
    web_app = create_web_app(app)

    async def seed(_: Any) -> None:
        service = app.service("strategies")
        for record in records:
            await service.create(dict(record))

    web_app.on_startup.append(seed)
    return web_app


def serve(side: str, port: int, count: int) -> None:
    """The child's entry point: serve `side` on 127.0.0.1:`port`, print `ready PORT`, run until killed."""
    from aiohttp import web

    install_uvloop()
    records = make_records(count)

    async def main() -> None:
        web_app = bare_app(records) if side == "bare" else cryptorobot_app(records)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        print(f"ready {port}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """One server process pinned to a core; `cpu()` reads its CPU seconds from /proc."""

    def __init__(self, side: str, args: argparse.Namespace, records_file: str) -> None:
        self.side = side
        self.port = free_port()
        if side == "feathers":
            command = ["node", str(FEATHERS / "server.mjs"), records_file, str(self.port)]
        else:
            command = [sys.executable, __file__, "--serve", side, "--port", str(self.port), "--records", str(args.records)]
        self.process = subprocess.Popen(["taskset", "-c", str(args.server_core), *command], stdout=subprocess.PIPE,
                                        cwd=REPO, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("ready"):
            self.stop()
            raise RuntimeError(f"{side} server did not start (see its output above)")
        self.base = f"http://127.0.0.1:{self.port}"
        self._ticks = os.sysconf("SC_CLK_TCK")

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self._ticks  # utime + stime

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- the load generator's sockets ----------------------------------------------------------------

class RawSocket:
    """A minimal Socket.IO (v5 over Engine.IO v4) client on one aiohttp websocket: calls with
    acknowledgements, and a count of events whose frame starts with `counted`."""

    def __init__(self, counted: str = "") -> None:
        self.counted = f'42["{counted}' if counted else None
        self.events = 0
        self._ids = itertools.count()
        self._waiting: dict[int, asyncio.Future[list[Any]]] = {}
        self._ws: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def connect(self, session: Any, base: str) -> RawSocket:
        self._ws = await session.ws_connect(base.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket",
                                            max_msg_size=0, autoping=True, compress=0)
        opened = await self._ws.receive_str()
        assert opened.startswith("0"), opened
        await self._ws.send_str("40")
        joined = await self._ws.receive_str()
        assert joined.startswith("40"), joined
        self._reader = asyncio.ensure_future(self._read())
        return self

    async def _read(self) -> None:
        import aiohttp

        counted = self.counted
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            text: str = message.data
            if counted is not None and text.startswith(counted):
                self.events += 1
            elif text.startswith("43"):
                bracket = text.index("[")
                waiter = self._waiting.pop(int(text[2:bracket]), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(json.loads(text[bracket:]))
            elif text == "2":
                await self._ws.send_str("3")
        for waiter in self._waiting.values():
            if not waiter.done():
                waiter.set_exception(ConnectionError("socket closed"))

    async def call(self, *args: Any) -> list[Any]:
        number = next(self._ids)
        answer = self._waiting[number] = asyncio.get_running_loop().create_future()
        await self._ws.send_str(f"42{number}{json.dumps(args, separators=(',', ':'))}")
        return await asyncio.wait_for(answer, 30)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader


async def open_sockets(session: Any, server: Server, count: int, counted: str = "") -> list[RawSocket]:
    sockets: list[RawSocket] = []
    for start in range(0, count, 50):  # in batches: a listen backlog is not a benchmark
        sockets += await asyncio.gather(*(RawSocket(counted).connect(session, server.base)
                                          for _ in range(min(50, count - start))))
    return sockets


# -- phases ----------------------------------------------------------------------------------

@dataclass
class Tally:
    running: bool = True
    counting: bool = False
    done: int = 0
    errors: int = 0
    first_error: str | None = None

    def fail(self, problem: str) -> None:
        self.errors += 1
        self.first_error = self.first_error or problem


@dataclass
class Result:
    ops: float  # operations per second the load generator drove
    server_us: float  # server CPU microseconds per operation
    errors: int = 0
    first_error: str | None = None


Step = Callable[[int], Awaitable[str | None]]  # one operation; a problem, or None when right


async def loop_steps(step: Step, tally: Tally, start: int) -> None:
    index = start
    while tally.running:
        try:
            problem = await step(index)
        except Exception as failure:  # a dead server must show up, not hang the run
            problem = repr(failure)
            await asyncio.sleep(0.01)
        index += 1
        if problem is not None:
            tally.fail(problem)
        elif tally.counting:
            tally.done += 1


async def window(server: Server, tally: Tally, workers: list[Awaitable[None]], args: argparse.Namespace,
                 count: Callable[[], int] | None = None) -> Result:
    """Warm up, then count operations (`count()`, default the tally's) over `--seconds` of server CPU."""
    tasks = [asyncio.ensure_future(worker) for worker in workers]
    await asyncio.sleep(args.warmup)
    count = count or (lambda: tally.done)
    tally.counting = True
    first, cpu_before, started = count(), server.cpu(), time.perf_counter()
    await asyncio.sleep(args.seconds)
    done, cpu_after, elapsed = count() - first, server.cpu(), time.perf_counter() - started
    tally.counting = tally.running = False
    await asyncio.gather(*tasks)
    return Result(done / elapsed, (cpu_after - cpu_before) / max(done, 1) * 1e6, tally.errors, tally.first_error)


async def rest_phase(phase: str, server: Server, records: list[dict[str, Any]], args: argparse.Namespace) -> Result:
    import aiohttp

    tally = Tally()
    page = find_page(records, FIND_TYPE, FIND_LIMIT)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.concurrency)) as session:

        async def step(index: int) -> str | None:
            if phase == "rest-get":
                record = records[index % len(records)]
                async with session.get(f"{server.base}/strategies/{record['_id']}") as response:
                    body = await response.json()
                    return None if response.status == 200 and body == record else f"get: {response.status} {body}"[:200]
            if phase == "rest-find":
                async with session.get(f"{server.base}/strategies?type={FIND_TYPE}&$limit={FIND_LIMIT}") as response:
                    body = await response.json()
                    return None if body == page else f"find: {response.status} {body}"[:200]
            async with session.post(f"{server.base}/messages", json={"text": "hello", "n": index}) as response:
                body = await response.json()
                ok = response.status == 201 and body.get("n") == index and "_id" in body
                return None if ok else f"create: {response.status} {body}"[:200]

        workers = [loop_steps(step, tally, n * 31) for n in range(args.concurrency)]
        return await window(server, tally, workers, args)


async def socket_phase(phase: str, server: Server, records: list[dict[str, Any]], args: argparse.Namespace) -> Result:
    import aiohttp

    tally = Tally()
    page = find_page(records, FIND_TYPE, FIND_LIMIT)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sockets = await open_sockets(session, server, args.clients, counted="messages created")
        try:
            def worker(client: RawSocket, number: int) -> Awaitable[None]:
                async def step(index: int) -> str | None:
                    if phase == "socket-get":
                        record = records[index % len(records)]
                        answer = await client.call("get", "strategies", record["_id"])
                        return None if answer == [None, record] else f"get: {answer}"[:200]
                    if phase == "socket-find":
                        answer = await client.call("find", "strategies", {"type": FIND_TYPE, "$limit": FIND_LIMIT})
                        return None if answer == [None, page] else f"find: {answer}"[:200]
                    answer = await client.call("create", "messages", {"text": "hello", "n": index})
                    ok = len(answer) == 2 and answer[0] is None and answer[1].get("n") == index
                    return None if ok else f"create: {answer}"[:200]

                return loop_steps(step, tally, number * 1000)

            result = await window(server, tally, [worker(client, n) for n, client in enumerate(sockets)], args)
            if phase == "socket-create":  # every socket must have seen every create (all are done by now)
                await asyncio.sleep(0.5)
                seen = [client.events for client in sockets]
                if min(seen) != max(seen):
                    result.errors += 1
                    result.first_error = f"sockets saw {min(seen)}..{max(seen)} `messages created` events"
            return result
        finally:
            await asyncio.gather(*(client.close() for client in sockets))


async def fan_out_phase(server: Server, args: argparse.Namespace) -> Result:
    import aiohttp

    tally = Tally()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        writer = await RawSocket().connect(session, server.base)
        listeners = await open_sockets(session, server, args.listeners, counted="messages patched")
        try:
            created = await writer.call("create", "messages", {"text": "patched", "n": 0})
            message_id = created[1]["_id"]

            async def step(index: int) -> str | None:
                answer = await writer.call("patch", "messages", message_id, {"n": index})
                return None if answer[0] is None and answer[1].get("n") == index else f"patch: {answer}"[:200]

            def delivered() -> int:
                return sum(listener.events for listener in listeners)

            result = await window(server, tally, [loop_steps(step, tally, 1)], args, delivered)
            patches = tally.done
            await asyncio.sleep(0.5)
            seen = [listener.events for listener in listeners]
            if min(seen) != max(seen):
                result.errors += 1
                result.first_error = f"listeners saw {min(seen)}..{max(seen)} events after {patches} counted patches"
            return result
        finally:
            await asyncio.gather(writer.close(), *(listener.close() for listener in listeners))


async def run_phase(phase: str, server: Server, records: list[dict[str, Any]], args: argparse.Namespace) -> Result:
    if phase.startswith("rest-"):
        return await rest_phase(phase, server, records, args)
    if phase == "fan-out":
        return await fan_out_phase(server, args)
    return await socket_phase(phase, server, records, args)


# -- profiling -------------------------------------------------------------------------------

def start_py_spy(server: Server, args: argparse.Namespace) -> tuple[subprocess.Popen[bytes], str]:
    """py-spy (`pip install py-spy`: a sampling profiler, no instrumentation) on the server for one phase."""
    output = tempfile.mktemp(suffix=".txt")
    command = [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(server.process.pid),
               "--format", "raw", "--rate", "250", "--nonblocking", "--output", output]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), output


def print_py_spy(spy: tuple[subprocess.Popen[bytes], str], title: str, top: int = 30) -> None:
    """Stop py-spy and print the functions with the most samples of their own, and by inclusion."""
    process, output = spy
    process.send_signal(2)  # SIGINT: py-spy writes what it has
    process.wait(30)
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in Path(output).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [frame.split(" (")[0] + " " + frame.rsplit("/", 1)[-1].rstrip(")") for frame in stack.split(";")[1:]]
        if not frames:
            continue
        total += int(count)
        own[frames[-1]] = own.get(frames[-1], 0) + int(count)
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + int(count)
    os.unlink(output)
    print(f"\npy-spy, {title}: {total} samples; own / inclusive share", file=sys.stderr)
    for frame, count in sorted(own.items(), key=lambda item: -item[1])[:top]:
        print(f"  {count / total:6.1%} {inclusive[frame] / total:6.1%}  {frame}", file=sys.stderr)


# -- orchestration ---------------------------------------------------------------------------

UNITS = {"fan-out": "events"}


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


async def benchmark(args: argparse.Namespace) -> bool:
    records = make_records(args.records)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as records_file:
        json.dump(records, records_file)
    results: dict[str, dict[str, list[Result]]] = {side: {phase: [] for phase in args.phases} for side in args.sides}
    servers: dict[str, Server] = {}
    try:
        for side in args.sides:
            servers[side] = Server(side, args, records_file.name)
        await asyncio.sleep(1)  # seeding
        for round_number in range(args.rounds):
            for phase in args.phases:
                for side in args.sides:
                    spy = start_py_spy(servers[side], args) if side in args.py_spy else None
                    result = await run_phase(phase, servers[side], records, args)
                    if spy is not None:
                        print_py_spy(spy, f"{side} {phase}")
                    results[side][phase].append(result)
                    print(f"  round {round_number + 1} {phase:<13} {side:<11} {result.ops:9.0f} "
                          f"{UNITS.get(phase, 'ops')}/s  server {result.server_us:7.1f} us each"
                          f"{'  ERRORS: ' + str(result.first_error) if result.errors else ''}", file=sys.stderr, flush=True)
    finally:
        for server in servers.values():
            server.stop()
        os.unlink(records_file.name)

    others = [side for side in args.sides if side != "cryptorobot"]
    header = f"{'phase':<14}" + "".join(f"{side + ' /s':>15}{'us':>8}" for side in args.sides)
    header += "".join(f"{'vs ' + side:>13}" for side in others)
    print(header)
    print("-" * len(header))
    valid = True
    for phase in args.phases:
        line = f"{phase:<14}"
        cpu: dict[str, float | None] = {}
        for side in args.sides:
            good = [r for r in results[side][phase] if not r.errors]
            valid = valid and len(good) == len(results[side][phase])
            ops, cpu[side] = median([r.ops for r in good]), median([r.server_us for r in good])
            line += f"{'-' if ops is None else f'{ops:,.0f}':>15}{'-' if cpu[side] is None else f'{cpu[side]:.1f}':>8}"
        for side in others:
            ours, theirs = cpu.get("cryptorobot"), cpu[side]
            line += f"{'-' if not ours or not theirs else f'{theirs / ours:.2f}':>13}"
        print(line)
    print(f"\n/s: operations (fan-out: delivered events) per second the load generator drove; us: server CPU "
          f"per operation;\nvs X: X's CPU / cryptorobot's per operation (capacity per core; >= 1.0: cryptorobot "
          f"does at least as much). Medians of {args.rounds} round(s); servers on core {args.server_core}.")
    for side in args.sides:
        for phase in args.phases:
            for result in results[side][phase]:
                if result.errors:
                    print(f"  !! {side} {phase}: {result.errors} wrong answers, figure void: {result.first_error}")
    return valid


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32, help="REST connections")
    parser.add_argument("--clients", type=int, default=50, help="sockets of the socket-* phases")
    parser.add_argument("--listeners", type=int, default=500, help="listening sockets of the fan-out phase")
    parser.add_argument("--sides", default=",".join(SIDES), type=lambda text: [s for s in text.split(",") if s])
    parser.add_argument("--phases", default=",".join(PHASES), type=lambda text: [s for s in text.split(",") if s])
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--py-spy", default="", type=lambda text: [s for s in text.split(",") if s],
                        help="profile these sides' servers with py-spy in every phase (bare, cryptorobot)")
    parser.add_argument("--serve", choices=("bare", "cryptorobot"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if set(args.sides) - set(SIDES) or set(args.phases) - set(PHASES):
        parser.error(f"sides are {', '.join(SIDES)}; phases {', '.join(PHASES)}")
    if "feathers" in args.sides and (shutil.which("node") is None or not (FEATHERS / "node_modules").is_dir()):
        print("feathers skipped: needs Node and `npm ci --prefix bench/feathers`", file=sys.stderr)
        args.sides.remove("feathers")
    return args


def main() -> None:
    args = parse_args()
    if args.serve:
        serve(args.serve, args.port, args.records)
        return
    cores = set(range(os.cpu_count() or 1)) - {args.server_core}
    if cores:
        os.sched_setaffinity(0, cores)  # the load generator off the servers' core
    install_uvloop()
    print(f"realtime benchmark: {', '.join(args.sides)}; {args.seconds:g}s per phase after {args.warmup:g}s warm-up",
          flush=True)
    sys.exit(0 if asyncio.run(benchmark(args)) else 1)


if __name__ == "__main__":
    main()

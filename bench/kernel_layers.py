"""Where cryptorobot's per-request time goes, layer by layer, without a profiler.

cProfile (bench/kernel.py --profile) shows the call structure but inflates every small
Python call two- to three-fold, which distorts the shares of a kernel made of small calls.
This script times each layer of one request in-process instead (no sockets, no HTTP
parsing), against the bare handlers of bench/kernel.py over the same records, so a change
to one layer can be checked on its own. Each figure is the best of several batches: on a
shared machine the minimum is the stable estimate of the cost.

    .venv/bin/python bench/kernel_layers.py [--records 1000] [--calls 2000] [--repeats 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import kernel

Timed = Callable[[], Awaitable[Any]]

HEADERS = {"Host": "127.0.0.1:8080", "Accept": "*/*", "Accept-Encoding": "gzip, deflate",
           "User-Agent": "Python/3.11 aiohttp/3.14"}  # what the aiohttp client sends


async def time_batch(call: Timed, calls: int) -> float:
    """Microseconds per call over one batch of `calls` calls."""
    started = time.perf_counter()
    for _ in range(calls):
        await call()
    return (time.perf_counter() - started) / calls * 1e6


async def best_times(entries: list[tuple[str, str, Timed, int]], repeats: int) -> list[float]:
    """Best batch time of every layer, the layers taking turns batch by batch.

    Taking turns spreads each layer's samples over the whole run, so a burst of load from
    elsewhere on the machine cannot spoil all the samples of one layer.
    """
    for _, _, call, calls in entries:  # warm-up: caches, specialised bytecode
        await time_batch(call, min(calls, 200))
    best = [float("inf")] * len(entries)
    for _ in range(repeats):
        for index, (_, _, call, calls) in enumerate(entries):
            best[index] = min(best[index], await time_batch(call, calls))
    return best


async def layers(args: argparse.Namespace) -> list[tuple[str, str, Timed, int]]:
    """(scenario, label, call, calls) for every layer; labels are indented by depth."""
    from aiohttp.test_utils import make_mocked_request

    from cryptorobot import Connection, jsonutil
    from cryptorobot.adapters.matching import compile_query
    from cryptorobot.adapters.records import copy_json
    from cryptorobot.server import SOCKETIO_KEY, create_web_app
    from cryptorobot.transports.querystring import parse_query_string
    from cryptorobot.transports.rest import RestTransport

    records = kernel.make_records(args.records)
    record = records[len(records) // 2]
    page = kernel.find_page(records, kernel.FIND_TYPE, kernel.FIND_LIMIT)
    bare_get, bare_find, bare_socket_get = kernel.bare_handlers(records)

    app = kernel.new_cryptorobot_app()
    web_app = create_web_app(app)
    await app.setup(web_app)
    await kernel.seed(app, records)
    proxy, raw = app.service("strategies"), app.service("strategies").raw
    rest = RestTransport(app)
    socket = web_app[SOCKETIO_KEY]
    socket.connections["bench"] = Connection("socketio", {}, transport=socket, sid="bench")

    get_path = f"/strategies/{record['_id']}"
    find_path = f"/strategies?type={kernel.FIND_TYPE}&$limit={kernel.FIND_LIMIT}"
    get_request = make_mocked_request("GET", get_path, headers=HEADERS)
    bare_get_request = make_mocked_request("GET", get_path, headers=HEADERS, match_info={"id": record["_id"]})
    find_request = make_mocked_request("GET", find_path, headers=HEADERS)
    bare_find_request = make_mocked_request("GET", find_path, headers=HEADERS)
    get_params = {"query": {}, "headers": {k.lower(): v for k, v in HEADERS.items()}, "route": {}, "provider": "rest"}
    find_params = {"query": {"type": kernel.FIND_TYPE, "$limit": str(kernel.FIND_LIMIT)}, "provider": "rest"}
    sanitized_find = raw.sanitize(find_params)
    matcher = compile_query({"type": kernel.FIND_TYPE})
    stored = list(raw.store.values())
    by_id = {r["_id"]: r for r in records}
    many, few = args.calls, max(args.calls // 10, 100)
    item_path = f"/strategies/{record['_id']}"

    async def value(result: Any) -> Any:  # lets plain functions be timed like coroutines
        return result

    return [
        ("rest-get", "bare handler (lookup + json.dumps + web.Response)", lambda: bare_get(bare_get_request), many),
        ("rest-get", "  lookup + json.dumps only", lambda: value(json.dumps(by_id[record["_id"]])), many),
        ("rest-get", "cryptorobot RestTransport.handle", lambda: rest.handle(get_request), many),
        ("rest-get", "  _dispatch (path, params, hook chain)", lambda: rest._dispatch(get_request), many),
        ("rest-get", "    ServiceProxy.run('get') (context + hooks)",
         lambda: proxy.run("get", [record["_id"]], dict(get_params)), many),
        ("rest-get", "      AdapterService.get (sanitize + _get)", lambda: raw.get(record["_id"], get_params), many),
        ("rest-get", "        AdapterService.sanitize", lambda: value(raw.sanitize(get_params)), many),
        ("rest-get", "        MemoryService._get", lambda: raw._get(record["_id"], get_params), many),
        ("rest-get", "          copy_json(record)", lambda: value(copy_json(record)), many),
        ("rest-get", "    app.lookup (path resolution)", lambda: value(app.lookup(item_path, percent_encoded=True)), many),
        ("rest-get", "    lower-cased headers dict", lambda: value({k.lower(): v for k, v in get_request.headers.items()}), many),
        ("rest-get", "  jsonutil.dumps(record)", lambda: value(jsonutil.dumps(record)), many),
        ("rest-get", "  json.dumps(record) (bare)", lambda: value(json.dumps(record)), many),
        ("rest-find", "bare handler (comprehension + json.dumps)", lambda: bare_find(bare_find_request), few),
        ("rest-find", "cryptorobot RestTransport.handle", lambda: rest.handle(find_request), few),
        ("rest-find", "  parse_query_string", lambda: value(parse_query_string(find_path.split("?", 1)[1])), many),
        ("rest-find", "  ServiceProxy.run('find')", lambda: proxy.run("find", [], dict(find_params)), few),
        ("rest-find", "    MemoryService._find (sanitized)", lambda: raw._find(sanitized_find), few),
        ("rest-find", "      compiled matcher over the store", lambda: value([r for r in stored if matcher(r)]), few),
        ("rest-find", "      the same test inline (comprehension)",
         lambda: value([r for r in stored if r.get("type") == kernel.FIND_TYPE]), few),
        ("rest-find", "  jsonutil.dumps(page)", lambda: value(jsonutil.dumps(page)), few),
        ("rest-find", "  json.dumps(page) (bare)", lambda: value(json.dumps(page)), few),
        ("socket-get", "bare 'get' handler", lambda: bare_socket_get("bench", "strategies", record["_id"]), many),
        ("socket-get", "cryptorobot SocketIOTransport._on_event",
         lambda: socket._on_event("get", "bench", "strategies", record["_id"]), many),
    ]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=2000, help="calls per batch for cheap layers (a tenth for find)")
    parser.add_argument("--repeats", type=int, default=15, help="batches per layer; the best is kept")
    return parser.parse_args()


async def main(args: argparse.Namespace) -> None:
    entries = await layers(args)
    times = await best_times(entries, args.repeats)
    print(f"{'us/call':>8}  layer ({args.records} records; best of {args.repeats} batches, in-process, no profiler)")
    scenario_now = None
    for (scenario, label, _, _), micros in zip(entries, times, strict=False):
        if scenario != scenario_now:
            print(f"-- {scenario}")
            scenario_now = scenario
        print(f"{micros:8.2f}  {label}")


if __name__ == "__main__":
    kernel.install_uvloop()
    asyncio.run(main(parse_args()))

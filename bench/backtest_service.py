"""A 1-year hourly backtest through the `backtests` service: time from create to `completed`.

One `cryptorobot serve` process (the platform, SQLite storage, a warm pool of `--workers`)
with 8,760 hourly candles of a seeded walk stored; this process is the client: one
Socket.IO connection, logged in, creates the backtest (SMA(10)/SMA(30), all in, 0.1%
fees) and waits for the `backtests patched` event whose state is `completed`. The
reference, in the same run: the engine alone in this process (`run_backtest` and its wire
form, what a worker computes). Each completed record's results are checked against the
reference's; a mismatch exits 1.

    .venv/bin/python bench/backtest_service.py [--rounds 20] [--bars 8760] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as `python bench/backtest_service.py` without installing the repo
    sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402
import socketio  # noqa: E402

from cryptorobot import jsonutil  # noqa: E402
from services.backtests.jobs import BacktestJob  # noqa: E402
from tests.backtest_data import EXCHANGE, HOUR_MS, START, store_candles, walk  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402

PASSWORD = "correct horse battery"
SETTINGS = {"fastPeriod": 10, "slowPeriod": 30}


def body(bars: int) -> dict[str, Any]:
    return {"type": "sma_cross", "settings": SETTINGS, "exchange": EXCHANGE, "symbol": "BTC/USDT", "timeframe": "1h",
            "start": START, "end": START + bars * HOUR_MS, "initialCash": 10_000, "fees": 0.001}


def engine_alone(bars: int, rounds: int) -> tuple[list[float], dict[str, Any]]:
    """Seconds of each `run_backtest` + wire form in this process, and the wire results."""
    job = BacktestJob(walk(bars), "sma_cross", SETTINGS, "BTC/USDT", 10_000.0, 0.001, "next_point", False, False)
    times, output = [], {}
    for _ in range(rounds):
        began = time.perf_counter()
        output = job.run()
        times.append(time.perf_counter() - began)
    return times, json.loads(jsonutil.dumps(output["results"]))


async def through_the_service(url: str, bars: int, rounds: int) -> tuple[list[float], dict[str, Any]]:
    """Seconds from each create call to its `completed` event over one socket, and the last results."""
    async with aiohttp.ClientSession() as http, http.post(
            f"{url}/users", json={"email": "bench@example.com", "password": PASSWORD}) as answer:
        assert answer.status == 201, await answer.text()
    sio = socketio.AsyncClient(reconnection=False)
    done: dict[Any, asyncio.Future[dict[str, Any]]] = {}
    loop = asyncio.get_running_loop()

    async def patched(record: dict[str, Any]) -> None:
        if record["state"] in ("completed", "failed", "cancelled"):
            done.setdefault(record["_id"], loop.create_future()).set_result(record)

    sio.on("backtests patched", patched)
    await sio.connect(url, transports=["websocket"])
    error, _ = await sio.call("create", ("authentication", {"strategy": "local", "email": "bench@example.com",
                                                            "password": PASSWORD}, {}))
    assert error is None, error
    times, results = [], {}
    try:
        for _ in range(rounds):
            began = time.perf_counter()
            error, record = await sio.call("create", ("backtests", body(bars), {}))
            assert error is None, error
            finished = await asyncio.wait_for(done.setdefault(record["_id"], loop.create_future()), 60)
            times.append(time.perf_counter() - began)
            if finished["state"] != "completed":
                raise SystemExit(f"the run ended {finished['state']}: {finished.get('message')}")
            results = finished["results"]
    finally:
        await sio.disconnect()
    return times, results


def describe(times: list[float]) -> str:
    return (f"median {statistics.median(times) * 1000:7.1f} ms   min {min(times) * 1000:7.1f} ms   "
            f"max {max(times) * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--bars", type=int, default=8_760)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        store_candles(workdir / "data", walk(options.bars))
        server = ServerProcess("cryptorobot.platform:create_app", workdir, env={
            "CRYPTOROBOT_STORAGE": "sqlite", "CRYPTOROBOT_LOGGING__LEVEL": "WARNING",
            "CRYPTOROBOT_BACKTESTS__WORKERS": str(options.workers), "CRYPTOROBOT_BACKTESTS__WARM": "true",
            "CRYPTOROBOT_RATELIMIT__ENABLED": "false"})
        server.start(timeout=120)
        try:
            service, got = asyncio.run(through_the_service(server.url, options.bars, options.rounds))
        finally:
            server.stop()
    alone, want = engine_alone(options.bars, options.rounds)
    if got != want:
        raise SystemExit("the service's results differ from run_backtest's")
    print(f"{options.bars} hourly bars, {options.rounds} rounds, {options.workers} warm workers")
    print(f"  create -> completed (socket)  {describe(service)}")
    print(f"  run_backtest + wire (engine)  {describe(alone)}")
    print(f"  ratio service / engine (medians): {statistics.median(service) / statistics.median(alone):.1f}")


if __name__ == "__main__":
    main()

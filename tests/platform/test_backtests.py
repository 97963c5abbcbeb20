"""`backtests`: runs in the worker pool over REST and Socket.IO, on memory and SQLite storage."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from backtest_support import (
    SMA,
    START,
    finished,
    pages,
    request,
    socket_run,
    store_candles,
    walk,
)
from cryptorobot.config import load_config
from cryptorobot.platform import create_app
from engine.candles import Candles
from platform_support import Platform, as_json, not_found, socket_login
from services.backtests.jobs import BacktestJob
from services.backtests.service import RESTARTED

BUSY = {"fastPeriod": 2, "slowPeriod": 3}
"""Settings that act at most bars: the slowest runs, for progress and cancellation."""
LONG = 1_000_000
_candles: dict[int, Candles] = {}


def candles(bars: int) -> Candles:
    if bars not in _candles:
        _candles[bars] = walk(bars)
    return _candles[bars]


def expected(bars: int, **options: Any) -> dict[str, Any]:
    """What `run_backtest` itself gives for `request(bars, **options)` (the job the service runs)."""
    body = request(bars, **options)
    job = BacktestJob(candles(bars), body["type"], body["settings"], body["symbol"], float(body["initialCash"]),
                      float(body.get("fees", 0.001)), body.get("fillModel", "next_point"), body.get("fractional", False),
                      body.get("finalizeTrades", False))
    return as_json(job.run())


async def test_a_backtest_answers_at_once_then_completes_with_the_engines_results(platform: Platform,
                                                                                   tmp_path: Path) -> None:
    store_candles(tmp_path, candles(3_000))
    ann, token = await platform.member("ann@example.com")
    status, record = await platform.request("POST", "/backtests", json=request(3_000, finalizeTrades=True),
                                            token=token)
    assert status == 201, record
    assert {key: record[key] for key in ("userId", "state", "progress", "message", "results", "type", "settings",
                                         "bars", "fees", "fillModel", "fractional", "strategyId")} == {
        "userId": ann["_id"], "state": "loading_data", "progress": 0.0, "message": None, "results": None,
        "type": "sma_cross", "settings": {**SMA, "sizing": "All-in", "orderSize": 1.0}, "bars": 3_000, "fees": 0.001,
        "fillModel": "next_point", "fractional": False, "strategyId": None}
    done = as_json(await finished(platform.app, record["_id"]))
    want = expected(3_000, finalizeTrades=True)
    assert (done["state"], done["progress"], done["message"]) == ("completed", 100.0, None)
    assert done["results"] == want["results"]
    status, got = await platform.request("GET", f"/backtests/{record['_id']}", token=token)
    assert (status, got["results"]) == (200, want["results"])
    logs = await pages(platform, f"/backtests/{record['_id']}/logs", token, 100)
    positions = await pages(platform, f"/backtests/{record['_id']}/positions", token, 40)
    assert logs == want["logs"] and len(logs) > 100
    assert positions == [{**row, "seq": seq} for seq, row in enumerate(want["positions"])] and len(positions) > 40
    assert await pages(platform, f"/backtests/{record['_id']}/trades", token, 100) == want["trades"]
    assert await pages(platform, f"/backtests/{record['_id']}/orders", token, 100) == want["orders"]
    status, closed = await platform.request("GET", f"/backtests/{record['_id']}/positions?status=open", token=token)
    assert (status, closed["total"]) == (200, 0)  # finalizeTrades sold everything


async def test_over_socketio_the_owner_sees_each_state_and_the_progress_in_order(platform: Platform, tmp_path: Path,
                                                                               sockets: Any) -> None:
    store_candles(tmp_path, candles(LONG))
    await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    error, record = await socket.call("create", "backtests", request(100_000, settings=BUSY), {})
    assert error is None, error
    assert record["state"] == "loading_data"
    patches = await socket_run(socket, record["_id"])
    states = [patch["state"] for patch in patches]
    assert states[0] == "executing" and states[-1] == "completed", states
    assert set(states[1:-1]) <= {"executing"}
    progress = [patch["progress"] for patch in patches]
    assert progress == sorted(progress) and progress[-1] == 100.0
    sent = [time.mktime(time.strptime(patch["updatedAt"][:19], "%Y-%m-%dT%H:%M:%S")) for patch in patches[1:-1]]
    assert len(sent) <= 4 * (max(sent, default=0) - min(sent, default=0) + 1) + 1  # a few a second at most


async def test_cancel_stops_a_run_within_a_second(platform: Platform, tmp_path: Path, sockets: Any) -> None:
    store_candles(tmp_path, candles(LONG))
    await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    error, record = await socket.call("create", "backtests", request(LONG, settings=BUSY), {})
    assert error is None, error
    await socket_run(socket, record["_id"], until=("executing",))
    began = time.monotonic()
    error, cancelled = await socket.call("cancel", "backtests", {"id": record["_id"]}, {})
    assert time.monotonic() - began < 1.0
    assert error is None, error
    assert (cancelled["state"], cancelled["message"], cancelled["results"]) == (
        "cancelled", "Cancelled before it finished.", None)
    assert (await socket_run(socket, record["_id"]))[-1] == cancelled
    error, again = await socket.call("cancel", "backtests", {"id": record["_id"]}, {})
    assert (error, again["state"]) == (None, "cancelled")  # a finished run stays as it is


async def test_a_run_whose_worker_dies_fails_with_a_message_and_the_pool_recovers(platform: Platform,
                                                                                  tmp_path: Path) -> None:
    store_candles(tmp_path, candles(LONG))
    _, token = await platform.member("ann@example.com")
    status, record = await platform.request("POST", "/backtests", json=request(LONG, settings=BUSY), token=token)
    assert status == 201, record
    arrived = await _executing(platform, record["_id"])
    assert arrived["state"] == "executing"
    for worker in multiprocessing.active_children():
        os.kill(worker.pid, signal.SIGKILL)  # type: ignore[arg-type]
    failed = await finished(platform.app, record["_id"])
    assert (failed["state"], failed["message"]) == (
        "failed", "A worker process ended during the run (killed, or out of memory).")
    status, second = await platform.request("POST", "/backtests", json=request(500), token=token)
    assert (await finished(platform.app, second["_id"]))["state"] == "completed"


async def _executing(platform: Platform, id: Any) -> dict[str, Any]:
    import asyncio

    arrived: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    def listener(record: dict[str, Any], *_: Any) -> None:
        if str(record["_id"]) == str(id) and record["state"] != "loading_data" and not arrived.done():
            arrived.set_result(record)

    platform.app.service("backtests").on("patched", listener)
    try:
        return await asyncio.wait_for(arrived, 30)
    finally:
        platform.app.service("backtests").off("patched", listener)


async def test_an_order_the_market_refuses_fails_the_run_with_its_message(platform: Platform, tmp_path: Path) -> None:
    store_candles(tmp_path, candles(500))
    _, token = await platform.member("ann@example.com")
    body = request(500, settings={**SMA, "sizing": "Base amount", "orderSize": 1e-12}, fractional=True)
    status, record = await platform.request("POST", "/backtests", json=body, token=token)
    assert status == 201, record
    failed = await finished(platform.app, record["_id"])
    assert (failed["state"], failed["message"], failed["results"]) == (
        "failed", "amount 1e-12 truncates to 0 at the amount precision 1e-08", None)


async def test_another_user_sees_none_of_it(platform: Platform, tmp_path: Path, sockets: Any, settled: Any) -> None:
    store_candles(tmp_path, candles(500))
    _, ann_token = await platform.member("ann@example.com")
    _, bob_token = await platform.member("bob@example.com")
    bob_socket = await sockets(platform.http)
    await socket_login(bob_socket, "bob@example.com")
    status, record = await platform.request("POST", "/backtests", json=request(500), token=ann_token)
    assert status == 201
    await finished(platform.app, record["_id"])
    id = record["_id"]
    for path in (f"/backtests/{id}", f"/backtests/{id}/logs", f"/backtests/{id}/positions"):
        status, body = await platform.request("GET", path, token=bob_token)
        assert (status, body["data"]["code"]) == (404, "NOT_FOUND"), path
    assert await platform.request("DELETE", f"/backtests/{id}", token=bob_token) == (404, not_found(id))
    error = await bob_socket.call("cancel", "backtests", {"id": id}, {})
    assert (error["code"], error["data"]["code"]) == (404, "NOT_FOUND")
    status, found = await platform.request("GET", "/backtests", token=bob_token)
    assert (status, found["total"]) == (200, 0)
    await settled(platform.app, bob_socket)
    assert bob_socket.received == []


async def test_remove_deletes_the_run_and_its_rows(platform: Platform, tmp_path: Path) -> None:
    store_candles(tmp_path, candles(500))
    _, token = await platform.member("ann@example.com")
    _, record = await platform.request("POST", "/backtests", json=request(500), token=token)
    await finished(platform.app, record["_id"])
    status, _ = await platform.request("DELETE", f"/backtests/{record['_id']}", token=token)
    assert status == 200
    assert (await platform.request("GET", f"/backtests/{record['_id']}/logs", token=token))[0] == 404
    for rows in platform.app.service("backtests").raw.rows.values():
        assert (await rows.find({"query": {}}))["total"] == 0


def _refused(field: str, message: str) -> tuple[str, dict[str, str]]:
    return "INVALID_SETTINGS", {field: message}


@pytest.mark.parametrize(("changes", "code", "errors"), [
    ({"type": "nope"}, "INVALID_SETTINGS", None),
    ({"settings": {"fastPeriod": 0}}, "INVALID_SETTINGS", None),
    ({"settings": {"what": 1}}, "INVALID_SETTINGS", None),
    ({"symbol": "BTCUSDT"}, "INVALID_SETTINGS", None),
    ({"timeframe": "7x"}, "INVALID_TIMEFRAME", None),
    ({"timeframe": "1d", "start": START - 400 * 86_400_000, "end": START - 200 * 86_400_000}, "NO_CANDLES", None),
    ({"symbol": "ETH/USDT"}, "NO_CANDLES", None),
    ({"end": START}, "VALIDATION_FAILED", {"end": ["Must be after start."]}),
    ({"fillModel": "mid"}, "VALIDATION_FAILED", {"fillModel": ["Must be one of: next_point, close."]}),
    ({"fees": 0.5}, "VALIDATION_FAILED", None),
    ({"initialCash": -1}, "VALIDATION_FAILED", {"initialCash": ["Must be a positive number."]}),
    ({"strategyId": "s1"}, "VALIDATION_FAILED", None),
    ({"state": "completed"}, "VALIDATION_FAILED", {"state": ["Unknown field."]}),
])
async def test_bad_requests_are_400_before_anything_runs(platform: Platform, tmp_path: Path, changes: dict[str, Any],
                                                        code: str, errors: dict[str, Any] | None) -> None:
    store_candles(tmp_path, candles(500))
    _, token = await platform.member("ann@example.com")
    status, body = await platform.request("POST", "/backtests", json=request(500, **changes), token=token)
    assert (status, body["data"]["code"]) == (400, code), body
    if errors is not None:
        assert body["errors"] == errors
    assert (await platform.request("GET", "/backtests", token=token))[1]["total"] == 0


async def test_a_strategy_id_runs_the_owners_strategy(platform: Platform, tmp_path: Path) -> None:
    store_candles(tmp_path, candles(500))
    _, token = await platform.member("ann@example.com")
    _, bobs_token = await platform.member("bob@example.com")
    status, mine = await platform.request("POST", "/strategies", json={"name": "mine", "type": "rsi", "pair": "BTC/USDT",
                                                                       "settings": {"period": 10}}, token=token)
    assert status == 201, mine.get("errors")
    status, theirs = await platform.request("POST", "/strategies", json={"name": "theirs", "type": "rsi", "pair": "BTC/USDT"},
                                            token=bobs_token)
    assert status == 201, theirs
    body = {key: value for key, value in request(500).items() if key not in ("type", "settings")}
    status, record = await platform.request("POST", "/backtests", json={**body, "strategyId": mine["_id"]}, token=token)
    assert status == 201, record
    assert (record["strategyId"], record["type"], record["settings"]["period"]) == (mine["_id"], "rsi", 10)
    assert (await finished(platform.app, record["_id"]))["state"] == "completed"
    status, refused = await platform.request("POST", "/backtests", json={**body, "strategyId": theirs["_id"]},
                                             token=token)
    assert (status, refused["data"]["code"], list(refused["errors"])) == (400, "INVALID_SETTINGS", ["strategyId"])


@pytest.mark.parametrize("storage", ["sqlite"])
async def test_a_restart_during_a_run_marks_it_failed(storage: str, tmp_path: Path) -> None:
    store_candles(tmp_path, candles(LONG))
    settings = {**load_config("test", environ={}), "data_dir": str(tmp_path), "storage": storage}
    first = create_app(settings)
    await first.setup()
    record = await first.service("backtests").create({**request(LONG, settings=BUSY), "userId": "ann"})
    await first.teardown()  # the run is cut short: its task cancelled, its worker stopped
    second = create_app(settings)
    await second.setup()
    try:
        again = await second.service("backtests").get(record["_id"])
        assert (again["state"], again["message"]) == ("failed", RESTARTED)
    finally:
        await second.teardown()



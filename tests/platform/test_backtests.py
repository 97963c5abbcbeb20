"""`backtests`: runs in the worker pool over REST and Socket.IO, on memory and SQLite storage."""

from __future__ import annotations

from pathlib import Path

from backtest_support import finished, request, store_candles, walk

from platform_support import Platform


async def test_a_backtest_runs_to_completed(platform: Platform, tmp_path: Path) -> None:
    store_candles(tmp_path, walk(2_000))
    _, token = await platform.member("ann@example.com")
    status, record = await platform.request("POST", "/backtests", json=request(), token=token)
    assert status == 201, record
    assert record["state"] == "loading_data"
    done = await finished(platform.app, record["_id"])
    assert done["state"] == "completed", done

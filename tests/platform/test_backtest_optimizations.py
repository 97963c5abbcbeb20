"""`backtests/optimizations`: Optuna searches whose trials run in the worker pool, over REST and Socket.IO."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backtest_support import request, socket_run, store_candles, walk
from platform_support import Platform, as_json, socket_login
from services.backtests.jobs import BacktestJob, TrialJob

PATH = "backtests/optimizations"
RANGES = {"fastPeriod": {"low": 2, "high": 40}, "slowPeriod": {"low": 10, "high": 60, "step": 5}}


def search(bars: int = 2_000, **changes: Any) -> dict[str, Any]:
    return {**request(bars), "ranges": RANGES, "nTrials": 12, "seed": 3, **changes}


async def test_a_search_runs_every_trial_and_keeps_the_best(platform: Platform, tmp_path: Path, sockets: Any) -> None:
    candles = walk(2_000)
    store_candles(tmp_path, candles)
    ann, _ = await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    error, record = await socket.call("create", "backtests/optimizations", search(), {})
    assert error is None, error
    assert (record["state"], record["userId"], record["trialsDone"], record["parallel"]) == ("loading_data", ann["_id"],
                                                                                           0, 1)
    patches = await socket_run(socket, record["_id"], path=PATH)
    done = patches[-1]
    assert patches[0]["state"] == "executing" and done["state"] == "completed"
    assert [patch["trialsDone"] for patch in patches] == sorted(patch["trialsDone"] for patch in patches)
    trials = done["trials"]
    assert sorted(trial["number"] for trial in trials) == list(range(12)) and done["trialsDone"] == 12
    complete = [trial for trial in trials if trial["state"] == "complete"]
    failed = [trial for trial in trials if trial["state"] == "failed"]
    assert all(trial["message"] for trial in failed)  # e.g. a fast period above the slow one
    best = max(complete, key=lambda trial: trial["value"])
    assert done["best"] == {key: best[key] for key in ("number", "value", "settings", "statistics")}
    for trial in complete:
        assert RANGES["fastPeriod"]["low"] <= trial["settings"]["fastPeriod"] <= RANGES["fastPeriod"]["high"]
        assert trial["settings"]["slowPeriod"] % 5 == 0
    job = BacktestJob(candles[:2_000], "sma_cross", best["settings"], "BTC/USDT", 10_000.0, 0.001, "next_point", False,
                      False)
    assert as_json(TrialJob(job, "Sharpe Ratio").run())["statistics"] == best["statistics"]  # the trial is a backtest


@pytest.mark.parametrize(("changes", "errors"), [
    ({"ranges": {"sizing": {"low": 1, "high": 2}}}, {"ranges.sizing": "option settings can not be searched, only numbers"}),
    ({"ranges": {"fastPeriod": {"low": 0, "high": 5}}}, {"ranges.fastPeriod": "low must be at least 1, the setting's minimum"}),
    ({"ranges": {"fastPeriod": {"low": 1.5, "high": 5}}},
     {"ranges.fastPeriod": "a whole-number setting takes whole low, high and step"}),
    ({"ranges": {"nope": {"low": 1, "high": 5}}},
     {"ranges.nope": "sma_cross has no setting 'nope' (it has fastPeriod, slowPeriod, sizing, orderSize)"}),
    ({"ranges": {}}, {"ranges": "give at least one setting to search"}),
])
async def test_ranges_are_checked_against_the_settings_schema(platform: Platform, tmp_path: Path,
                                                              changes: dict[str, Any], errors: dict[str, str]) -> None:
    store_candles(tmp_path, walk(500))
    _, token = await platform.member("ann@example.com")
    status, body = await platform.request("POST", "/backtests/optimizations", json=search(500, **changes), token=token)
    assert (status, body["data"]["code"], body["errors"]) == (400, "INVALID_SETTINGS", errors)


@pytest.mark.parametrize(("changes", "field"), [({"objective": "Luck"}, "objective"), ({"nTrials": 0}, "nTrials"),
                                                ({"direction": "up"}, "direction")])
async def test_search_options_are_validated(platform: Platform, tmp_path: Path, changes: dict[str, Any],
                                            field: str) -> None:
    store_candles(tmp_path, walk(500))
    _, token = await platform.member("ann@example.com")
    status, body = await platform.request("POST", "/backtests/optimizations", json=search(500, **changes), token=token)
    assert (status, body["data"]["code"], list(body["errors"])) == (400, "VALIDATION_FAILED", [field])


async def test_cancel_keeps_the_finished_trials_and_another_user_sees_nothing(platform: Platform, tmp_path: Path,
                                                                              sockets: Any) -> None:
    store_candles(tmp_path, walk(200_000))
    _, ann_token = await platform.member("ann@example.com")
    _, bob_token = await platform.member("bob@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    error, record = await socket.call("create", "backtests/optimizations",
                                      search(200_000, nTrials=200, ranges={"fastPeriod": {"low": 2, "high": 3},
                                                                           "slowPeriod": {"low": 3, "high": 4}}), {})
    assert error is None, error
    status, body = await platform.request("GET", f"/backtests/optimizations/{record['_id']}", token=bob_token)
    assert (status, body["data"]["code"]) == (404, "NOT_FOUND")
    status, body = await platform.request("POST", "/backtests/optimizations", json={"id": record["_id"]},
                                          token=bob_token, headers={"X-Service-Method": "cancel"})
    assert status == 404
    await socket_run(socket, record["_id"], until=("executing",), path=PATH)
    status, cancelled = await platform.request("POST", "/backtests/optimizations", json={"id": record["_id"]},
                                               token=ann_token, headers={"X-Service-Method": "cancel"})
    assert (status, cancelled["state"]) == (200, "cancelled"), cancelled
    assert cancelled["trialsDone"] == len(cancelled["trials"]) < 200

"""run_backtest as the backtests service will call it: options refused field by field, progress,
cancellation, a worker process, the JSON result; and the pod's side of the interface."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pytest

from engine.backtest import CANCEL_POLL_MS, CHECK_EVERY, BacktestCancelled, BacktestResult, backtest_market, run_backtest
from engine.candles import Candles
from engine.errors import InvalidOrder, InvalidSettings
from engine.strategies import register, unregister
from tests.engine.strategy_support import Bracket, walk

CANDLES = walk(3_000, 5, volatility=0.02)
BUSY = {"lookback": 1, "threshold": 0.0}  # momentum that trades on most bars


@pytest.fixture
def bracket() -> Iterator[None]:
    register(Bracket)
    yield
    unregister(Bracket.type)


@pytest.mark.parametrize(("options", "errors"), [
    ({"cash": 0}, {"initialCash": "must be a positive number"}),
    ({"cash": float("inf")}, {"initialCash": "must be a positive number"}),
    ({"commission": 0.2}, {"commission": "must be a fee rate from 0 to 0.1 (a fraction: 0.001 is 0.1%)"}),
    ({"fill_model": "vwap", "mode": "fast"}, {"fillModel": "must be one of next_point, close",
                                              "mode": "must be one of declared, every_bar, live"}),
    ({"symbol": "BTCUSDT"}, {"symbol": "must be BASE/QUOTE or BASE/QUOTE:QUOTE, not 'BTCUSDT'"}),
    ({"symbol": "BTC/USDT:BTC"}, {"symbol": "must be BASE/QUOTE or BASE/QUOTE:QUOTE, not 'BTC/USDT:BTC'"}),
])
def test_options_are_refused_field_by_field_before_anything_runs(options: dict[str, Any], errors: dict[str, str]) -> None:
    with pytest.raises(InvalidSettings) as caught:
        run_backtest(CANDLES, "momentum", {}, **options)
    assert caught.value.errors == errors


def test_no_candles_and_bad_settings_are_refused_too() -> None:
    with pytest.raises(InvalidSettings) as caught:
        run_backtest(Candles.empty("1h"), "momentum")
    assert caught.value.errors == {"candles": "no candles to run over"}
    with pytest.raises(InvalidSettings) as caught:
        run_backtest(CANDLES, "momentum", {"lookback": 0})
    assert caught.value.errors == {"lookback": "must be at least 1"}


class SteppingClock:
    """A wall clock that moves `step` ms at every look."""

    def __init__(self, step: int) -> None:
        self.now, self.step = 0, step

    def now_ms(self) -> int:
        self.now += self.step
        return self.now


def test_progress_is_reported_at_most_every_250_ms_of_wall_clock() -> None:
    reports: list[float] = []
    looks = SteppingClock(100)  # one look in CHECK_EVERY events moves 100 ms: a report every third look
    run_backtest(CANDLES, "momentum", BUSY, progress=reports.append, wall_clock=looks)
    assert 2 <= len(reports) <= looks.now // 250
    assert reports == sorted(reports) and reports[0] > 0 and reports[-1] < 100
    assert run_backtest(CANDLES, "momentum", BUSY, progress=reports.append, wall_clock=SteppingClock(0)) is not None
    assert len(reports) == len(sorted(reports))  # a still clock: no more reports


def test_a_set_cancel_flag_stops_the_run_within_a_check() -> None:
    polls = 0

    def cancelled() -> bool:
        nonlocal polls
        polls += 1
        return polls >= 3

    with pytest.raises(BacktestCancelled, match="cancelled at bar"):
        run_backtest(CANDLES, "momentum", BUSY, cancelled=cancelled, wall_clock=SteppingClock(CANCEL_POLL_MS))
    assert polls == 3  # at the start, then every CHECK_EVERY events: it stopped at the first look after the flag
    assert CHECK_EVERY <= 1024


def test_the_cancel_flag_is_polled_at_most_every_50_ms_of_wall_clock() -> None:
    polls = 0

    def cancelled() -> bool:
        nonlocal polls
        polls += 1
        return False

    looks = SteppingClock(10)
    run_backtest(CANDLES, "momentum", BUSY, cancelled=cancelled, wall_clock=looks)
    assert 2 <= polls <= 1 + looks.now // CANCEL_POLL_MS


def _worker_run(candles: Candles, name: str, settings: dict[str, Any]) -> BacktestResult:
    return run_backtest(candles, name, settings, cash=50_000, commission=0.001)


def test_a_worker_process_runs_it_from_picklable_inputs() -> None:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        remote = pool.submit(_worker_run, CANDLES, "sma_cross", {"fastPeriod": 5, "slowPeriod": 20}).result(timeout=120)
    local = _worker_run(CANDLES, "sma_cross", {"fastPeriod": 5, "slowPeriod": 20})
    assert remote.to_wire() == local.to_wire() and len(remote.trades) > 5


def _cancellable_run(candles: Candles, started: Any, cancel: Any) -> str:
    try:
        run_backtest(candles, "momentum", BUSY, progress=lambda percent: started.set(), cancelled=cancel.is_set)
    except BacktestCancelled:
        return "cancelled"
    return "completed"


def test_a_worker_s_run_stops_when_its_cancel_event_is_set() -> None:
    big = walk(400_000, 9, volatility=0.02)
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(1, mp_context=context) as pool:
        started, cancel = manager.Event(), manager.Event()
        outcome = pool.submit(_cancellable_run, big, started, cancel)
        assert started.wait(timeout=120)
        cancel.set()
        assert outcome.result(timeout=120) == "cancelled"


def test_the_result_is_json_with_every_part_the_services_need() -> None:
    result = run_backtest(CANDLES, "rsi", {}, symbol="ETH/USDT", cash=20_000, commission=0.001, finalize_trades=True)
    wire = json.loads(json.dumps(result.to_wire(), allow_nan=False))
    assert set(wire) == {"type", "settings", "options", "statistics", "summary", "performance", "orders", "positions",
                         "equity", "trades", "fills", "orderHistory", "logs", "warmupBars"}
    assert wire["type"] == "rsi" and wire["settings"]["period"] == 14
    assert wire["options"] == {"symbol": "ETH/USDT", "initialCash": 20_000.0, "commission": 0.001,
                               "fillModel": "next_point", "fractional": False, "finalizeTrades": True,
                               "mode": "declared"}
    assert len(wire["statistics"]) == 32 and wire["statistics"]["Start"] == int(CANDLES.timestamp[0])
    assert wire["summary"]["profitCurrency"] == "USDT" and wire["positions"]["closedPositions"] > 0
    assert set(wire["orders"]) == {"total", "filled", "partiallyFilled", "averageOpenTime"}
    assert len(wire["equity"]["timestamp"]) == len(wire["equity"]["equity"]) == len(CANDLES)
    assert wire["equity"]["equity"][0] == 20_000.0
    trade = wire["trades"][0]
    assert set(trade) == {"status", "entryTime", "entryBar", "entryPrice", "exitTime", "exitBar", "exitPrice", "amount",
                          "fees", "realizedProfit", "unrealizedProfit", "roi"} and trade["status"] == "closed"
    fill = wire["fills"][0]
    assert fill["side"] == "buy" and fill["fee"]["currency"] == "USDT" and fill["takerOrMaker"] == "taker"
    assert wire["orderHistory"][0]["status"] == "closed" and wire["orderHistory"][0]["closedTimestamp"] is not None
    assert [line["lineNumber"] for line in wire["logs"]] == list(range(len(wire["logs"])))
    assert {line["severity"] for line in wire["logs"]} == {"trade"}
    assert wire["logs"][0]["message"].startswith("placed buy market order 1:")
    assert wire["statistics"]["Equity Final [$]"] == pytest.approx(wire["equity"]["equity"][-1])


def test_open_positions_at_the_end_are_listed_and_valued_at_the_last_close() -> None:
    result = run_backtest(CANDLES[:1300], "rsi", {"oversold": 45, "overbought": 99}, cash=10_000)
    open_rows = [row for row in result.positions() if row["status"] == "open"]
    assert len(open_rows) == 1 and len(result.open_lots) == 1
    row = open_rows[0]
    expected = row["amount"] * (float(CANDLES.close[1299]) - row["entryPrice"]) - row["fees"]
    assert row["unrealizedProfit"] == pytest.approx(expected) and row["exitTime"] is None


def test_an_order_the_account_can_not_pay_for_is_dropped_with_a_warning() -> None:
    result = run_backtest(CANDLES, "momentum", {"sizing": "Base amount", "orderSize": 1_000.0}, cash=1_000)
    assert len(result.orders) == 0 and result.strategy_logs
    assert all(line.severity == "warning" and "insufficient USDT" in line.message for line in result.strategy_logs)


def test_an_invalid_order_ends_the_run_with_the_engine_s_error() -> None:
    market = backtest_market("BTC/USDT")
    market.min_cost = 100.0
    with pytest.raises(InvalidOrder) as caught:
        run_backtest(CANDLES, "momentum", {"sizing": "Quote amount", "orderSize": 50.0}, market=market)
    assert "minimum cost" in caught.value.message and caught.value.details["bar"] > 0


def test_the_default_commission_is_the_sim_exchange_s() -> None:
    result = run_backtest(CANDLES, "sma_cross", {})
    assert result.options["commission"] == 0.001
    assert result.fills.fee.tolist() == (result.fills.cost * 0.001).tolist()


def test_strategy_logs_carry_the_market_time_of_the_bar_they_were_written_at(bracket: None) -> None:
    result = run_backtest(CANDLES, "test_bracket", {}, cash=10_000)
    closes, opens = set((CANDLES.timestamp + 3_600_000).tolist()), set(CANDLES.timestamp.tolist())
    decisions = [line for line in result.strategy_logs if line.message.startswith("close ")]
    assert decisions and all(line.timestamp in closes for line in decisions)  # on_candle: at the bar's close
    assert all(line.timestamp in closes | opens for line in result.strategy_logs)  # on_fill: at its price point
    assert np.isin(result.fills.bar_time, CANDLES.timestamp).all()

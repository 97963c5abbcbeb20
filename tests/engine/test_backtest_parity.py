"""run_backtest equals backtesting.py 0.6.6, run side by side on the data it ships.

A long-only SMA cross (`sma_cross` here, backtesting_reference.SmaCrossLong there: not
backtesting.py's own reversing SmaCross), all-in, 0.1% commission, the `next_point` fill
model (backtesting.py's default: orders decided at a close fill at the next open). Whole
units: the trade lists are identical to the bit (sizes, bars, times, prices, PnL, returns,
commissions) and every statistic agrees to a relative 1e-9, with and without
`finalize_trades`, at cash levels where later signals can not afford a whole unit
(backtesting.py cancels those orders; so does the matching engine). Fractional sizing
against `FractionalBacktest` (1e-8 units): the same unit counts, bars and times; prices
and PnL to 1e-9, since backtesting.py computes on prices scaled by 1e-8 and scales back.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest, Strategy

from engine.backtest import BacktestResult, run_backtest
from engine.indicators import roc
from engine.metrics import to_wire
from tests.engine.backtesting_reference import COMMISSION, DATASETS, SmaCrossLong, differences, run
from tests.engine.strategy_support import from_frame

TIMEFRAMES = {"BTCUSD": "1M", "GOOG": "1d", "EURUSD": "1h"}
PERIODS = {"BTCUSD": (3, 9), "GOOG": (10, 30), "EURUSD": (10, 30)}
# Per dataset: a cash level at which later signals can not afford a whole unit, and two at which all can.
CASH = {"BTCUSD": (300, 10_000, 1_000_000), "GOOG": (200, 10_000, 100_000), "EURUSD": (1.2, 10_000, 100_000)}
COLUMNS = ("Size", "EntryBar", "ExitBar", "EntryPrice", "ExitPrice", "PnL", "ReturnPct", "Commission")


def ours(dataset: str, *, cash: float, finalize: bool = False, fractional: bool = False,
         fill_model: str = "next_point") -> BacktestResult:
    fast, slow = PERIODS[dataset]
    return run_backtest(from_frame(DATASETS[dataset], TIMEFRAMES[dataset]), "sma_cross",
                        {"fastPeriod": fast, "slowPeriod": slow}, cash=cash, commission=COMMISSION,
                        finalize_trades=finalize, fractional=fractional, fill_model=fill_model)


def theirs(dataset: str, *, cash: float, finalize: bool = False, fractional: bool = False) -> pd.Series:
    fast, slow = PERIODS[dataset]
    return run(dataset, SmaCrossLong, cash=cash, finalize=finalize, fractional=fractional, fast=fast, slow=slow).stats


def our_table(result: BacktestResult) -> dict[str, np.ndarray]:
    trades = result.trades
    return {"Size": trades.size, "EntryBar": trades.entry_bar, "ExitBar": trades.exit_bar,
            "EntryPrice": trades.entry_price, "ExitPrice": trades.exit_price, "PnL": trades.pnl,
            "ReturnPct": trades.returns, "Commission": trades.commissions, "EntryTime": trades.entry_time,
            "ExitTime": trades.exit_time}


def their_times(table: pd.DataFrame, column: str) -> np.ndarray:
    return pd.DatetimeIndex(table[column]).as_unit("ms").asi8


CASES = [pytest.param(dataset, cash, finalize, id=f"{dataset}-{cash}-{'finalized' if finalize else 'open'}")
         for dataset in DATASETS for cash in CASH[dataset] for finalize in (False, True)]


@pytest.mark.parametrize(("dataset", "cash", "finalize"), CASES)
def test_whole_unit_trades_are_identical_and_every_statistic_agrees(dataset: str, cash: float, finalize: bool) -> None:
    result, reference = ours(dataset, cash=cash, finalize=finalize), theirs(dataset, cash=cash, finalize=finalize)
    table, mine = reference["_trades"], our_table(result)
    assert len(table) == len(result.trades) > 0
    for column in COLUMNS:
        assert mine[column].tolist() == table[column].tolist(), column
    for column in ("EntryTime", "ExitTime"):
        assert mine[column].tolist() == their_times(table, column).tolist(), column
    assert differences(result.statistics, reference) == []
    assert result.equity[-1] == pytest.approx(reference["Equity Final [$]"], rel=1e-12)


@pytest.mark.parametrize(("dataset", "finalize"), [(dataset, finalize) for dataset in DATASETS
                                                   for finalize in (False, True)])
def test_fractional_sizing_agrees_with_fractional_backtest(dataset: str, finalize: bool) -> None:
    cash = CASH[dataset][0]
    result = ours(dataset, cash=cash, finalize=finalize, fractional=True)
    reference = theirs(dataset, cash=cash, finalize=finalize, fractional=True)
    table, mine = reference["_trades"], our_table(result)
    assert len(table) == len(result.trades) > 0 and not np.all(result.trades.size == np.round(result.trades.size))
    assert np.round(mine["Size"] * 1e8).tolist() == np.round(table["Size"].to_numpy() * 1e8).tolist()
    for column in ("EntryBar", "ExitBar"):
        assert mine[column].tolist() == table[column].tolist()
    for column in ("Size", "EntryPrice", "ExitPrice", "PnL", "ReturnPct", "Commission"):
        np.testing.assert_allclose(mine[column], table[column].to_numpy(), rtol=1e-9, atol=0, err_msg=column)
    assert differences(result.statistics, reference) == []


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_signals_that_can_not_afford_a_whole_unit_are_cancelled_as_backtesting_py_does(dataset: str) -> None:
    poor, rich = CASH[dataset][0], CASH[dataset][-1]
    result = ours(dataset, cash=poor)
    cancelled = [reason for status, reason in zip(result.orders.status, result.orders.reason, strict=True)
                 if status == "canceled"]
    assert cancelled and all("minimum amount" in (reason or "") for reason in cancelled)
    assert len(result.trades) == theirs(dataset, cash=poor)["# Trades"] < ours(dataset, cash=rich).statistics["# Trades"]


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_the_close_fill_model_trades_as_trade_on_close(dataset: str) -> None:
    """Trades equal backtesting.py's `trade_on_close`. Its equity curve books a close fill's
    commission one bar later than the fill, so the equity statistics are close, not equal."""
    fast, slow = PERIODS[dataset]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = Backtest(DATASETS[dataset], SmaCrossLong, cash=100_000, commission=COMMISSION,
                             trade_on_close=True).run(fast=fast, slow=slow)
    result = ours(dataset, cash=100_000, fill_model="close")
    table, mine = reference["_trades"], our_table(result)
    for column in COLUMNS:
        assert mine[column].tolist() == table[column].tolist(), column
    assert result.statistics["Return [%]"] == pytest.approx(reference["Return [%]"], rel=1e-12)


class FirstRise(Strategy):
    """Buys all-in at the second bar if it closed above the first (momentum, lookback 1, threshold 0)."""

    def init(self) -> None:
        pass

    def next(self) -> None:
        if len(self.data) == 2 and self.data.Close[-1] > self.data.Close[-2] and not self.position:
            self.buy()


def test_all_in_sizes_equal_backtesting_py_s_at_an_exact_tie() -> None:
    """At 222.66 with a 0.075% commission and 8913.0798... cash, backtesting.py's per-unit price
    `p + (F * p * c) / F` makes exactly 40 units; `p * (1 + c)` would make 39."""
    frame = pd.DataFrame({"Open": [200.0, 200.0, 222.66, 223.0], "High": [201.0, 202.0, 224.0, 224.0],
                          "Low": [199.0, 199.0, 222.0, 222.0], "Close": [200.0, 201.0, 223.0, 223.5],
                          "Volume": [1.0] * 4}, index=pd.date_range("2024-01-01", periods=4, freq="D"))
    cash, commission = 8913.079800000001, 0.00075
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = Backtest(frame, FirstRise, cash=cash, commission=commission, finalize_trades=True).run()
    result = run_backtest(from_frame(frame, "1d"), "momentum", {"lookback": 1, "threshold": 0.0}, cash=cash,
                          commission=commission, finalize_trades=True)
    assert reference["_trades"]["Size"].tolist() == [40] == result.trades.size.tolist()
    assert result.trades.pnl.tolist() == reference["_trades"]["PnL"].tolist()


class Idle(Strategy):
    """Never trades; its 12-bar rate of change sets the warm-up that Buy & Hold starts after."""

    def init(self) -> None:
        self.rate = self.I(roc, self.data.Close, 12)

    def next(self) -> None:
        pass


def test_no_trades_gives_nan_statistics_that_are_null_on_the_wire() -> None:
    result = run_backtest(from_frame(DATASETS["GOOG"], "1d"), "momentum", {"threshold": 1000.0}, cash=10_000,
                          commission=COMMISSION)
    reference = run("GOOG", Idle, cash=10_000).stats
    assert len(result.trades) == 0 and differences(result.statistics, reference) == []
    wire = result.to_wire()
    assert wire["statistics"]["Win Rate [%]"] is None and wire["statistics"]["SQN"] is None
    assert wire["performance"]["profitFactor"] is None and wire["trades"] == []


def test_no_losing_trades_gives_an_undefined_profit_factor_that_is_null_on_the_wire() -> None:
    """backtesting.py divides by the losses `or np.nan`: no losing trade, no profit factor."""
    frame = DATASETS["GOOG"].iloc[:100]
    result = run_backtest(from_frame(frame, "1d"), "sma_cross", {}, cash=10_000, commission=0.0,
                          finalize_trades=True)
    profits = result.trades.pnl
    assert len(profits) and (profits > 0).all()
    assert math.isnan(result.statistics["Profit Factor"])  # type: ignore[arg-type]
    wire: dict[str, Any] = result.to_wire()
    assert wire["statistics"]["Profit Factor"] is None and wire["performance"]["profitFactor"] is None
    assert wire["statistics"]["# Trades"] == len(profits) and wire["positions"]["losingPositions"] == 0
    assert to_wire({"Sortino Ratio": math.inf, "Calmar Ratio": -math.inf}) == {"Sortino Ratio": None,
                                                                                "Calmar Ratio": None}

"""Every statistic equals backtesting.py 0.6.6's own, side by side, on the data it ships.

backtesting.py runs each strategy; its equity curve and trade list are the input of
`backtest_stats`; all 32 statistics must agree to a relative 1e-9.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.metrics import Trades, backtest_stats, to_wire
from tests.engine.backtesting_reference import (
    NoTrades,
    Pyramid,
    SmaCrossLong,
    SmaCrossReversing,
    Winners,
    differences,
    ms,
    run,
)

SMA_PERIODS = {"BTCUSD": {"fast": 3, "slow": 9}, "GOOG": {}, "EURUSD": {}}
WINNING_GAIN = {"BTCUSD": {"gain": 0.03}, "GOOG": {"gain": 0.03}, "EURUSD": {"gain": 0.004}}
# Per dataset: a cash level at which later signals can not afford a whole unit (backtesting.py
# then cancels the order), and one at which every signal can.
CASH = {"BTCUSD": (300, 1_000_000), "GOOG": (200, 100_000), "EURUSD": (1.2, 100_000)}

CASES = [
    pytest.param(dataset, strategy, cash, finalize, fractional, id=f"{dataset}-{label}-{cash}-"
                 f"{'finalized' if finalize else 'open'}{'-fractional' if fractional else ''}")
    for dataset in ("BTCUSD", "GOOG", "EURUSD")
    for strategy, label, cashes, finalizes, fractionals in (
        (SmaCrossLong, "sma-long", CASH[dataset], (False, True), (False,)),
        (SmaCrossLong, "sma-long", CASH[dataset][:1], (False, True), (True,)),
        (SmaCrossReversing, "sma-reversing", CASH[dataset][1:], (True,), (False,)),
        (Pyramid, "pyramid", CASH[dataset][1:], (False, True), (False,)),
        (Winners, "winners", CASH[dataset][1:], (True,), (False,)),
        (NoTrades, "no-trades", CASH[dataset][1:], (False,), (False,)),
    )
    for cash in cashes for finalize in finalizes for fractional in fractionals
]


def _params(strategy: type, dataset: str) -> dict[str, float]:
    return {SmaCrossLong: SMA_PERIODS, SmaCrossReversing: SMA_PERIODS, Winners: WINNING_GAIN}.get(strategy, {}).get(dataset, {})


@pytest.mark.parametrize(("dataset", "strategy", "cash", "finalize", "fractional"), CASES)
def test_every_statistic_equals_backtesting_py(dataset: str, strategy: type, cash: float, finalize: bool,
                                               fractional: bool) -> None:
    reference = run(dataset, strategy, cash=cash, finalize=finalize, fractional=fractional,
                    **_params(strategy, dataset))
    assert differences(backtest_stats(**reference.inputs()), reference.stats) == []


@pytest.mark.parametrize(("dataset", "fractional"), [("BTCUSD", True), ("GOOG", False), ("EURUSD", False)])
def test_trades_from_fills_have_backtesting_py_s_pnl_and_returns(dataset: str, fractional: bool) -> None:
    table = run(dataset, SmaCrossReversing, cash=100_000, finalize=True, fractional=fractional,
                **SMA_PERIODS[dataset]).stats["_trades"]
    trades = Trades.from_fills(entry_time=ms(table.EntryTime), exit_time=ms(table.ExitTime),
                               entry_price=table.EntryPrice, exit_price=table.ExitPrice, size=table.Size,
                               commissions=table.Commission)
    assert len(trades) > 2 and (trades.size < 0).any()
    np.testing.assert_allclose(trades.pnl, table.PnL, rtol=1e-9)
    np.testing.assert_allclose(trades.returns, table.ReturnPct, rtol=1e-9)


@pytest.mark.parametrize("dataset", ["BTCUSD", "GOOG", "EURUSD"])
def test_the_low_cash_runs_skip_signals_they_can_not_afford(dataset: str) -> None:
    low, high = CASH[dataset]
    poor = run(dataset, SmaCrossLong, cash=low, **SMA_PERIODS[dataset]).stats
    rich = run(dataset, SmaCrossLong, cash=high, **SMA_PERIODS[dataset]).stats
    assert 0 < poor["# Trades"] < rich["# Trades"]


def test_fractional_runs_trade_fractions() -> None:
    trades = run("BTCUSD", SmaCrossLong, cash=10, fractional=True, **SMA_PERIODS["BTCUSD"]).stats["_trades"]
    assert len(trades) and not np.allclose(trades.Size, np.round(trades.Size))


def test_overlapping_and_short_trades_are_covered() -> None:
    pyramid = run("EURUSD", Pyramid, cash=100_000).stats["_trades"]
    assert (pyramid.EntryBar.to_numpy()[1:] < pyramid.ExitBar.to_numpy()[:-1]).any()
    reversing = run("GOOG", SmaCrossReversing, cash=100_000).stats["_trades"]
    assert (reversing.Size < 0).any()


@pytest.mark.parametrize("dataset", ["BTCUSD", "GOOG", "EURUSD"])
def test_no_trades_gives_null_trade_statistics_on_the_wire(dataset: str) -> None:
    reference = run(dataset, NoTrades, cash=100_000)
    wire = to_wire(backtest_stats(**reference.inputs()))
    assert wire["# Trades"] == 0 and wire["Commissions [$]"] == 0 and wire["Return [%]"] == 0
    for name in ("Win Rate [%]", "Best Trade [%]", "Worst Trade [%]", "Avg. Trade [%]", "Max. Trade Duration",
                 "Avg. Trade Duration", "Profit Factor", "Expectancy [%]", "SQN", "Kelly Criterion",
                 "Sharpe Ratio", "Calmar Ratio", "Max. Drawdown Duration"):
        assert wire[name] is None, name


@pytest.mark.parametrize("dataset", ["BTCUSD", "GOOG", "EURUSD"])
def test_no_losing_trades_gives_null_profit_factor_and_kelly(dataset: str) -> None:
    reference = run(dataset, Winners, cash=100_000, finalize=True, **WINNING_GAIN[dataset])
    assert len(reference.stats["_trades"]) >= 2 and (reference.stats["_trades"].PnL > 0).all()
    stats = backtest_stats(**reference.inputs())
    assert math.isnan(stats["Profit Factor"]) and math.isnan(stats["Kelly Criterion"])
    wire = to_wire(stats)
    assert wire["Profit Factor"] is None and wire["Kelly Criterion"] is None and wire["Win Rate [%]"] == 100

"""HaasOnline-shaped results, the wire form, and the input checks of the statistics."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from engine.metrics import STAT_NAMES, Trades, backtest_stats, equity_stats, haas_orders, haas_results, to_wire
from tests.engine.backtesting_reference import NoTrades, SmaCrossLong, differences, reference_stats, run


def test_haas_results_of_a_backtest_agree_with_its_trade_table() -> None:
    reference = run("GOOG", SmaCrossLong, cash=10_000, finalize=True)
    inputs = reference.inputs()
    stats = backtest_stats(**inputs)
    results = haas_results(stats, inputs["trades"], inputs["equity"], currency="USD")
    table, equity = reference.stats["_trades"], reference.stats["_equity_curve"].Equity
    assert results["summary"].pop("profitCurrency") == "USD"
    assert results["summary"] == pytest.approx({
        "realizedProfit": table.PnL.sum(), "roi": table.PnL.sum() / 10_000 * 100,
        "feeCosts": reference.stats["Commissions [$]"], "grossProfit": table.PnL.sum() + table.Commission.sum(),
        "priceChange": reference.stats["Buy & Hold Return [%]"]}, rel=1e-9)
    assert results["performance"] == pytest.approx({
        "profitFactor": reference.stats["Profit Factor"], "sharpeRatio": reference.stats["Sharpe Ratio"],
        "sortinoRatio": reference.stats["Sortino Ratio"], "maxDrawdown": -(equity.cummax() - equity).max(),
        "maxDrawdownPercent": reference.stats["Max. Drawdown [%]"],
        "winPercentage": reference.stats["Win Rate [%]"] / 100, "biggestWin": table.PnL.max(),
        "biggestLoss": table.PnL.min(), "highestProfit": equity.max() - 10_000,
        "lowestProfit": equity.min() - 10_000}, rel=1e-9)
    assert results["positions"] == pytest.approx({
        "closedPositions": len(table), "winningPositions": (table.PnL > 0).sum(),
        "losingPositions": (table.PnL < 0).sum(), "averageProfit": table.PnL.mean(),
        "averageMargin": (table.Size.abs() * table.EntryPrice).mean()}, rel=1e-9)
    # Realized profit and the final equity tell the same story once every trade is closed.
    assert results["summary"]["realizedProfit"] == pytest.approx(equity.iloc[-1] - 10_000, rel=1e-9)


def test_haas_results_without_trades_have_nulls_on_the_wire() -> None:
    reference = run("BTCUSD", NoTrades, cash=10_000)
    inputs = reference.inputs()
    wire = to_wire(haas_results(backtest_stats(**inputs), inputs["trades"], inputs["equity"]))
    assert wire["summary"] == {"realizedProfit": 0, "profitCurrency": None, "roi": 0, "feeCosts": 0,
                               "grossProfit": 0, "priceChange": wire["summary"]["priceChange"]}
    assert wire["summary"]["priceChange"] > 0
    assert wire["positions"] == {"closedPositions": 0, "winningPositions": 0, "losingPositions": 0,
                                 "averageProfit": None, "averageMargin": None}
    performance = wire["performance"]
    assert performance["maxDrawdown"] == 0 and performance["highestProfit"] == 0
    for name in ("profitFactor", "sharpeRatio", "winPercentage", "biggestWin", "biggestLoss"):
        assert performance[name] is None, name


def test_haas_orders() -> None:
    hour = 3_600_000
    orders = haas_orders(placed_time=[0, hour, 2 * hour, 3 * hour], closed_time=[hour, 3 * hour, -1, 4 * hour],
                         amount=[1.0, 2.0, 1.0, 0.5], filled=[1.0, 0.5, 0.0, 0.5])
    assert orders == {"total": 4, "filled": 2, "partiallyFilled": 1, "averageOpenTime": 4 * 3600 / 3}
    assert to_wire(haas_orders([], [], [], []))["averageOpenTime"] is None


def test_wire_form_is_json_with_ms_times_and_null_for_undefined() -> None:
    reference = run("EURUSD", SmaCrossLong, cash=100_000)
    stats = backtest_stats(**reference.inputs())
    wire = json.loads(json.dumps(to_wire(stats), allow_nan=False))
    assert list(wire) == list(STAT_NAMES)
    assert wire["Start"] == reference.timestamps()[0] and wire["End"] == reference.timestamps()[-1]
    assert wire["Duration"] == reference.timestamps()[-1] - reference.timestamps()[0]
    assert wire["Max. Trade Duration"] == reference.stats["Max. Trade Duration"] // pd.Timedelta(milliseconds=1)
    assert isinstance(wire["Avg. Drawdown Duration"], int) and isinstance(wire["# Trades"], int)
    assert to_wire({"a": [math.inf, -math.inf, math.nan, np.float64(1.5), np.int64(2)]}) == {"a": [None, None, None, 1.5, 2]}
    assert to_wire(timedelta(microseconds=1500)) == 1.5
    assert to_wire({"equity": np.array([1.0, np.nan, np.inf]), "bars": np.arange(2)}) == {
        "equity": [1.0, None, None], "bars": [0, 1]}
    assert to_wire(datetime(1970, 1, 1, 0, 0, 1)) == 1000 == to_wire(datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC))


def _inputs(bars: int = 5) -> dict:
    return {"timestamps": np.arange(bars) * 3_600_000, "close": np.ones(bars), "equity": np.ones(bars),
            "trades": Trades.empty()}


@pytest.mark.parametrize(("change", "message"), [
    ({"close": np.ones(4)}, "does not match"),
    ({"equity": np.array([1.0, np.nan, 1, 1, 1])}, "NaN"),
    ({"timestamps": np.array([0, 2, 1, 3, 4])}, "ascending"),
    ({"timestamps": np.array([], dtype=np.int64), "close": np.array([]), "equity": np.array([])}, "non-empty"),
    ({"warmup_bars": 5}, "warmup_bars"),
    ({"trades": Trades.from_records([{"entry_time": 0, "exit_time": 1, "entry_price": 1, "exit_price": 1, "size": 1,
                                      "pnl": 0, "returns": 0, "commissions": 0}])}, "entry_bar"),
    ({"trades": Trades(entry_bar=[3], exit_bar=[5], entry_time=[0], exit_time=[1], entry_price=[1], exit_price=[1],
                       size=[1], pnl=[0], returns=[0], commissions=[0])}, "outside"),
    ({"trades": Trades(entry_bar=[3], exit_bar=[2], entry_time=[0], exit_time=[1], entry_price=[1], exit_price=[1],
                       size=[1], pnl=[0], returns=[0], commissions=[0])}, "exits before"),
])
def test_bad_input_is_a_value_error(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        backtest_stats(**{**_inputs(), **change})


def test_trade_columns_must_match() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        Trades(entry_time=[0, 1], exit_time=[1], entry_price=[1], exit_price=[1], size=[1], pnl=[0], returns=[0],
               commissions=[0])
    with pytest.raises(ValueError, match="go together"):
        Trades(entry_time=[0], exit_time=[1], entry_price=[1], exit_price=[1], size=[1], pnl=[0], returns=[0],
               commissions=[0], entry_bar=[0])


@pytest.mark.filterwarnings("ignore:.*dayofweek is deprecated")  # backtesting.py 0.6.6 under pandas 3
def test_a_single_bar_has_backtesting_py_s_statistics_too() -> None:
    stats = backtest_stats(**_inputs(1))
    assert stats["Duration"] == timedelta(0) and stats["Return [%]"] == 0 and math.isnan(stats["Beta"])
    assert differences(stats, reference_stats(**_inputs(1))) == []


def test_equity_stats_are_the_equity_part_of_backtest_stats() -> None:
    inputs = run("GOOG", SmaCrossLong, cash=10_000).inputs()
    whole = backtest_stats(**inputs)
    part = equity_stats(inputs["timestamps"], inputs["equity"])
    assert part == {name: whole[name] for name in part} and len(part) == 16

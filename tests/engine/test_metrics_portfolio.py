"""Issue 15's portfolio performance from a list of closed trades and a balance history taken
at irregular times, with the functions the backtests use."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.metrics import Trades, portfolio_performance, to_wire
from tests.engine.backtesting_reference import reference_stats

pytestmark = pytest.mark.filterwarnings("ignore:.*dayofweek is deprecated")

HOUR, DAY = 3_600_000, 86_400_000
MONDAY = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def _history(seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """Periodic snapshots (about every 4 hours, jittered) and a few on-demand ones, over 30 days."""
    rng = np.random.default_rng(seed)
    periodic = MONDAY + np.arange(0, 30 * DAY, 4 * HOUR) + rng.integers(0, 20 * 60_000, 180)
    on_demand = MONDAY + rng.integers(0, 30 * DAY, 12)
    times = np.sort(np.concatenate((periodic, on_demand)))
    return times, 10_000 * np.cumprod(1 + rng.normal(0.0005, 0.01, len(times)))


def _closed_positions(seed: int = 5) -> list[dict]:
    """What a portfolio service reads from its positions: one row per closed position."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(40):
        entry_time = MONDAY + int(rng.integers(0, 28 * DAY))
        entry_price, size = float(rng.uniform(40_000, 45_000)), float(rng.uniform(0.01, 0.2))
        exit_price = entry_price * float(1 + rng.normal(0, 0.02))
        fees = 0.001 * size * (entry_price + exit_price)
        pnl = size * (exit_price - entry_price) - fees
        rows.append({"entry_time": entry_time, "exit_time": entry_time + int(rng.integers(HOUR, 2 * DAY)),
                     "entry_price": entry_price, "exit_price": exit_price, "size": size, "pnl": pnl,
                     "returns": pnl / (size * entry_price), "commissions": fees})
    return rows


def test_portfolio_performance_from_a_trade_list_and_an_irregular_history() -> None:
    rows = _closed_positions()
    times, balance = _history()
    performance = portfolio_performance(times, balance, Trades.from_records(rows))

    pnl = [row["pnl"] for row in rows]
    fees = sum(row["commissions"] for row in rows)
    winners, losers = [p for p in pnl if p > 0], [r["returns"] for r in rows if r["returns"] < 0]
    assert {key: value for key, value in performance.items() if key != "dailyBreakdown"} == pytest.approx({
        "totalTrades": 40, "winningTrades": len(winners), "winRate": len(winners) / 40 * 100,
        "realizedPnl": sum(pnl) + fees, "fees": fees, "netProfit": sum(pnl), "averageProfitPerTrade": sum(pnl) / 40,
        "biggestWin": max(pnl), "biggestLoss": min(pnl),
        "profitFactor": sum(r["returns"] for r in rows if r["returns"] > 0) / -sum(losers),
        "sharpeRatio": performance["sharpeRatio"], "maxDrawdownPercent": performance["maxDrawdownPercent"],
    }, rel=1e-12)
    # Sharpe and drawdown are backtesting.py's own, computed on the irregular history itself.
    reference = reference_stats(times, balance, balance, Trades.empty())
    assert performance["sharpeRatio"] == pytest.approx(reference["Sharpe Ratio"], rel=1e-9)
    assert performance["maxDrawdownPercent"] == pytest.approx(reference["Max. Drawdown [%]"], rel=1e-9)
    assert performance["maxDrawdownPercent"] < 0 and performance["sharpeRatio"] != 0

    days = performance["dailyBreakdown"]
    last_day = (max(times[-1], max(row["exit_time"] for row in rows)) - MONDAY) // DAY
    assert [day["date"] for day in days] == [str(np.datetime64("2024-01-01") + i) for i in range(last_day + 1)]
    assert sum(day["trades"] for day in days) == 40
    assert sum(day["profit"] for day in days) == pytest.approx(sum(pnl), rel=1e-12)


def test_daily_breakdown_by_hand() -> None:
    times = np.array([MONDAY + 10 * HOUR, MONDAY + 22 * HOUR, MONDAY + 2 * DAY + 5 * HOUR])
    balance = np.array([1000.0, 1010.0, 990.0])
    trades = Trades.from_records([
        {"entry_time": MONDAY, "exit_time": MONDAY + 20 * HOUR, "entry_price": 100, "exit_price": 110, "size": 1,
         "pnl": 10, "returns": 0.1, "commissions": 0},
        {"entry_time": MONDAY + DAY, "exit_time": MONDAY + 2 * DAY + HOUR, "entry_price": 100, "exit_price": 95,
         "size": 1, "pnl": -5, "returns": -0.05, "commissions": 0},
        {"entry_time": MONDAY + DAY, "exit_time": MONDAY + 2 * DAY + 3 * HOUR, "entry_price": 100, "exit_price": 102,
         "size": 1, "pnl": 2, "returns": 0.02, "commissions": 0},
    ])
    days = to_wire(portfolio_performance(times, balance, trades)["dailyBreakdown"])
    assert days == [
        {"date": "2024-01-01", "trades": 1, "profit": 10.0, "winRate": 100.0, "balance": 1010.0},
        {"date": "2024-01-02", "trades": 0, "profit": 0.0, "winRate": None, "balance": 1010.0},
        {"date": "2024-01-03", "trades": 2, "profit": -3.0, "winRate": 50.0, "balance": 990.0},
    ]


def test_a_period_without_trades() -> None:
    times, balance = _history()
    wire = to_wire(portfolio_performance(times, balance, Trades.from_records([])))
    assert wire["totalTrades"] == 0 and wire["netProfit"] == 0 and wire["fees"] == 0
    for name in ("winRate", "averageProfitPerTrade", "biggestWin", "biggestLoss", "profitFactor"):
        assert wire[name] is None, name
    assert wire["sharpeRatio"] is not None and all(day["trades"] == 0 for day in wire["dailyBreakdown"])


def test_a_single_snapshot() -> None:
    performance = portfolio_performance(np.array([MONDAY]), np.array([500.0]), Trades.empty())
    assert math.isnan(performance["sharpeRatio"]) and performance["maxDrawdownPercent"] == 0
    assert to_wire(performance["dailyBreakdown"]) == [
        {"date": "2024-01-01", "trades": 0, "profit": 0.0, "winRate": None, "balance": 500.0}]

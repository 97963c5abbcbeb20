"""Backtest results in HaasOnline's shapes (its white-label API's backtest results).

Every figure that backtesting.py's set already has is taken from the statistics mapping
(`backtest_stats`), and the money totals from `profit_totals`, so a number shown twice on a
results page is one computation. Units follow HaasOnline's example: money in the quote
currency, `roi`/`priceChange`/`maxDrawdownPercent` in percent, `winPercentage` a fraction
(0.68), `averageOpenTime` in seconds. Undefined figures are NaN (`to_wire` makes them null).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .backtest import Stats
from .drawdown import drawdown
from .trades import Trades
from .tradestats import mean_or_nan, profit_totals
from .wire import python_scalars

__all__ = ["haas_orders", "haas_results"]


def haas_results(stats: Stats, trades: Trades, equity: np.ndarray, *, currency: str | None = None) -> dict[str, Any]:
    """`{"summary", "performance", "positions"}` of one backtest, from its `backtest_stats`
    result, the same `trades` and `equity` (float64, shape (n,)); `currency` is the quote
    currency (`profitCurrency`).

    summary: `realizedProfit` (sum of trade pnl, after fees), `profitCurrency`, `roi`
    (realizedProfit over the starting equity, %), `feeCosts` (= Commissions [$]),
    `grossProfit` (realizedProfit + feeCosts), `priceChange` (= Buy & Hold Return [%]).
    performance: `profitFactor` (= Profit Factor), `sharpeRatio`, `sortinoRatio`,
    `maxDrawdown` (largest fall of equity below its running peak, money, <= 0),
    `maxDrawdownPercent` (= Max. Drawdown [%]), `winPercentage` (= Win Rate [%] / 100),
    `biggestWin`/`biggestLoss` (largest winning / losing trade pnl), `highestProfit`/
    `lowestProfit` (highest / lowest equity minus the starting equity).
    positions: `closedPositions` (= # Trades), `winningPositions`, `losingPositions` (pnl > 0 /
    < 0), `averageProfit` (mean pnl), `averageMargin` (mean entry value, |size| * entry price).
    """
    equity = np.asarray(equity, dtype=np.float64)
    totals = profit_totals(trades)
    start = equity[0]
    return {
        "summary": python_scalars({
            "realizedProfit": totals.net,
            "profitCurrency": currency,
            "roi": np.float64(totals.net) / start * 100,
            "feeCosts": totals.fees,
            "grossProfit": totals.gross,
            "priceChange": stats["Buy & Hold Return [%]"],
        }),
        "performance": python_scalars({
            "profitFactor": stats["Profit Factor"],
            "sharpeRatio": stats["Sharpe Ratio"],
            "sortinoRatio": stats["Sortino Ratio"],
            "maxDrawdown": -drawdown(equity).max_fall(equity),
            "maxDrawdownPercent": stats["Max. Drawdown [%]"],
            "winPercentage": _number(stats["Win Rate [%]"]) / 100,
            "biggestWin": totals.biggest_win,
            "biggestLoss": totals.biggest_loss,
            "highestProfit": _number(stats["Equity Peak [$]"]) - start,
            "lowestProfit": np.min(equity) - start,
        }),
        "positions": python_scalars({
            "closedPositions": stats["# Trades"],
            "winningPositions": totals.wins,
            "losingPositions": totals.losses,
            "averageProfit": mean_or_nan(trades.pnl),
            "averageMargin": mean_or_nan(np.abs(trades.size) * trades.entry_price),
        }),
    }


def haas_orders(placed_time: np.ndarray, closed_time: np.ndarray, amount: np.ndarray, filled: np.ndarray) -> dict[str, Any]:
    """HaasOnline's order statistics from order columns of shape (m,): `placed_time` and
    `closed_time` in UTC epoch ms (int64; closed_time < 0 for an order still open), `amount`
    ordered and `filled` (float64).

    `total` orders, `filled` (filled == amount), `partiallyFilled` (0 < filled < amount),
    `averageOpenTime`: mean seconds from placement to closing over the closed orders (NaN
    when none closed).
    """
    placed, closed = np.asarray(placed_time, dtype=np.int64), np.asarray(closed_time, dtype=np.int64)
    amount, filled = np.asarray(amount, dtype=np.float64), np.asarray(filled, dtype=np.float64)
    done = closed >= 0
    return python_scalars({
        "total": len(amount),
        "filled": np.count_nonzero(filled >= amount),
        "partiallyFilled": np.count_nonzero((filled > 0) & (filled < amount)),
        "averageOpenTime": mean_or_nan(closed[done] - placed[done]) / 1000,
    })


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else np.nan

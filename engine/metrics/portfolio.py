"""A portfolio's performance over a period, from its closed trades and its balance history.

The same functions as a backtest's statistics (`equity_stats`, `trade_stats`,
`profit_totals`, the calendar buckets), applied to a balance history taken at irregular
times (periodic and on-demand snapshots) instead of one value per bar. Names follow ArBot's
performance endpoint, in camelCase.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .drawdown import drawdown
from .equity import check_series, checked_equity_stats
from .periods import Periodicity, day_numbers
from .trades import Trades
from .tradestats import profit_totals, trade_stats
from .wire import python_scalars

__all__ = ["portfolio_performance"]


def portfolio_performance(balance_time: np.ndarray, balance: np.ndarray, trades: Trades) -> dict[str, Any]:
    """Performance of a portfolio over the period its inputs cover (the caller selects them).

    `balance_time` (UTC epoch ms, int64, ascending, any spacing) and `balance` (total value in
    the quote currency, float64) have shape (n,), n >= 1; `trades` are the positions closed in
    the period (bars not needed).

    Keys: `totalTrades`, `winningTrades` (pnl > 0), `winRate` (%), `realizedPnl` (before
    fees), `fees`, `netProfit` (realizedPnl - fees), `averageProfitPerTrade` (netProfit per
    trade), `biggestWin`, `biggestLoss`, `profitFactor` (backtesting.py's, on returns),
    `sharpeRatio`, `maxDrawdownPercent` (<= 0; both from the balance history with
    backtesting.py's definitions), and `dailyBreakdown`: one entry per UTC day from the first
    to the last day of the history or the trades, `{date: "YYYY-MM-DD", trades, profit (net,
    by exit time), winRate (%, NaN without trades), balance (the last balance of the day or
    before it, NaN before the first)}`. ValueError for a history `check_series` refuses.
    """
    balance_time, balance = check_series(balance_time, balance)
    periodicity = Periodicity.of(balance_time)
    history = checked_equity_stats(balance_time, balance, periodicity, drawdown(balance))
    closed = trade_stats(trades, periodicity)
    totals = profit_totals(trades)
    count = len(trades)
    return {
        **python_scalars({
            "totalTrades": count,
            "winningTrades": totals.wins,
            "winRate": closed["Win Rate [%]"],
            "realizedPnl": totals.gross,
            "fees": totals.fees,
            "netProfit": totals.net,
            "averageProfitPerTrade": totals.net / count if count else np.nan,
            "biggestWin": totals.biggest_win,
            "biggestLoss": totals.biggest_loss,
            "profitFactor": closed["Profit Factor"],
            "sharpeRatio": history["Sharpe Ratio"],
            "maxDrawdownPercent": history["Max. Drawdown [%]"],
        }),
        "dailyBreakdown": _daily(balance_time, balance, trades),
    }


def _daily(balance_time: np.ndarray, balance: np.ndarray, trades: Trades) -> list[dict[str, Any]]:
    balance_days, trade_days = day_numbers(balance_time), day_numbers(trades.exit_time)
    first = min(balance_days[0], trade_days.min()) if len(trade_days) else balance_days[0]
    last = max(balance_days[-1], trade_days.max()) if len(trade_days) else balance_days[-1]
    days = last - first + 1
    slot = trade_days - first
    counts = np.bincount(slot, minlength=days)
    profits = np.bincount(slot, weights=trades.pnl, minlength=days)
    wins = np.bincount(slot, weights=trades.pnl > 0, minlength=days)
    latest = np.searchsorted(balance_days, np.arange(first, last + 1), side="right") - 1  # last snapshot by day's end
    closing = np.where(latest >= 0, balance[np.maximum(latest, 0)], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        win_rate = np.where(counts > 0, wins / counts * 100, np.nan)
    dates = np.arange(first, last + 1).astype("datetime64[D]").astype(str)
    return [
        {"date": str(date), "trades": int(trade_count), "profit": float(profit), "winRate": float(rate),
         "balance": float(value)}
        for date, trade_count, profit, rate, value in zip(dates, counts, profits, win_rate, closing, strict=True)
    ]

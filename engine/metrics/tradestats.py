"""Statistics of closed trades (backtesting.py 0.6.6), and the money totals built on them.

Win rate counts trades with `pnl > 0`; best, worst, average (geometric), expectancy
(arithmetic mean) and profit factor (sum of positive returns over the absolute sum of
negative ones) use the trades' fractional `returns`, as backtesting.py does; SQN and the
Kelly criterion use `pnl`. Undefined figures are NaN (no trades, no losing trades, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .periods import Periodicity
from .returns import geometric_mean
from .trades import Trades
from .wire import python_scalars

__all__ = ["ProfitTotals", "mean_or_nan", "profit_totals", "trade_stats"]


def mean_or_nan(values: np.ndarray) -> float:
    """The arithmetic mean, NaN for no values (as pandas' `Series.mean`)."""
    return float(np.mean(values)) if len(values) else np.nan


def _extreme(values: np.ndarray, reduce: Any) -> float:
    return float(reduce(values)) if len(values) else np.nan


def trade_stats(trades: Trades, periodicity: Periodicity) -> dict[str, Any]:
    """backtesting.py's trade statistics, in its order: # Trades (int), Win Rate [%], Best
    Trade [%], Worst Trade [%], Avg. Trade [%] (floats), Max. Trade Duration, Avg. Trade
    Duration (timedeltas rounded up to `periodicity`'s resolution, None without trades),
    Profit Factor, Expectancy [%], SQN, Kelly Criterion (floats, NaN where undefined)."""
    pnl, returns, count = trades.pnl, trades.returns, len(trades)
    win_rate = np.count_nonzero(pnl > 0) / count if count else np.nan
    std = np.float64(np.std(pnl, ddof=1)) if count > 1 else np.float64(np.nan)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        profit_factor = np.sum(returns[returns > 0]) / (abs(np.sum(returns[returns < 0])) or np.nan)
        sqn = np.sqrt(count) * np.float64(mean_or_nan(pnl)) / (std or np.nan)
        kelly = win_rate - (1 - win_rate) / (
            np.float64(mean_or_nan(pnl[pnl > 0])) / -np.float64(mean_or_nan(pnl[pnl < 0])))
    durations = trades.durations_ms
    return python_scalars({
        "# Trades": count,
        "Win Rate [%]": win_rate * 100,
        "Best Trade [%]": _extreme(returns, np.max) * 100,
        "Worst Trade [%]": _extreme(returns, np.min) * 100,
        "Avg. Trade [%]": geometric_mean(returns) * 100,
        "Max. Trade Duration": periodicity.max_duration(durations),
        "Avg. Trade Duration": periodicity.mean_duration(durations),
        "Profit Factor": profit_factor,
        "Expectancy [%]": mean_or_nan(returns) * 100,
        "SQN": sqn,
        "Kelly Criterion": kelly,
    })


@dataclass(frozen=True, slots=True)
class ProfitTotals:
    """Money totals of closed trades, in the quote currency.

    `net`: the sum of `pnl` (after fees); `fees`: the sum of `commissions`; `gross`: net plus
    fees (before fees); `biggest_win`/`biggest_loss`: the largest positive / most negative
    `pnl` (NaN when no trade won / lost); `wins`/`losses`: trades with pnl > 0 / < 0.
    """

    net: float
    fees: float
    gross: float
    biggest_win: float
    biggest_loss: float
    wins: int
    losses: int


def profit_totals(trades: Trades) -> ProfitTotals:
    """The money totals of `trades` (see `ProfitTotals`)."""
    pnl = trades.pnl
    net, fees = float(np.sum(pnl)), float(np.sum(trades.commissions))
    won, lost = pnl[pnl > 0], pnl[pnl < 0]
    return ProfitTotals(net, fees, net + fees, _extreme(won, np.max), _extreme(lost, np.min), len(won), len(lost))

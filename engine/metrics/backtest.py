"""The full statistics set of backtesting.py 0.6.6 (`_stats.compute_stats`) from arrays.

Follows its definitions exactly, with the risk-free rate 0; read that function next to this
one. Where we differ (deliberately, in shape only):

- `Commissions [$]` is always present (backtesting.py leaves the key out when it is 0).
- A duration that does not exist is None (backtesting.py: NaN or NaT). When a curve has no
  drawdown episode but its last bar is below the previous peak, backtesting.py reports that
  drawdown fraction in `Max./Avg. Drawdown Duration`; we report None.
- Times are UTC-aware datetimes (backtesting.py: the naive timestamps of its index).

Odd but followed: `Profit Factor` is a ratio of summed trade *returns*, not of money;
`Buy & Hold Return [%]` starts at the first bar after the indicators' warm-up while `Beta`
uses every bar; `Exposure Time [%]` counts bars, not time; an episode of drawdown needs a
bar between its ends, so a fall on the very last bar alone is not an episode.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from .drawdown import drawdown
from .equity import check_series, checked_equity_stats
from .periods import Periodicity
from .trades import Trades
from .tradestats import profit_totals, trade_stats

__all__ = ["STAT_NAMES", "Stats", "backtest_stats"]

Stats = dict[str, float | int | datetime | timedelta | None]
"""Statistic name (backtesting.py's) -> value."""

STAT_NAMES = (
    "Start", "End", "Duration", "Exposure Time [%]", "Equity Final [$]", "Equity Peak [$]", "Commissions [$]",
    "Return [%]", "Buy & Hold Return [%]", "Return (Ann.) [%]", "Volatility (Ann.) [%]", "CAGR [%]",
    "Sharpe Ratio", "Sortino Ratio", "Calmar Ratio", "Alpha [%]", "Beta", "Max. Drawdown [%]",
    "Avg. Drawdown [%]", "Max. Drawdown Duration", "Avg. Drawdown Duration", "# Trades", "Win Rate [%]",
    "Best Trade [%]", "Worst Trade [%]", "Avg. Trade [%]", "Max. Trade Duration", "Avg. Trade Duration",
    "Profit Factor", "Expectancy [%]", "SQN", "Kelly Criterion",
)
"""backtesting.py's statistic names, in its order."""


def backtest_stats(timestamps: np.ndarray, close: np.ndarray, equity: np.ndarray, trades: Trades, *,
                   warmup_bars: int = 0) -> Stats:
    """Every statistic of `STAT_NAMES` for one backtest.

    `timestamps` (int64 UTC epoch ms), `close` (float64) and `equity` (float64, the account's
    value at each bar's close) have shape (n,), n >= 1, timestamps ascending. `trades` are the
    closed trades, with `entry_bar`/`exit_bar` indices into those arrays. `warmup_bars` is the
    index of the first bar at which every indicator has a value (backtesting.py's
    `_indicator_warmup_nbars`); Buy & Hold starts there.

    Values: datetimes for Start/End, timedeltas for durations (None when undefined), int for
    `# Trades`, floats otherwise, NaN/inf where backtesting.py has them. `to_wire` makes it JSON.
    ValueError for mismatched shapes, NaN in the series, unsorted timestamps, trades without
    bars, outside the series or exiting before entering, or a warm-up beyond the last bar.
    """
    timestamps, close, equity = check_series(timestamps, close, equity)
    count = len(timestamps)
    if not 0 <= warmup_bars < count:
        raise ValueError(f"warmup_bars must be within the {count} bars, not {warmup_bars}")
    if trades.entry_bar is None or trades.exit_bar is None:
        raise ValueError("backtest trades need entry_bar and exit_bar")
    if len(trades) and (trades.entry_bar.min() < 0 or trades.exit_bar.max() >= count):
        raise ValueError("trade bars outside the series")
    if np.any(trades.exit_bar < trades.entry_bar):
        raise ValueError("a trade exits before it enters")
    periodicity = Periodicity.of(timestamps)
    equity_part = checked_equity_stats(timestamps, equity, periodicity, drawdown(equity))
    buy_and_hold = (close[-1] - close[warmup_bars]) / close[warmup_bars] * 100
    beta = _beta(equity, close)
    market = {
        "Exposure Time [%]": _exposure(trades.entry_bar, trades.exit_bar, count) * 100,
        "Commissions [$]": profit_totals(trades).fees,
        "Buy & Hold Return [%]": float(buy_and_hold),
        "Alpha [%]": float(equity_part["Return [%]"] - beta * buy_and_hold),
        "Beta": float(beta),
    }
    parts = {**equity_part, **market, **trade_stats(trades, periodicity)}
    return {name: parts[name] for name in STAT_NAMES}


def _exposure(entry_bar: np.ndarray, exit_bar: np.ndarray, count: int) -> float:
    """The share of bars with a trade open, entry and exit bars included."""
    opened = np.bincount(entry_bar, minlength=count + 1) - np.bincount(exit_bar + 1, minlength=count + 1)
    return float(np.count_nonzero(np.cumsum(opened[:count])) / count)


def _beta(equity: np.ndarray, close: np.ndarray) -> np.float64:
    """Covariance of the equity's and the market's log returns over the market's variance."""
    if len(equity) < 3:
        return np.float64(np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = np.cov(np.log(equity[1:] / equity[:-1]), np.log(close[1:] / close[:-1]))
        return np.float64(cov[0, 1] / cov[1, 1])

"""Statistics of an equity curve alone: returns, risk, drawdowns (backtesting.py 0.6.6).

Usable for a backtest's equity per bar and for a portfolio's balance history taken at
irregular times alike: every figure depends only on the timestamps and the values.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np

from .drawdown import Drawdown, drawdown
from .periods import MS_PER_DAY, Periodicity, utc_datetime
from .returns import annualised_returns, period_returns
from .wire import python_scalars

__all__ = ["check_series", "checked_equity_stats", "equity_stats"]


def check_series(timestamps: np.ndarray, *values: np.ndarray) -> tuple[np.ndarray, ...]:
    """`timestamps` as int64 and `values` as float64, validated: one-dimensional, equal
    non-zero lengths, timestamps non-decreasing, values free of NaN (ValueError otherwise)."""
    times = np.ascontiguousarray(timestamps, dtype=np.int64)
    arrays = tuple(np.ascontiguousarray(value, dtype=np.float64) for value in values)
    if times.ndim != 1 or not len(times):
        raise ValueError(f"timestamps must be a non-empty one-dimensional array, not shape {times.shape}")
    for array in arrays:
        if array.shape != times.shape:
            raise ValueError(f"series of shape {array.shape} does not match timestamps {times.shape}")
        if np.isnan(array).any():
            raise ValueError("series contain NaN")
    if np.any(times[1:] < times[:-1]):
        raise ValueError("timestamps must be in ascending order")
    return (times, *arrays)


def equity_stats(timestamps: np.ndarray, equity: np.ndarray) -> dict[str, Any]:
    """backtesting.py's equity statistics of `equity` (float64, shape (n,)) at `timestamps`
    (UTC epoch ms, int64, shape (n,), ascending; need not be regular).

    Keys, in backtesting.py's order: Start, End (UTC datetimes), Duration (timedelta), Equity
    Final [$], Equity Peak [$], Return [%], Return (Ann.) [%], Volatility (Ann.) [%], CAGR [%],
    Sharpe Ratio, Sortino Ratio, Calmar Ratio, Max. Drawdown [%], Avg. Drawdown [%] (floats,
    NaN/inf where backtesting.py has them), Max. Drawdown Duration, Avg. Drawdown Duration
    (timedeltas rounded up to the data's resolution, None when there is no drawdown episode).
    ValueError for arrays that `check_series` refuses.
    """
    timestamps, equity = check_series(timestamps, equity)
    return checked_equity_stats(timestamps, equity, Periodicity.of(timestamps), drawdown(equity))


def checked_equity_stats(timestamps: np.ndarray, equity: np.ndarray, periodicity: Periodicity,
                         dd: Drawdown) -> dict[str, Any]:
    """`equity_stats` of arrays `check_series` has passed, with their periodicity and drawdown."""
    annual = annualised_returns(period_returns(timestamps, equity, periodicity), periodicity.periods_per_year)
    duration_ms = int(timestamps[-1] - timestamps[0])
    final, first = equity[-1], equity[0]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        years = (duration_ms // MS_PER_DAY + duration_ms % MS_PER_DAY // 1000 / 86400) / 365.25
        cagr = ((final / first) ** (1 / years) - 1) * 100 if years else np.nan
        max_dd = np.nan_to_num(np.max(dd.fraction))
        volatility = annual.annual_volatility * 100
        stats = {
            "Start": utc_datetime(timestamps[0]),
            "End": utc_datetime(timestamps[-1]),
            "Duration": timedelta(milliseconds=duration_ms),
            "Equity Final [$]": final,
            "Equity Peak [$]": np.max(equity),
            "Return [%]": (final - first) / first * 100,
            "Return (Ann.) [%]": annual.annual_return * 100,
            "Volatility (Ann.) [%]": volatility,
            "CAGR [%]": cagr,
            "Sharpe Ratio": np.float64(annual.annual_return * 100) / (volatility or np.nan),
            "Sortino Ratio": annual.sortino_ratio,
            "Calmar Ratio": np.float64(annual.annual_return) / (max_dd or np.nan),
            "Max. Drawdown [%]": -max_dd * 100,
        }
    stats.update(_episode_stats(timestamps, dd, periodicity))
    return python_scalars(stats)


def _episode_stats(timestamps: np.ndarray, dd: Drawdown, periodicity: Periodicity) -> dict[str, Any]:
    if len(dd.episode_depth):
        durations = dd.episode_durations_ms(timestamps)
        return {
            "Avg. Drawdown [%]": -np.mean(dd.episode_depth) * 100,
            "Max. Drawdown Duration": periodicity.max_duration(durations),
            "Avg. Drawdown Duration": periodicity.mean_duration(durations),
        }
    # No episode: backtesting.py falls back to the non-zero drawdowns themselves (at most one
    # bar, the last), and reports that fraction as a "duration"; we report no duration.
    below = dd.fraction[(dd.fraction != 0) & ~np.isnan(dd.fraction)]
    return {
        "Avg. Drawdown [%]": -np.mean(below) * 100 if len(below) else np.nan,
        "Max. Drawdown Duration": None,
        "Avg. Drawdown Duration": None,
    }

"""Period returns of an equity curve and the annualised figures built on them.

backtesting.py 0.6.6 (`_stats.compute_stats`, `_stats.geometric_mean`): equity is sampled at
the last bar of each calendar bucket (`resample(rule).last()`), returns are the relative
changes between consecutive samples, their mean is geometric, and annualisation compounds
it (https://dx.doi.org/10.2139/ssrn.3054517). The risk-free rate is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .periods import Periodicity, bucket_ids, bucket_last

__all__ = ["AnnualisedReturns", "annualised_returns", "geometric_mean", "period_returns"]


def geometric_mean(returns: np.ndarray) -> float:
    """Geometric mean of fractional `returns` (NaN counts as 0); 0.0 if any return <= -100%,
    NaN for no returns (backtesting.py's `geometric_mean`)."""
    growth = np.where(np.isnan(returns), 0.0, returns) + 1
    if np.any(growth <= 0):
        return 0.0
    if not len(growth):
        return np.nan
    return float(np.exp(np.log(growth).sum() / len(growth)) - 1)


def period_returns(timestamps: np.ndarray, equity: np.ndarray, periodicity: Periodicity) -> np.ndarray:
    """Relative change of equity between the last bars of consecutive calendar buckets
    (shape (m,), NaN results of 0/0 dropped, as `pct_change().dropna()`)."""
    sampled = equity[bucket_last(bucket_ids(timestamps, periodicity.bucket))]
    with np.errstate(divide="ignore", invalid="ignore"):
        changes = sampled[1:] / sampled[:-1] - 1
    return changes[~np.isnan(changes)]


@dataclass(frozen=True, slots=True)
class AnnualisedReturns:
    """Annualised figures as fractions (NaN where undefined)."""

    geometric_mean: float
    """per period"""
    annual_return: float
    annual_volatility: float
    sortino_ratio: float


def annualised_returns(returns: np.ndarray, periods_per_year: int) -> AnnualisedReturns:
    """Return (Ann.), Volatility (Ann.) and the Sortino ratio from period `returns`."""
    mean = geometric_mean(returns)
    growth = np.float64(1 + mean)
    annual = growth**periods_per_year - 1
    variance = np.var(returns, ddof=1) if len(returns) > 1 else np.nan
    with np.errstate(invalid="ignore"):
        volatility = np.sqrt((variance + growth**2) ** periods_per_year - growth ** (2 * periods_per_year))
    downside = np.sqrt(np.mean(np.minimum(returns, 0) ** 2)) if len(returns) else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        sortino = annual / (downside * np.sqrt(periods_per_year))
    return AnnualisedReturns(mean, float(annual), float(volatility), float(sortino))

"""A fear & greed index computed from the candles we hold (no outside source).

For each pair, on daily candles (oldest first), three components of day t, each 0..100
(0 = extreme fear, 100 = extreme greed), each the percentile rank of today's value among
the last `RANK_DAYS` (365) days' values, today included (rank = 100 * share of values <= today):

* **volatility**: the standard deviation of the last 30 daily log returns; ranked and
  inverted (100 - rank): unusually high volatility is fear.
* **momentum**: close / SMA(close, 30) - 1: unusually far above the month's average is greed.
* **volume**: mean volume of the last 7 days / of the last 30 days, ranked; inverted when the
  7-day return is negative: heavy volume into a rally is greed, into a sell-off fear. Pairs
  without volume (NaN or zero) leave it out.

A pair's index is the mean of its components; the market's index of a day is the mean over
the pairs that have one that day (equal weights). A day needs 30 days of history for its
components and `MIN_RANKED` (30) values to rank against. Classification (alternative.me's
bands): 0-24 Extreme Fear, 25-44 Fear, 45-55 Neutral, 56-75 Greed, 76-100 Extreme Greed.

Sources: the idea is CNN Money's and alternative.me's Crypto Fear & Greed Index (volatility,
market momentum/volume, among others we do not hold: social media, surveys, dominance,
search trends). The figures are ours, not theirs, and say so in the API documentation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .candles import Candles
from .indicators import sma

__all__ = ["BANDS", "FearGreed", "classify", "fear_greed"]

WINDOW = 30
SHORT = 7
RANK_DAYS = 365
MIN_RANKED = 30
BANDS = ((24, "Extreme Fear"), (44, "Fear"), (55, "Neutral"), (75, "Greed"), (100, "Extreme Greed"))
COMPONENTS = ("volatility", "momentum", "volume")


def classify(value: float) -> str:
    """The band of an index value (0..100)."""
    for upper, name in BANDS:
        if value <= upper + 0.5:  # bands on rounded values
            return name
    return BANDS[-1][1]


@dataclass(frozen=True)
class FearGreed:
    """The index by day: `timestamp` (int64 ms, day opens), `value` (float64 0..100), and each
    component's market mean (`components[name]`, NaN where no pair had it), all of shape (n,);
    `pairs[i]`: how many pairs day i averages."""

    timestamp: np.ndarray
    value: np.ndarray
    components: dict[str, np.ndarray]
    pairs: np.ndarray


def _rank(values: np.ndarray) -> np.ndarray:
    """Percentile rank of each value among the `RANK_DAYS` values ending with it (NaN-aware)."""
    out = np.full(len(values), np.nan)
    for i in np.flatnonzero(np.isfinite(values)):
        window = values[max(0, i - RANK_DAYS + 1):i + 1]
        window = window[np.isfinite(window)]
        if len(window) >= MIN_RANKED:
            out[i] = 100.0 * np.count_nonzero(window <= values[i]) / len(window)
    return out


def _components(daily: Candles) -> dict[str, np.ndarray]:
    close = np.asarray(daily.close, dtype=np.float64)
    n = len(close)
    returns = np.full(n, np.nan)
    returns[1:] = np.log(close[1:] / close[:-1])
    volatility = np.full(n, np.nan)
    if n > WINDOW:
        volatility[WINDOW:] = np.lib.stride_tricks.sliding_window_view(returns[1:], WINDOW).std(axis=1)
    momentum = close / sma(close, WINDOW) - 1 if n >= WINDOW else np.full(n, np.nan)
    volume = np.asarray(daily.volume, dtype=np.float64)
    known = np.isfinite(volume) & (volume > 0)
    week = np.full(n, np.nan)
    week[SHORT:] = close[SHORT:] / close[:-SHORT] - 1
    flow = np.full(n, np.nan)
    if n >= WINDOW and known.sum() >= WINDOW:
        filled = np.where(known, volume, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            flow = sma(filled, SHORT) / sma(filled, WINDOW)
        flow[~np.isfinite(flow) | ~np.isfinite(week)] = np.nan
    ranked = _rank(flow)
    volume_rank = np.where(week < 0, 100.0 - ranked, ranked)
    return {"volatility": 100.0 - _rank(volatility), "momentum": _rank(momentum), "volume": volume_rank}


def fear_greed(series: Mapping[str, Candles]) -> FearGreed:
    """The index over `series` (pair -> daily candles); see the module documentation."""
    days = np.unique(np.concatenate([s.timestamp for s in series.values()])) if series else np.empty(0, np.int64)
    sums = np.zeros(len(days))
    counts = np.zeros(len(days), np.int64)
    parts = {name: (np.zeros(len(days)), np.zeros(len(days), np.int64)) for name in COMPONENTS}
    for daily in series.values():
        if daily.timeframe != "1d":
            raise ValueError(f"the fear & greed index reads daily candles, not {daily.timeframe}")
        components = _components(daily)
        at = np.searchsorted(days, daily.timestamp)
        has = np.isfinite(components["volatility"]) & np.isfinite(components["momentum"])
        stacked = np.column_stack([components[name][has] for name in COMPONENTS])
        sums[at[has]] += np.nanmean(stacked, axis=1)  # volume may be missing; the other two are there
        counts[at[has]] += 1
        for name in COMPONENTS:
            ok = has & np.isfinite(components[name])
            parts[name][0][at[ok]] += components[name][ok]
            parts[name][1][at[ok]] += 1
    keep = counts > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        means = {name: (total / count)[keep] for name, (total, count) in parts.items()}
    return FearGreed(days[keep], sums[keep] / counts[keep], means, counts[keep])

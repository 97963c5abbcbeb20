"""Funding of perpetuals: a payment between longs and shorts at fixed times.

At each funding time (every `interval_ms` from the Unix epoch: 00:00, 08:00, 16:00 UTC for
8 hours, as Binance and most exchanges) every open position pays
`contracts * mark * rate` (`contracts` signed): with a positive rate longs pay and shorts
receive, with a negative one the other way round (Binance USDⓈ-M "Introduction to Funding
Rates": funding amount = position value * funding rate).

The simulated exchange takes the rate and the interval from the market (`info.fundingRate`,
a fraction per interval, default 0.0001 = 0.01%, Binance's baseline; `info.fundingIntervalHours`,
default 8); the mark price is the last price of the first price point at or after the funding
time (a bar's open in a backtest). An isolated position pays from its margin and receives
into it (so its liquidation price moves).
"""

from __future__ import annotations

import numpy as np

__all__ = ["DEFAULT_FUNDING_INTERVAL_HOURS", "DEFAULT_FUNDING_RATE", "funding_bars", "funding_times",
           "next_funding_time"]

DEFAULT_FUNDING_RATE = 0.0001
DEFAULT_FUNDING_INTERVAL_HOURS = 8.0


def next_funding_time(after_ms: int, interval_ms: int) -> int:
    """The first funding time strictly after `after_ms`."""
    return (after_ms // interval_ms + 1) * interval_ms


def funding_times(since_ms: int, until_ms: int, interval_ms: int) -> list[int]:
    """Funding times `t` with `since_ms < t <= until_ms`, ascending."""
    first = next_funding_time(since_ms, interval_ms)
    return list(range(first, until_ms + 1, interval_ms))


def funding_bars(timestamps: np.ndarray, interval_ms: int) -> np.ndarray:
    """Bool array: the bars (by open time, ascending) at which a funding time has passed since
    the previous bar's open (the first bar never): where a backtest must play a bar to pay."""
    buckets = timestamps.astype(np.int64) // interval_ms
    crossed = np.zeros(len(timestamps), bool)
    crossed[1:] = buckets[1:] != buckets[:-1]
    return crossed

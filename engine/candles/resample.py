"""Resampling: candles of a coarser timeframe built from a finer one.

The aggregation is the usual OHLCV one (pandas' `resample(...).agg({"open": "first",
"high": "max", "low": "min", "close": "last", "volume": "sum"})`, backtesting.py's
`resample_apply`): per target candle, the first open, the highest high, the lowest low,
the last close and the summed volume of the finer candles inside it. Target candles open on
the target's boundaries (`timeframes`). A target candle is built only where the source
series covers its whole period: the partial candle at either end of the stored data (the
one still forming at the end, the one cut by where the data starts) is left out. Gaps
inside a period are what the market did (no trades) and do not drop the candle.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidTimeframe
from .series import Candles
from .timeframes import timeframe

__all__ = ["can_resample", "resample"]


def can_resample(source: str, target: str) -> bool:
    """Whether candles of `source` aggregate exactly into `target` (both ccxt timeframes)."""
    return timeframe(source).builds(timeframe(target))


def resample(candles: Candles, target: str, *, covered: tuple[int, int] | None = None) -> Candles:
    """`candles` aggregated into `target` candles.

    `covered` is `(first open, end)` in ms: the span the source series has data for (its
    first candle's open and its last candle's close); candles of `target` reaching outside
    it are partial and left out. By default it is the span of `candles` itself.
    Raises `InvalidTimeframe` when `candles.timeframe` does not build `target`.
    """
    source, frame = timeframe(candles.timeframe), timeframe(target)
    if not source.builds(frame):
        raise InvalidTimeframe(f"Can not build {target} candles from {candles.timeframe} candles",
                               timeframe=target, source=candles.timeframe)
    if not len(candles):
        return Candles.empty(target)
    if covered is None:
        covered = (int(candles.timestamp[0]), source.next_open(int(candles.timestamp[-1])))
    buckets = frame.bucket(candles.timestamp)
    starts = np.flatnonzero(np.concatenate(([True], buckets[1:] != buckets[:-1])))
    stops = np.concatenate((starts[1:], [len(candles)])) - 1
    opens = frame.opening(buckets[starts])
    ends = frame.opening(buckets[starts] + 1)
    keep = (opens >= covered[0]) & (ends <= covered[1])
    return Candles(
        target,
        opens[keep],
        candles.open[starts][keep],
        np.maximum.reduceat(candles.high, starts)[keep],
        np.minimum.reduceat(candles.low, starts)[keep],
        candles.close[stops][keep],
        np.add.reduceat(candles.volume, starts)[keep],
    )

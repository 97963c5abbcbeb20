"""Drawdowns of an equity curve and their episodes (backtesting.py 0.6.6's definitions).

The drawdown at a bar is `1 - equity / running peak` (a fraction, 0 at a new high). An
episode runs from a bar at its peak (drawdown exactly 0) to the next bar at a peak, or to
the last bar when the curve never recovers, and counts only if at least one bar lies between
the two (`compute_drawdown_duration_peaks`). Its duration is the time between its two ends,
its depth the largest drawdown within it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Drawdown", "drawdown"]


@dataclass(frozen=True, slots=True)
class Drawdown:
    """The drawdown of one equity curve; arrays of shape (n,) per bar, (k,) per episode.

    `peak`: running maximum of equity; `fraction`: `1 - equity / peak`; `episode_start`,
    `episode_end`: bar indices (int64) of each episode's ends; `episode_depth`: its largest
    drawdown fraction.
    """

    peak: np.ndarray
    fraction: np.ndarray
    episode_start: np.ndarray
    episode_end: np.ndarray
    episode_depth: np.ndarray

    def episode_durations_ms(self, timestamps: np.ndarray) -> np.ndarray:
        """Time from each episode's start to its end, in ms (int64, shape (k,))."""
        return timestamps[self.episode_end] - timestamps[self.episode_start]

    def max_fall(self, equity: np.ndarray) -> float:
        """The largest fall of `equity` below its running peak, in its currency (>= 0)."""
        return float(np.max(self.peak - equity))


def drawdown(equity: np.ndarray) -> Drawdown:
    """The drawdown of `equity` (float64, shape (n,)), with its episodes."""
    peak = np.maximum.accumulate(equity)
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = 1 - equity / peak
    at_peak = np.flatnonzero(fraction == 0)
    if not len(at_peak) or at_peak[-1] != len(fraction) - 1:
        at_peak = np.append(at_peak, len(fraction) - 1)
    longer = at_peak[1:] > at_peak[:-1] + 1
    start, end = at_peak[:-1][longer], at_peak[1:][longer]
    # Depth of [start, end]: segments [start, end + 1) of the curve padded with one 0, NaNs skipped.
    bounds = np.empty(2 * len(start), dtype=np.int64)
    bounds[0::2], bounds[1::2] = start, end + 1
    depth = np.fmax.reduceat(np.append(fraction, 0.0), bounds)[0::2] if len(start) else np.empty(0)
    return Drawdown(peak, fraction, start, end, depth)

"""Indicators as array functions over a whole series (backtesting.py's `I()` idea).

Each function takes float arrays of shape (n,) (oldest first) and returns float64 arrays of
shape (n,) aligned with its input: NaN during the warm-up, a value from then on. A backtest
calls it once over the whole series; a live strategy calls the same function on a rolling
window of its latest candles and reads the last value. Inputs must be NaN-free apart from
leading NaNs (an indicator of an indicator), which lengthen the warm-up.

Two kinds, and what a live window of `live_window(indicator, ...)` candles gives:

- Finite memory (`sma`, `bollinger_bands`, `roc`): each value is computed from its own
  window only, in a fixed order (window sums by a fixed pairwise tree, deviations summed
  offset by offset), so the live value at bar i is bit-for-bit the full-series value at i.
- Recursive (`ema`, `rsi`, `atr`, `macd`): exponential smoothing seeded with the simple
  average of the first `period` values (TA-Lib's convention; Wilder's for RSI and ATR), run
  by pandas' `ewm(adjust=False)`. A window starts its own seed, whose weight decays by
  (1 - alpha) per bar; `live_window` is long enough for that weight to fall below 1e-14,
  so live and full-series values agree to about 1e-13 relative (not bit for bit).

Numpy-vectorised throughout: loops run over the period or the tree's levels, never over bars.
Sources: Wilder, "New Concepts in Technical Trading Systems" (1978) for RSI and ATR;
Appel for MACD; Bollinger for the bands (population standard deviation); TA-Lib's seeding.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = ["Bands", "Macd", "atr", "bollinger_bands", "crossover", "ema", "live_window", "macd", "roc", "rsi", "sma"]

SEED_WEIGHT = 1e-14
"""The weight a live window's own seed may keep at its last bar (see `live_window`)."""


class Bands(NamedTuple):
    """Bollinger bands, each of shape (n,)."""

    lower: np.ndarray
    middle: np.ndarray
    upper: np.ndarray


class Macd(NamedTuple):
    """MACD line, its signal line and their difference, each of shape (n,)."""

    macd: np.ndarray
    signal: np.ndarray
    histogram: np.ndarray


def _series(values: ArrayLike) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"an indicator needs a one-dimensional series, not shape {array.shape}")
    return array


def _period(period: int) -> int:
    if int(period) != period or period < 1:
        raise ValueError(f"period must be a positive integer, not {period!r}")
    return int(period)


def _window_sums(values: np.ndarray, period: int) -> np.ndarray:
    """Sums of every `period` consecutive values (shape (n - period + 1,)), each added up by
    the same fixed pairwise tree, so a sum depends only on its own window's values."""
    count = len(values) - period + 1
    total: np.ndarray | None = None
    level, width, offset = values, 1, 0  # level[j] = sum of values[j : j + width]
    while width <= period:
        if period & width:
            block = level[offset:offset + count]
            total = block.copy() if total is None else total + block
            offset += width
        if width * 2 <= period:
            level = level[:-width] + level[width:]
        width *= 2
    assert total is not None
    return total


def _aligned(values: np.ndarray, length: int) -> np.ndarray:
    """`values` placed at the end of a NaN array of `length`."""
    return np.concatenate((np.full(length - len(values), np.nan), values))


def sma(values: ArrayLike, period: int) -> np.ndarray:
    """Simple moving average over `period` values; the first `period - 1` are NaN."""
    series, period = _series(values), _period(period)
    if len(series) < period:
        return np.full(len(series), np.nan)
    return _aligned(_window_sums(series, period) / period, len(series))


def roc(values: ArrayLike, period: int) -> np.ndarray:
    """Rate of change in percent: `100 * (x[i] / x[i - period] - 1)`; the first `period` are NaN."""
    series, period = _series(values), _period(period)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _aligned(100 * (series[period:] / series[:-period] - 1), len(series))


def bollinger_bands(close: ArrayLike, period: int = 20, width: float = 2.0) -> Bands:
    """Middle band = `sma(close, period)`; upper/lower = middle +- `width` population standard
    deviations of the same window (Bollinger's definition, TA-Lib's BBANDS); first
    `period - 1` NaN."""
    series, period = _series(close), _period(period)
    middle = sma(series, period)
    count = len(series) - period + 1
    if count < 1:
        return Bands(middle, middle.copy(), middle.copy())
    mean = middle[period - 1:]
    squares = np.zeros(count)
    for offset in range(period):  # over the window, in order: each value's own window only
        deviation = series[offset:offset + count] - mean
        squares += deviation * deviation
    spread = _aligned(width * np.sqrt(squares / period), len(series))
    return Bands(middle - spread, middle, middle + spread)


def _smoothed(values: np.ndarray, period: int, alpha: float) -> np.ndarray:
    """Exponential smoothing `y[i] = y[i-1] + alpha * (x[i] - y[i-1])`, seeded at the
    `period`-th valid value with the mean of the first `period` valid values; NaN before."""
    first = _first_valid(values)
    if len(values) - first < period:
        return np.full(len(values), np.nan)
    recursion = values[first + period - 1:].copy()
    recursion[0] = _window_sums(values[first:first + period], period)[0] / period
    smoothed = pd.Series(recursion).ewm(alpha=alpha, adjust=False).mean().to_numpy()
    return _aligned(smoothed, len(values))


def _first_valid(values: np.ndarray) -> int:
    """Index of the first non-NaN value (len(values) when there is none)."""
    if not len(values) or not np.isnan(values[0]):
        return 0
    valid = ~np.isnan(values)
    return int(np.argmax(valid)) if valid.any() else len(values)


def ema(values: ArrayLike, period: int) -> np.ndarray:
    """Exponential moving average, alpha = 2 / (period + 1), seeded with the SMA of the first
    `period` values (TA-Lib's EMA); the first `period - 1` are NaN."""
    period = _period(period)
    return _smoothed(_series(values), period, 2 / (period + 1))


def rsi(close: ArrayLike, period: int = 14) -> np.ndarray:
    """Wilder's relative strength index, 0..100: gains and losses of consecutive closes, each
    smoothed with alpha = 1 / period from the mean of the first `period` of them;
    `100 * avg_gain / (avg_gain + avg_loss)`, 50 when both are 0. First `period` NaN."""
    series, period = _series(close), _period(period)
    change = np.diff(series, prepend=np.nan)
    gains = _smoothed(np.maximum(change, 0.0), period, 1 / period)  # NaN stays NaN
    losses = _smoothed(np.maximum(-change, 0.0), period, 1 / period)
    total = gains + losses
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total == 0, 50.0, 100 * gains / total)


def atr(high: ArrayLike, low: ArrayLike, close: ArrayLike, period: int = 14) -> np.ndarray:
    """Wilder's average true range: the true range (largest of high - low, |high - previous
    close|, |low - previous close|) from the second bar on, smoothed with alpha = 1 / period
    from the mean of its first `period` values (TA-Lib's ATR). First `period` NaN."""
    highs, lows, closes, period = _series(high), _series(low), _series(close), _period(period)
    previous = np.concatenate(([np.nan], closes[:-1]))
    true_range = np.maximum(highs - lows, np.maximum(np.abs(highs - previous), np.abs(lows - previous)))
    true_range[:1] = np.nan  # no previous close: the first bar has no true range
    return _smoothed(true_range, period, 1 / period)


def macd(close: ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9) -> Macd:
    """MACD line `ema(close, fast) - ema(close, slow)` (NaN for the first `slow - 1`), its
    signal line `ema(macd, signal)` (NaN for the first `slow + signal - 2`), and
    histogram = macd - signal."""
    series = _series(close)
    line = ema(series, fast) - ema(series, slow)
    signal_line = ema(line, signal)
    return Macd(line, signal_line, line - signal_line)


def crossover(first: ArrayLike, second: ArrayLike) -> np.ndarray:
    """True at bars where `first` goes above `second`: strictly below it the bar before and
    strictly above it now (backtesting.py's `lib.crossover`, evaluated at every bar, so a bar
    of equality in between is no crossover); `second` may be a number. Bool, shape (n,)."""
    a, b = _series(first), np.broadcast_to(np.asarray(second, dtype=np.float64), np.shape(first))
    with np.errstate(invalid="ignore"):
        return np.concatenate(([False], (a[1:] > b[1:]) & (a[:-1] < b[:-1])))


def _decay(alpha: float) -> int:
    """Bars after which a seed keeps less than `SEED_WEIGHT` of its weight (none when
    `alpha` is 1: a period of 1 keeps no memory)."""
    if alpha >= 1.0:
        return 0
    return math.ceil(math.log(SEED_WEIGHT) / math.log(1 - alpha))


_LIVE_WINDOWS: dict[Callable[..., Any], Callable[..., int]] = {
    sma: lambda period: period,
    roc: lambda period: period + 1,
    bollinger_bands: lambda period=20, width=2.0: period,
    ema: lambda period: period + _decay(2 / (period + 1)),
    rsi: lambda period=14: period + 1 + _decay(1 / period),
    atr: lambda period=14: period + 1 + _decay(1 / period),
    macd: lambda fast=12, slow=26, signal=9: slow + _decay(2 / (slow + 1)) + signal + _decay(2 / (signal + 1)),
}


def live_window(indicator: Callable[..., Any], **settings: Any) -> int:
    """How many latest candles a live call of `indicator` with `settings` needs for its last
    value to be the full-series value: exactly for `sma`, `roc` and `bollinger_bands`, to about
    1e-13 relative for the recursive ones (their seed's weight falls below `SEED_WEIGHT`).
    E.g. `live_window(rsi, period=14)`; ValueError for a function that is no indicator here."""
    if indicator not in _LIVE_WINDOWS:
        raise ValueError(f"{getattr(indicator, '__name__', indicator)!r} is not an indicator of engine.indicators")
    return _LIVE_WINDOWS[indicator](**settings)

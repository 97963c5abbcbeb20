"""Features of a candle series for the direction models, and the label they learn.

Each row describes one closed candle from what was known at its close (nothing later):

| name | formula |
|---|---|
| `ret_1`, `ret_3`, `ret_6`, `ret_12` | log return over 1, 3, 6, 12 bars: ln(close[t] / close[t-h]) |
| `volatility_12` | standard deviation of the 1-bar log returns of the last 12 bars (population) |
| `rsi_14` | Wilder's RSI over 14 bars (`engine.indicators.rsi`), scaled to 0..1 |
| `volume_change` | ln(volume[t] / mean volume of the 12 bars before t); 0 where volume is unknown or 0 |
| `range` | (high - low) / close: the bar's own spread |

The label of bar t is the next bar's direction: 1 when close[t+1] > close[t], else 0 (the
last bar has none). Rows whose features are not all defined (the first `LOOKBACK` bars)
are left out of training and scoring.
"""

from __future__ import annotations

import numpy as np

from ..candles import Candles
from ..indicators import rsi, sma

__all__ = ["FEATURES", "LOOKBACK", "feature_matrix", "next_direction"]

HORIZONS = (1, 3, 6, 12)
WINDOW = 12
FEATURES = (*(f"ret_{h}" for h in HORIZONS), f"volatility_{WINDOW}", "rsi_14", "volume_change", "range")
"""Column names of `feature_matrix`, in order."""
LOOKBACK = 14
"""Bars before the first row with every feature defined: RSI(14) is defined from bar 14 (the
returns over 12 bars and their volatility from bar 12)."""


def _log_return(close: np.ndarray, horizon: int) -> np.ndarray:
    out = np.full(len(close), np.nan)
    if len(close) > horizon:
        out[horizon:] = np.log(close[horizon:] / close[:-horizon])
    return out


def _rolling_std(values: np.ndarray, window: int) -> np.ndarray:
    out = np.full(len(values), np.nan)
    if len(values) >= window:
        windows = np.lib.stride_tricks.sliding_window_view(values, window)
        out[window - 1:] = windows.std(axis=1)
    return out


def _volume_change(volume: np.ndarray) -> np.ndarray:
    known = np.where(np.isfinite(volume), volume, 0.0)
    before = np.full(len(known), np.nan)
    if len(known) > WINDOW:
        before[WINDOW:] = sma(known, WINDOW)[WINDOW - 1:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.log(known / before)
    change[np.isnan(before)] = np.nan
    change[np.isfinite(before) & ~np.isfinite(change)] = 0.0  # zero or unknown volume: no information
    return change


def feature_matrix(candles: Candles) -> np.ndarray:
    """The features of every bar: float64 of shape (n, len(FEATURES)), NaN where undefined."""
    close = np.asarray(candles.close, dtype=np.float64)
    one = _log_return(close, 1)
    columns = [_log_return(close, h) for h in HORIZONS]
    columns.append(_rolling_std(np.nan_to_num(one, nan=0.0), WINDOW))
    columns[-1][:WINDOW] = np.nan  # the first return is undefined, so is a window holding it
    columns.append(rsi(close, 14) / 100.0 if len(close) > 14 else np.full(len(close), np.nan))
    columns.append(_volume_change(np.asarray(candles.volume, dtype=np.float64)))
    with np.errstate(divide="ignore", invalid="ignore"):
        columns.append((candles.high - candles.low) / close)
    return np.column_stack(columns) if len(close) else np.empty((0, len(FEATURES)))


def next_direction(candles: Candles) -> np.ndarray:
    """The label of every bar: 1.0 if the next close is higher, 0.0 if not, NaN for the last bar."""
    close = np.asarray(candles.close, dtype=np.float64)
    label = np.full(len(close), np.nan)
    if len(close) > 1:
        label[:-1] = (close[1:] > close[:-1]).astype(np.float64)
    return label

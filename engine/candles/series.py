"""`Candles`: one OHLCV series as numpy arrays, the engine's unit of market history.

Timestamps are UTC epoch milliseconds at each candle's open (ccxt's OHLCV convention),
strictly increasing; prices and volumes are float64. Backtests, replays and signal models
all read this shape; ccxt-shaped lists (`[[timestamp, open, high, low, close, volume], ...]`)
exist only at the edges (`to_ohlcv`, `from_ohlcv`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Candles"]

FIELDS = ("timestamp", "open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class Candles:
    """An OHLCV series of one (exchange, symbol, timeframe)."""

    timeframe: str
    timestamp: np.ndarray  # int64, ms, candle open, strictly increasing
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.timestamp)

    @classmethod
    def from_ohlcv(cls, timeframe: str, rows: Sequence[Sequence[float]]) -> Candles:
        """From ccxt's `fetch_ohlcv` rows (already sorted and unique)."""
        table = np.asarray(rows, dtype=np.float64).reshape(-1, 6)
        return cls(timeframe, table[:, 0].astype(np.int64), *(np.ascontiguousarray(table[:, i]) for i in range(1, 6)))

    def to_ohlcv(self) -> list[list[float]]:
        """ccxt's `fetch_ohlcv` shape: `[[timestamp, open, high, low, close, volume], ...]`."""
        return [[int(t), float(o), float(h), float(lo), float(c), float(v)] for t, o, h, lo, c, v in zip(
            self.timestamp, self.open, self.high, self.low, self.close, self.volume, strict=True)]

    def slice(self, start: int, stop: int) -> Candles:
        """Candles with `start <= timestamp < stop` (ms)."""
        lo, hi = np.searchsorted(self.timestamp, [start, stop], side="left")
        return Candles(self.timeframe, *(getattr(self, name)[lo:hi] for name in FIELDS))

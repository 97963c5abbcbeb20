"""`Candles`: one OHLCV series as numpy arrays, the engine's unit of market history.

Timestamps are UTC epoch milliseconds at each candle's open (ccxt's OHLCV convention),
strictly increasing; prices and volumes are float64. Backtests, replays and signal models
all read this shape; ccxt-shaped lists (`[[timestamp, open, high, low, close, volume], ...]`)
exist only at the edges (`to_ohlcv`, `from_ohlcv`).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

__all__ = ["Candle", "Candles"]

FIELDS = ("timestamp", "open", "high", "low", "close", "volume")


class Candle(NamedTuple):
    """One candle, as ccxt's OHLCV row: `[timestamp, open, high, low, close, volume]`."""

    timestamp: int
    open: float
    high: float
    low: float
    close: float
    volume: float


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
    def empty(cls, timeframe: str) -> Candles:
        return cls(timeframe, np.empty(0, np.int64), *(np.empty(0, np.float64) for _ in range(5)))

    @classmethod
    def concat(cls, timeframe: str, parts: Sequence[Candles]) -> Candles:
        """The parts one after the other (each already in order, none overlapping the next)."""
        if not parts:
            return cls.empty(timeframe)
        return cls(timeframe, *(np.concatenate([getattr(part, name) for part in parts]) for name in FIELDS))

    @classmethod
    def from_ohlcv(cls, timeframe: str, rows: Sequence[Sequence[float]]) -> Candles:
        """From ccxt's `fetch_ohlcv` rows (already sorted and unique)."""
        table = np.asarray(rows, dtype=np.float64).reshape(-1, 6)
        return cls(timeframe, table[:, 0].astype(np.int64), *(np.ascontiguousarray(table[:, i]) for i in range(1, 6)))

    def to_ohlcv(self) -> list[list[float]]:
        """ccxt's `fetch_ohlcv` shape: `[[timestamp, open, high, low, close, volume], ...]`."""
        return [[int(t), float(o), float(h), float(lo), float(c), float(v)] for t, o, h, lo, c, v in zip(
            self.timestamp, self.open, self.high, self.low, self.close, self.volume, strict=True)]

    def slice(self, start: int | None, stop: int | None) -> Candles:
        """Candles with `start <= timestamp < stop` (ms; None: unbounded)."""
        lo = 0 if start is None else int(np.searchsorted(self.timestamp, start, side="left"))
        hi = len(self) if stop is None else int(np.searchsorted(self.timestamp, stop, side="left"))
        return self[lo:hi]

    def __getitem__(self, index: builtins.slice | np.ndarray) -> Candles:
        """Positional slicing (`candles[-100:]` are the last hundred) or a boolean mask."""
        return Candles(self.timeframe, *(getattr(self, name)[index] for name in FIELDS))

    def __iter__(self) -> Iterator[Candle]:
        for row in zip(self.timestamp.tolist(), self.open.tolist(), self.high.tolist(), self.low.tolist(),
                       self.close.tolist(), self.volume.tolist(), strict=True):
            yield Candle(*row)

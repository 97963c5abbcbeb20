"""The binary layout of stored candles: a series is cut into chunks of whole columns.

A chunk holds the candles of one series whose open falls in one fixed span of time,
`CHUNK_CANDLES` nominal candles long (`chunk_number`). Its bytes are the six columns one
after the other, each little-endian 8 bytes per candle: timestamps (int64 ms), then open,
high, low, close, volume (float64) — 48 bytes a candle, read back with `numpy.frombuffer`
at memory speed, whatever the database around them (a SQLite BLOB, a BSON binary).

Spans are fixed, so where a candle goes never depends on what is stored already: writing
the same candles twice touches the same chunks, which keeps re-imports idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .gaps import Gap, find_gaps
from .series import FIELDS, Candles
from .timeframes import Timeframe

__all__ = ["CHUNK_CANDLES", "ChunkMeta", "chunk_number", "decode", "describe", "encode"]

CHUNK_CANDLES = 2048
"""Nominal candles per chunk: 96 KiB of columns. Loading a million candles reads ~490
chunks; appending one candle rewrites one chunk."""

_COLUMNS = len(FIELDS)
_LE_INT = np.dtype("<i8")
_LE_FLOAT = np.dtype("<f8")


@dataclass(frozen=True)
class ChunkMeta:
    """What is known of a chunk without reading its columns: its number, the opens (ms)
    of its first and last candle, how many it holds, and the gaps inside it."""

    number: int
    first: int
    last: int
    count: int
    gaps: tuple[Gap, ...] = ()

    def within(self, start: int | None, end: int | None) -> bool:
        """Whether every candle of the chunk lies in `[start, end)`."""
        return (start is None or self.first >= start) and (end is None or self.last < end)

    def touches(self, start: int | None, end: int | None) -> bool:
        """Whether the chunk's time span meets `[start, end)`."""
        return (start is None or self.last >= start) and (end is None or self.first < end)


def chunk_number(timestamps: np.ndarray, frame: Timeframe) -> np.ndarray:
    """The chunk each open timestamp (ms) belongs to."""
    return np.floor_divide(np.asarray(timestamps, dtype=np.int64), CHUNK_CANDLES * frame.ms)


def encode(candles: Candles) -> bytes:
    """The chunk's bytes: the six columns, little-endian, one after the other."""
    return b"".join([candles.timestamp.astype(_LE_INT, copy=False).tobytes(),
                     *(getattr(candles, name).astype(_LE_FLOAT, copy=False).tobytes() for name in FIELDS[1:])])


def decode(timeframe: str, blobs: list[bytes]) -> Candles:
    """The candles of consecutive chunks (in order), as one series of fresh arrays."""
    if not blobs:
        return Candles.empty(timeframe)
    table = np.concatenate([np.frombuffer(blob, dtype=_LE_FLOAT).reshape(_COLUMNS, -1) for blob in blobs], axis=1)
    timestamps = table[0].view(_LE_INT).astype(np.int64, copy=False)
    return Candles(timeframe, timestamps, *(table[i].astype(np.float64, copy=False) for i in range(1, _COLUMNS)))


def describe(number: int, candles: Candles, frame: Timeframe) -> ChunkMeta:
    """The directory entry of a non-empty chunk."""
    return ChunkMeta(number, int(candles.timestamp[0]), int(candles.timestamp[-1]), len(candles),
                     tuple(find_gaps(candles.timestamp, frame)))

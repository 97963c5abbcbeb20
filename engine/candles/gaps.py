"""Gaps: candles a series should have between two it has, and does not.

A gap is reported, never filled: no candle is invented for a period without data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .timeframes import Timeframe

__all__ = ["Gap", "find_gaps", "gaps_between", "overlapping"]


@dataclass(frozen=True)
class Gap:
    """Missing candles: `start` is the open (ms) of the first missing one, `end` the open of
    the next candle present (exclusive), `missing` how many candles are absent."""

    start: int
    end: int
    missing: int

    def to_json(self) -> dict[str, int]:
        return {"start": self.start, "end": self.end, "missing": self.missing}


def find_gaps(timestamps: np.ndarray, frame: Timeframe) -> list[Gap]:
    """The gaps of a strictly increasing, aligned series of open timestamps (ms)."""
    if len(timestamps) < 2:
        return []
    buckets = frame.bucket(timestamps)
    steps = np.diff(buckets)
    where = np.flatnonzero(steps > 1)
    if not len(where):
        return []
    starts = frame.opening(buckets[where] + 1)
    ends = np.asarray(timestamps, dtype=np.int64)[where + 1]
    return [Gap(int(s), int(e), int(m)) for s, e, m in zip(starts, ends, steps[where] - 1, strict=True)]


def gaps_between(last: int, first: int, frame: Timeframe) -> list[Gap]:
    """The gap between a candle opening at `last` and the next one present, opening at `first`."""
    return find_gaps(np.array([last, first], dtype=np.int64), frame)


def overlapping(gaps: Iterable[Gap], start: int | None, end: int | None) -> list[Gap]:
    """The gaps that share some time with `[start, end)` (None: unbounded)."""
    return [gap for gap in gaps if (start is None or gap.end > start) and (end is None or gap.start < end)]

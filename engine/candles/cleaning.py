"""Raw OHLCV rows into one clean series, with a report of every problem found.

Problems are found, not hidden, and never repaired with invented prices:

* rows with an unreadable timestamp, a missing or non-numeric value, a price that is not
  positive, a negative volume, or a high/low that does not contain the open and close are
  dropped and counted by reason (`invalid`), with the first row numbers (`invalid_rows`);
* timestamps that are not candle opens of the timeframe are refused (`InvalidData`), or,
  with `align="floor"`, moved to the open of the candle they fall in (`realigned`; for files
  that label a candle by a later instant, e.g. backtesting.py's monthly BTCUSD dated on the
  last day of each month);
* rows out of time order are sorted (`unsorted`);
* rows sharing a timestamp collapse into one candle: the last of them in the input wins
  (a later row is taken as a correction); `duplicates` counts the rows dropped and
  `conflicts` the timestamps whose rows disagreed;
* what remains may have gaps: those are reported by the caller (`find_gaps`), not filled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidData
from .series import Candles
from .timeframes import timeframe

__all__ = ["ALIGN_MODES", "SAMPLE", "CleanReport", "clean_candles"]

ALIGN_MODES = ("strict", "floor")
SAMPLE = 10
"""How many examples (row numbers, timestamps) a report keeps per problem."""

UNREADABLE_TIME = "unreadable timestamp"
MISSING_VALUE = "missing or non-numeric value"
OUT_OF_RANGE = "price not positive or volume negative"
INCONSISTENT = "high/low do not contain open and close"


@dataclass
class CleanReport:
    """What `clean_candles` found; row numbers count data rows from 1."""

    rows: int = 0
    invalid: dict[str, int] = field(default_factory=dict)
    invalid_rows: list[int] = field(default_factory=list)
    realigned: int = 0
    unsorted: bool = False
    duplicates: int = 0
    conflicts: int = 0
    conflict_examples: list[int] = field(default_factory=list)

    @property
    def dropped(self) -> int:
        return sum(self.invalid.values())


def clean_candles(timeframe_text: str, timestamps: np.ndarray, open_: np.ndarray, high: np.ndarray,
                  low: np.ndarray, close: np.ndarray, volume: np.ndarray, *, readable: np.ndarray | None = None,
                  volume_known: bool = True, align: str = "strict") -> tuple[Candles, CleanReport]:
    """One clean `timeframe_text` series from raw columns (timestamps in ms as int64,
    prices and volume as float64 with NaN for missing values).

    `readable` marks the rows whose timestamp could be read (default: all). With
    `volume_known` False (a file without a volume column) volumes stay NaN: unknown, not
    zero. `align` is "strict" (misaligned timestamps: `InvalidData`) or "floor".
    """
    if align not in ALIGN_MODES:
        raise ValueError(f"align must be one of {ALIGN_MODES}")
    frame = timeframe(timeframe_text)
    ts = np.asarray(timestamps, dtype=np.int64)
    o, h, lo, c, v = (np.asarray(column, dtype=np.float64) for column in (open_, high, low, close, volume))
    report = CleanReport(rows=len(ts))
    bad = _invalid(report, readable if readable is not None else np.ones(len(ts), dtype=bool), o, h, lo, c, v,
                   volume_known)
    keep = ~bad
    rows = np.flatnonzero(keep)
    ts, o, h, lo, c, v = ts[keep], o[keep], h[keep], lo[keep], c[keep], v[keep]

    floored = frame.floor(ts)
    misaligned = floored != ts
    if misaligned.any():
        if align == "strict":
            example = int(ts[np.argmax(misaligned)])
            raise InvalidData(
                f"{int(misaligned.sum())} of {len(ts)} timestamps are not {timeframe_text} candle opens "
                f"(first: {np.datetime64(example, 'ms')}Z, data row {int(rows[np.argmax(misaligned)]) + 1}); "
                "floor them to the open of their candle if the file labels candles by a later instant",
                misaligned=int(misaligned.sum()), example=example)
        report.realigned = int(misaligned.sum())
        ts = floored

    report.unsorted = bool(len(ts) > 1 and np.any(np.diff(ts) < 0))
    order = np.argsort(ts, kind="stable")
    ts, o, h, lo, c, v = ts[order], o[order], h[order], lo[order], c[order], v[order]

    last_of_group = np.concatenate((ts[1:] != ts[:-1], [True])) if len(ts) else np.zeros(0, dtype=bool)
    report.duplicates = int((~last_of_group).sum())
    if report.duplicates:
        winner = np.searchsorted(ts, ts, side="right") - 1
        differs = np.zeros(len(ts), dtype=bool)
        for column in (o, h, lo, c, v):
            differs |= ~((column == column[winner]) | (np.isnan(column) & np.isnan(column[winner])))
        conflicting = np.unique(ts[differs & ~last_of_group])
        report.conflicts = len(conflicting)
        report.conflict_examples = [int(t) for t in conflicting[:SAMPLE]]
    columns = (ts, o, h, lo, c, v)
    return Candles(timeframe_text, *(column[last_of_group] for column in columns)), report


def _invalid(report: CleanReport, readable: np.ndarray, o: np.ndarray, h: np.ndarray, lo: np.ndarray,
             c: np.ndarray, v: np.ndarray, volume_known: bool) -> np.ndarray:
    """Mark the rows to drop, counting them by their first problem."""
    prices = np.stack([o, h, lo, c])
    checks = [(UNREADABLE_TIME, ~np.asarray(readable, dtype=bool))]
    missing = ~np.isfinite(prices).all(axis=0)
    if volume_known:
        missing |= ~np.isfinite(v)
    checks.append((MISSING_VALUE, missing))
    with np.errstate(invalid="ignore"):
        checks.append((OUT_OF_RANGE, (prices <= 0).any(axis=0) | (v < 0)))
        checks.append((INCONSISTENT, (h < np.maximum(o, c)) | (lo > np.minimum(o, c)) | (lo > h)))
    bad = np.zeros(len(o), dtype=bool)
    for reason, mask in checks:
        fresh = mask & ~bad
        if fresh.any():
            report.invalid[reason] = int(fresh.sum())
            bad |= fresh
    report.invalid_rows = [int(i) + 1 for i in np.flatnonzero(bad)[:SAMPLE]]
    return bad


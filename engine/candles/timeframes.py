"""Timeframes as ccxt writes them (`1m`, `5m`, `1h`, `1d`, `1w`, `1M`, `1y`): durations and candle boundaries.

A candle's timestamp is the UTC millisecond at which it opens. The boundaries are those of
the exchanges' own klines:

* seconds, minutes, hours, days: multiples of the duration since the Unix epoch (ccxt's
  `build_ohlcvc`, Binance's klines: a `4h` candle opens at 00:00, 04:00, ... UTC);
* weeks: Monday 00:00 UTC (Binance's `1w` klines; the epoch was a Thursday), `Nw` counted in
  steps of N weeks from Monday 1970-01-05;
* months (`M`) and years (`y`): calendar months and years, `NM` in steps of N months from
  January 1970.

`Timeframe.ms` is ccxt's nominal duration (`Exchange.parse_timeframe` * 1000, so `1M` is 30
days); boundaries of calendar timeframes come from the calendar, never from that figure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..errors import InvalidTimeframe

__all__ = ["Timeframe", "timeframe"]

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
MONDAY_MS = 4 * DAY_MS
"""1970-01-05T00:00:00Z, the first Monday after the epoch: where weeks are counted from."""

_SYNTAX = re.compile(r"([1-9][0-9]{0,5})([smhdwMy])\Z")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 7 * 86_400, "M": 30 * 86_400, "y": 365 * 86_400}
"""ccxt's `Exchange.parse_timeframe` scale of each unit (a test compares), without importing ccxt."""


@dataclass(frozen=True)
class Timeframe:
    """A parsed timeframe: `text` as given (`"4h"`), `amount` (4), `unit` (`"h"`), `ms` (nominal)."""

    text: str
    amount: int
    unit: str
    ms: int

    @property
    def calendar(self) -> bool:
        """Months and years: candles of unequal length, bounded by the calendar."""
        return self.unit in "My"

    @property
    def months(self) -> int:
        """Calendar months per candle (calendar timeframes only)."""
        return self.amount * (12 if self.unit == "y" else 1)

    def bucket(self, timestamps: np.ndarray) -> np.ndarray:
        """The number (int64) of the candle holding each timestamp (ms), counted from the
        timeframe's origin; consecutive candles have consecutive numbers."""
        ts = np.asarray(timestamps, dtype=np.int64)
        if self.calendar:
            months = ts.astype("datetime64[ms]").astype("datetime64[M]").astype(np.int64)
            return np.floor_divide(months, self.months)
        if self.unit == "w":
            return np.floor_divide(ts - MONDAY_MS, self.ms)
        return np.floor_divide(ts, self.ms)

    def opening(self, buckets: np.ndarray) -> np.ndarray:
        """The open timestamp (ms, int64) of each candle number."""
        numbers = np.asarray(buckets, dtype=np.int64)
        if self.calendar:
            return (numbers * self.months).astype("datetime64[M]").astype("datetime64[ms]").astype(np.int64)
        if self.unit == "w":
            return numbers * self.ms + MONDAY_MS
        return numbers * self.ms

    def floor(self, timestamps: np.ndarray) -> np.ndarray:
        """The open of the candle holding each timestamp."""
        return self.opening(self.bucket(timestamps))

    def floor_one(self, timestamp: int) -> int:
        return int(self.floor(np.array([timestamp]))[0])

    def next_open(self, timestamp: int) -> int:
        """The open of the candle after the one holding `timestamp`."""
        return int(self.opening(self.bucket(np.array([timestamp])) + 1)[0])

    def builds(self, target: Timeframe) -> bool:
        """Whether candles of this timeframe aggregate exactly into `target`'s: every
        boundary of `target` is one of ours, and ours are no longer."""
        if self.calendar:
            return target.calendar and target.months % self.months == 0
        if self.unit == "w":
            return target.unit == "w" and target.amount % self.amount == 0
        if target.calendar:
            return DAY_MS % self.ms == 0
        if target.unit == "w":
            return target.ms % self.ms == 0 and MONDAY_MS % self.ms == 0
        return target.ms % self.ms == 0


@lru_cache(maxsize=256)
def timeframe(text: str) -> Timeframe:
    """Parse a ccxt timeframe string; `InvalidTimeframe` for anything else (`"7x"`, `"0m"`, `"1H"`)."""
    match = _SYNTAX.match(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidTimeframe(f"Invalid timeframe {text!r}: expected a ccxt timeframe such as 1m, 5m, 1h, 1d, 1w, 1M",
                               timeframe=text if isinstance(text, str) else repr(text))
    amount, unit = int(match.group(1)), match.group(2)
    return Timeframe(text, amount, unit, amount * _UNIT_SECONDS[unit] * 1000)

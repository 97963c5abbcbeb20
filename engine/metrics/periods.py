"""The calendar side of the statistics: the data's periodicity, calendar buckets, rounding.

backtesting.py 0.6.6 (`_util._data_period`, `_stats.compute_stats`) annualises from the
data's periodicity: the median spacing of the last 100 timestamps decides both how equity is
bucketed (weekly, month-end, year-end or calendar-day) and how many of those periods make a
year (52, 12, 1, or 365 when at least 60% of the weekend share of days are present, else
252). Durations it reports are rounded up ("ceil") to the resolution of that spacing (whole
days for daily bars, hours for hourly bars, ...). This module does the same on UTC epoch
milliseconds, vectorised, with no pandas.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np

__all__ = ["EPOCH", "MS_PER_DAY", "Bucket", "Periodicity", "bucket_ids", "bucket_last", "day_numbers", "utc_datetime"]

MS_PER_DAY = 86_400_000
US_PER_MS = 1_000

Bucket = Literal["D", "W", "ME", "YE"]
"""pandas' resample rules backtesting.py uses: calendar day, week (Monday to Sunday),
calendar month, calendar year."""

# Resolution units in microseconds, finest first: pandas' `Timedelta.resolution_string` is the
# finest unit with a non-zero component (us, ms, s, min, h, else D).
_RESOLUTIONS_US = (1, 1_000, 1_000_000, 60_000_000, 3_600_000_000, 86_400_000_000)
_BUCKET_OF_DAYS: dict[int, Bucket] = {7: "W", 31: "ME", 365: "YE"}
_PERIODS_PER_YEAR_OF_DAYS = {7: 52, 31: 12, 365: 1}


@dataclass(frozen=True, slots=True)
class Periodicity:
    """How a series of timestamps is annualised and how its durations are rounded.

    `period_us`: median spacing of the last 100 timestamps in microseconds (None for fewer
    than two); `bucket`: how returns are sampled; `periods_per_year`: the annualisation
    factor; `resolution_us`: the unit durations are rounded up to (None: no rounding).
    """

    period_us: int | None
    bucket: Bucket
    periods_per_year: int
    resolution_us: int | None

    @classmethod
    def of(cls, timestamps: np.ndarray) -> Periodicity:
        """The periodicity of sorted UTC epoch-ms `timestamps` (int64, shape (n,), n >= 1)."""
        tail = timestamps[-100:]
        if len(tail) < 2:
            # backtesting.py's median spacing is NaT here: no weekly/monthly rule, calendar days.
            return cls(None, "D", _days_per_year(timestamps), None)
        period_us = round(float(np.median(np.diff(tail))) * US_PER_MS)
        days = period_us // (MS_PER_DAY * US_PER_MS)
        periods = _PERIODS_PER_YEAR_OF_DAYS.get(days) or _days_per_year(timestamps)
        return cls(period_us, _BUCKET_OF_DAYS.get(days, "D"), periods, _resolution_us(period_us))

    def ceil(self, duration_us: int) -> timedelta:
        """`duration_us` rounded up to the resolution (backtesting.py's `_round_timedelta`)."""
        if self.resolution_us is not None:
            duration_us = -(-duration_us // self.resolution_us) * self.resolution_us
        return timedelta(microseconds=duration_us)

    def max_duration(self, durations_ms: np.ndarray) -> timedelta | None:
        """The longest of `durations_ms`, rounded up; None when there are none."""
        return self.ceil(int(durations_ms.max()) * US_PER_MS) if len(durations_ms) else None

    def mean_duration(self, durations_ms: np.ndarray) -> timedelta | None:
        """The mean of `durations_ms`, rounded up; None when there are none.

        As pandas computes a mean of backtesting.py's microsecond timedeltas: a float64 sum
        of the microseconds, divided, truncated to whole microseconds, then rounded up.
        """
        if not len(durations_ms):
            return None
        total_us = np.sum(durations_ms * US_PER_MS, dtype=np.float64)
        return self.ceil(int(total_us / len(durations_ms)))


def _resolution_us(period_us: int) -> int:
    for finer, coarser in itertools.pairwise(_RESOLUTIONS_US):
        if period_us % coarser:
            return finer
    return _RESOLUTIONS_US[-1]


def _days_per_year(timestamps: np.ndarray) -> int:
    """365 when weekends are traded (their share of bars > 60% of 2/7), else 252."""
    weekday = (day_numbers(timestamps) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    return 365 if np.count_nonzero(weekday >= 5) / len(timestamps) > 2 / 7 * 0.6 else 252


def day_numbers(timestamps: np.ndarray) -> np.ndarray:
    """UTC calendar day of each epoch-ms timestamp, as days since 1970-01-01 (int64)."""
    return timestamps // MS_PER_DAY


def bucket_ids(timestamps: np.ndarray, bucket: Bucket) -> np.ndarray:
    """A non-decreasing int64 id per timestamp; equal ids share a calendar bucket (UTC)."""
    if bucket == "D":
        return day_numbers(timestamps)
    if bucket == "W":
        return (day_numbers(timestamps) + 3) // 7  # weeks run Monday to Sunday, as pandas' W-SUN
    unit = "M" if bucket == "ME" else "Y"
    return timestamps.astype("datetime64[ms]").astype(f"datetime64[{unit}]").astype(np.int64)


def bucket_last(ids: np.ndarray) -> np.ndarray:
    """Indices of the last element of each run of equal `ids` (pandas' `resample().last()`)."""
    if not len(ids):
        return np.empty(0, dtype=np.int64)
    return np.append(np.flatnonzero(ids[1:] != ids[:-1]), len(ids) - 1)


def utc_datetime(ms: int) -> datetime:
    """The UTC datetime of epoch milliseconds `ms` (exact: no float seconds)."""
    return EPOCH + timedelta(milliseconds=int(ms))


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

"""ccxt timeframes and their boundaries; resampling against pandas as the reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.candles import Candles, can_resample, find_gaps, resample, timeframe
from engine.errors import InvalidTimeframe
from tests.engine.candle_support import MINUTE, START, walk


def ms(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").value // 1_000_000)


def test_timeframes_are_ccxts_strings() -> None:
    assert timeframe("4h").ms == 4 * 3_600_000 and timeframe("1M").ms == 30 * 86_400_000
    for bad in ("7x", "0m", "1H", "m", "", "1.5h", "-1m", " 1m"):
        with pytest.raises(InvalidTimeframe) as refused:
            timeframe(bad)
        assert refused.value.code == "INVALID_TIMEFRAME"


@pytest.mark.parametrize(("text", "instant", "opens"), [
    ("4h", "2024-03-05T13:45:00", "2024-03-05T12:00:00"),
    ("1d", "2024-03-05T13:45:00", "2024-03-05T00:00:00"),
    ("3d", "1970-01-05T10:00:00", "1970-01-04T00:00:00"),  # epoch-aligned, as Binance's 3d klines
    ("1w", "2024-03-07T13:45:00", "2024-03-04T00:00:00"),  # a Thursday falls in the week from Monday
    ("1w", "2024-03-04T00:00:00", "2024-03-04T00:00:00"),
    ("1M", "2024-02-29T23:59:59", "2024-02-01T00:00:00"),
    ("3M", "2024-05-15T00:00:00", "2024-04-01T00:00:00"),
    ("1y", "2024-05-15T00:00:00", "2024-01-01T00:00:00"),
])
def test_candles_open_on_the_exchanges_boundaries(text: str, instant: str, opens: str) -> None:
    frame = timeframe(text)
    assert frame.floor_one(ms(instant)) == ms(opens)
    assert frame.next_open(ms(opens)) > ms(instant)


def test_which_timeframes_build_which() -> None:
    assert can_resample("1m", "1h") and can_resample("1h", "1d") and can_resample("1h", "1w")
    assert can_resample("1d", "1M") and can_resample("1M", "3M") and can_resample("1M", "1y")
    assert can_resample("1h", "1h")
    assert not can_resample("1h", "1m") and not can_resample("7m", "1h") and not can_resample("1w", "1M")
    assert can_resample("1d", "3d")  # both epoch-aligned
    assert not can_resample("3d", "1w")


def test_monthly_gaps_count_calendar_months() -> None:
    opens = np.array([ms("2024-01-01"), ms("2024-02-01"), ms("2024-05-01")])
    [gap] = find_gaps(opens, timeframe("1M"))
    assert (gap.start, gap.end, gap.missing) == (ms("2024-03-01"), ms("2024-05-01"), 2)


def reference(candles: Candles, rule: str) -> pd.DataFrame:
    """pandas' resample of the same candles (full buckets only are compared)."""
    frame = pd.DataFrame({"open": candles.open, "high": candles.high, "low": candles.low, "close": candles.close,
                          "volume": candles.volume}, index=pd.to_datetime(candles.timestamp, unit="ms", utc=True))
    return frame.resample(rule).agg({"open": "first", "high": "max", "low": "min", "close": "last",
                                     "volume": "sum"}).dropna()


@settings(max_examples=60, deadline=None)
@given(count=st.integers(1, 600), offset=st.integers(0, 200), holes=st.lists(st.integers(0, 599), max_size=40),
       target=st.sampled_from(["5m", "15m", "1h", "4h"]))
def test_resampling_matches_pandas_on_every_full_period(count: int, offset: int, holes: list[int], target: str) -> None:
    minutes = walk(count, start=START + offset * MINUTE)
    keep = np.ones(count, dtype=bool)
    keep[[hole for hole in holes if hole < count]] = False
    keep[0] = keep[-1] = True  # the series' own ends stay where they are
    minutes = minutes[keep]
    built = resample(minutes, target)
    frame = timeframe(target)
    expected = reference(minutes, target.replace("m", "min"))
    opens = expected.index.as_unit("ms").asi8
    ends = frame.opening(frame.bucket(opens) + 1)
    covered = (opens >= minutes.timestamp[0]) & (ends <= minutes.timestamp[-1] + MINUTE)
    expected = expected[covered]
    assert built.timestamp.tolist() == expected.index.as_unit("ms").asi8.tolist()
    for name in ("open", "high", "low", "close", "volume"):
        np.testing.assert_allclose(getattr(built, name), expected[name].to_numpy(), rtol=1e-12, err_msg=name)


def test_weekly_and_monthly_candles_from_daily() -> None:
    days = walk(120, frame="1d", start=ms("2024-01-01"))  # Monday 2024-01-01 .. 2024-04-29
    weeks = resample(days, "1w")
    assert weeks.timestamp[0] == ms("2024-01-01") and len(weeks) == 17
    assert weeks.open[0] == days.open[0] and weeks.close[0] == days.close[6]
    assert weeks.volume[0] == pytest.approx(days.volume[:7].sum())
    months = resample(days, "1M")
    assert months.timestamp.tolist() == [ms("2024-01-01"), ms("2024-02-01"), ms("2024-03-01")]  # April is partial
    assert months.high[1] == days.high[31:60].max() and months.low[2] == days.low[60:91].min()


def test_resampling_to_a_finer_or_unaligned_timeframe_is_refused() -> None:
    with pytest.raises(InvalidTimeframe):
        resample(walk(10, frame="1h"), "1m")
    with pytest.raises(InvalidTimeframe):
        resample(walk(10), "7x")

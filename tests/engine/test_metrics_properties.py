"""Statistics on arbitrary curves, regular or not, against backtesting.py's `compute_stats`
and pandas' resampling (hypothesis)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.metrics import Trades, backtest_stats
from engine.metrics.periods import MS_PER_DAY, Periodicity, bucket_ids, bucket_last
from tests.engine.backtesting_reference import differences, reference_stats

# backtesting.py 0.6.6 calls a DatetimeIndex accessor that pandas 3 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:.*dayofweek is deprecated")

HOUR = 3_600_000
STEPS = [HOUR, MS_PER_DAY, 7 * MS_PER_DAY, 31 * MS_PER_DAY, 365 * MS_PER_DAY, 90_000]


@st.composite
def timestamps(draw: Any, min_size: int = 1) -> np.ndarray:
    """Ascending UTC ms: a regular step (hourly ... yearly), jittered, or irregular gaps."""
    size = draw(st.integers(min_size, 160))
    start = draw(st.integers(946_684_800_000, 1_900_000_000_000))
    step = draw(st.sampled_from(STEPS))
    kind = draw(st.sampled_from(["regular", "jittered", "irregular"]))
    if kind == "regular":
        gaps = [step] * (size - 1)
    elif kind == "jittered":
        gaps = draw(st.lists(st.integers(step // 2, step * 2), min_size=size - 1, max_size=size - 1))
    else:
        gaps = draw(st.lists(st.integers(1, 40 * MS_PER_DAY), min_size=size - 1, max_size=size - 1))
    return np.cumsum([start, *gaps]).astype(np.int64)


def curve(draw: Any, size: int) -> np.ndarray:
    """A positive random walk with flat stretches (so peaks repeat exactly)."""
    changes = draw(st.lists(st.one_of(st.just(0.0), st.floats(-0.3, 0.3)), min_size=size - 1, max_size=size - 1))
    return 1000 * np.cumprod([1.0, *(1 + np.asarray(changes))])


@st.composite
def backtests(draw: Any) -> dict[str, Any]:
    times = draw(timestamps(min_size=2))
    size = len(times)
    count = draw(st.integers(0, 12))
    entry = np.sort(np.asarray(draw(st.lists(st.integers(0, size - 1), min_size=count, max_size=count)), dtype=np.int64))
    exit_ = np.minimum(entry + np.asarray(draw(st.lists(st.integers(0, 30), min_size=count, max_size=count)),
                                          dtype=np.int64), size - 1)
    pnl = np.asarray(draw(st.lists(st.one_of(st.just(0.0), st.floats(-500, 500)), min_size=count, max_size=count)))
    returns = np.asarray(draw(st.lists(st.floats(-0.9, 2), min_size=count, max_size=count)))
    trades = Trades(entry_bar=entry, exit_bar=exit_, entry_time=times[entry], exit_time=times[exit_],
                    entry_price=np.ones(count), exit_price=np.ones(count), size=np.ones(count), pnl=pnl,
                    returns=returns, commissions=np.zeros(count))
    return {"timestamps": times, "close": curve(draw, size), "equity": curve(draw, size), "trades": trades}


@settings(max_examples=int(os.environ.get("METRICS_EXAMPLES", 300)), deadline=None)
@given(backtests())
def test_equal_to_compute_stats_on_any_curve(case: dict[str, Any]) -> None:
    assert differences(backtest_stats(**case), reference_stats(**case)) == []


@settings(max_examples=300, deadline=None)
@given(timestamps(), st.sampled_from(["D", "W", "ME", "YE"]))
def test_buckets_are_pandas_resample_bins(times: np.ndarray, rule: str) -> None:
    index = pd.DatetimeIndex(times.astype("datetime64[ms]"))
    values = pd.Series(np.arange(len(times), dtype=float), index=index)
    expected = values.resample(rule).last().dropna().to_numpy()
    assert np.array_equal(bucket_last(bucket_ids(times, rule)), expected)


@settings(max_examples=300, deadline=None)
@given(timestamps(min_size=2))
def test_periodicity_is_backtesting_py_s(times: np.ndarray) -> None:
    from backtesting._util import _data_period
    index = pd.DatetimeIndex(times.astype("datetime64[ms]")).as_unit("us")
    period = _data_period(index)
    found = Periodicity.of(times)
    assert found.period_us == period // pd.Timedelta(1, unit="us")
    assert found.resolution_us == pd.Timedelta(1, unit=period.resolution_string) // pd.Timedelta(1, unit="us")


def test_a_fall_on_the_last_bar_alone_is_no_episode() -> None:
    """backtesting.py puts the drawdown fraction (0.1) in the duration fields here; we say None."""
    case = {"timestamps": np.arange(3) * MS_PER_DAY, "close": np.ones(3), "equity": np.array([100.0, 100.0, 90.0]),
            "trades": Trades.empty()}
    expected = reference_stats(**case)
    assert expected["Max. Drawdown Duration"] == pytest.approx(0.1) and expected["Avg. Drawdown [%]"] == pytest.approx(-10)
    ours = backtest_stats(**case)
    assert ours["Max. Drawdown Duration"] is None and ours["Avg. Drawdown Duration"] is None
    assert differences(ours, expected) == []

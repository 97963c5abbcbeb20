"""Indicators against independent references (TA-Lib's C code, pandas, backtesting.py,
textbook values), their warm-ups, and live windows that give the full-series values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
import talib
from backtesting.lib import crossover as backtesting_crossover
from backtesting.test import EURUSD, GOOG, SMA
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from engine.indicators import atr, bollinger_bands, crossover, ema, live_window, macd, roc, rsi, sma

PRICES = {"GOOG": GOOG, "EURUSD": EURUSD}


def _random_bars(count: int = 4000, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, count)))
    return close * (1 + np.abs(rng.normal(0, 0.004, count))), close * (1 - np.abs(rng.normal(0, 0.004, count))), close


def _close(name: str) -> np.ndarray:
    return PRICES[name].Close.to_numpy()


@pytest.mark.parametrize("name", PRICES)
@pytest.mark.parametrize("period", [1, 2, 10, 30, 200])
def test_sma_equals_pandas_rolling_backtesting_py_and_talib(name: str, period: int) -> None:
    close = _close(name)
    ours = sma(close, period)
    np.testing.assert_allclose(ours, pd.Series(close).rolling(period).mean(), rtol=1e-12)
    np.testing.assert_allclose(ours, SMA(close, period), rtol=1e-12)
    np.testing.assert_allclose(ours, talib.SMA(close, period), rtol=1e-12)


def _textbook_ema(values: np.ndarray, period: int, alpha: float) -> np.ndarray:
    """The recursion written out, one bar at a time, seeded with the first `period` values' mean."""
    out = np.full(len(values), np.nan)
    first = int(np.flatnonzero(~np.isnan(values))[0])
    out[first + period - 1] = state = float(np.mean(values[first:first + period]))
    for i in range(first + period, len(values)):
        state = state + alpha * (values[i] - state)
        out[i] = state
    return out


@pytest.mark.parametrize("name", PRICES)
@pytest.mark.parametrize("period", [2, 12, 26, 50])
def test_ema_equals_the_recursion_and_talib(name: str, period: int) -> None:
    close = _close(name)
    ours = ema(close, period)
    np.testing.assert_allclose(ours, _textbook_ema(close, period, 2 / (period + 1)), rtol=1e-12)
    np.testing.assert_allclose(ours, talib.EMA(close, period), rtol=1e-12)


def test_ema_forgets_its_seed_like_pandas_ewm() -> None:
    close = _close("EURUSD")
    pandas_ema = pd.Series(close).ewm(span=20, adjust=False).mean().to_numpy()
    np.testing.assert_allclose(ema(close, 20)[1000:], pandas_ema[1000:], rtol=1e-12)


def test_rsi_textbook_values() -> None:
    """Wilder's RSI on the closes of StockCharts' worked example (its spreadsheet's values)."""
    closes = [44.3389, 44.0902, 44.1497, 43.6124, 44.2778, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826, 45.8931,
              46.0328, 45.6140, 46.2820, 46.2820, 46.0028, 46.0328, 46.4116, 46.2222, 45.6439, 46.2122, 46.2521,
              45.7137, 46.4515, 45.7835, 45.3548, 44.0288, 44.1783, 44.2181, 44.5672, 43.4205, 42.6628, 43.1314]
    expected = [70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38, 54.71, 50.42, 39.99, 41.46,
                41.87, 45.46, 37.30, 33.08, 37.77]
    values = rsi(closes, 14)
    assert np.isnan(values[:14]).all()
    np.testing.assert_array_equal(np.round(values[14:], 2), expected)


@pytest.mark.parametrize("name", PRICES)
@pytest.mark.parametrize("period", [2, 14, 30])
def test_rsi_equals_talib(name: str, period: int) -> None:
    close = _close(name)
    np.testing.assert_allclose(rsi(close, period), talib.RSI(close, period), rtol=1e-10)


def test_rsi_of_a_flat_or_one_way_market() -> None:
    assert rsi(np.full(30, 5.0), 14)[-1] == 50
    assert rsi(np.arange(30.0), 14)[-1] == 100
    assert rsi(np.arange(30.0)[::-1], 14)[-1] == 0


@pytest.mark.parametrize("name", PRICES)
@pytest.mark.parametrize("period", [1, 14, 30])
def test_atr_equals_talib(name: str, period: int) -> None:
    data = PRICES[name]
    high, low, close = (data[column].to_numpy() for column in ("High", "Low", "Close"))
    np.testing.assert_allclose(atr(high, low, close, period), talib.ATR(high, low, close, period), rtol=1e-10)


@pytest.mark.parametrize("name", PRICES)
@pytest.mark.parametrize("period", [1, 10])
def test_roc_is_percent_change_over_the_period(name: str, period: int) -> None:
    close = _close(name)
    np.testing.assert_allclose(roc(close, period), pd.Series(close).pct_change(period) * 100, rtol=1e-12)
    np.testing.assert_allclose(roc(close, period), talib.ROC(close, period), rtol=1e-10)


@pytest.mark.parametrize("name", PRICES)
@pytest.mark.parametrize(("period", "width"), [(20, 2.0), (10, 1.5)])
def test_bollinger_bands_equal_numpy_pandas_and_talib(name: str, period: int, width: float) -> None:
    close = _close(name)
    bands = bollinger_bands(close, period, width)
    windows = sliding_window_view(close, period)
    np.testing.assert_allclose(bands.middle, pd.Series(close).rolling(period).mean(), rtol=1e-12)
    np.testing.assert_allclose((bands.upper - bands.middle)[period - 1:], width * windows.std(axis=1), rtol=1e-11)
    np.testing.assert_allclose((bands.middle - bands.lower)[period - 1:], width * windows.std(axis=1), rtol=1e-11)
    # pandas' rolling std and TA-Lib's update a running sum of squares, which drifts by about
    # 1e-9 of the deviation on EURUSD's small moves; against the band itself that is 1e-12.
    spread = width * pd.Series(close).rolling(period).std(ddof=0)
    np.testing.assert_allclose(bands.upper, pd.Series(close).rolling(period).mean() + spread, rtol=1e-10)
    upper, _, lower = talib.BBANDS(close, period, width, width)
    np.testing.assert_allclose(bands.upper, upper, rtol=1e-9)
    np.testing.assert_allclose(bands.lower, lower, rtol=1e-9)


@pytest.mark.parametrize("name", PRICES)
def test_macd_is_the_difference_of_emas_and_converges_to_talib(name: str) -> None:
    close = _close(name)
    line, signal, histogram = macd(close, 12, 26, 9)
    np.testing.assert_allclose(line, ema(close, 12) - ema(close, 26), rtol=1e-12)
    np.testing.assert_allclose(signal, _textbook_ema(line, 9, 0.2), rtol=1e-12)
    np.testing.assert_array_equal(histogram, line - signal)
    # TA-Lib starts its fast EMA later (at the slow one's start); the two agree once seeds are forgotten.
    reference = talib.MACD(close, 12, 26, 9)
    for ours, theirs in zip((line, signal, histogram), reference, strict=True):
        np.testing.assert_allclose(ours[600:], theirs[600:], rtol=1e-9, atol=1e-12 * np.abs(close).max())


@pytest.mark.parametrize(("indicator", "settings", "nans"), [
    (sma, {"period": 30}, [29]), (ema, {"period": 26}, [25]), (rsi, {"period": 14}, [14]), (roc, {"period": 10}, [10]),
    (bollinger_bands, {"period": 20}, [19, 19, 19]), (macd, {}, [25, 33, 33]), (atr, {"period": 14}, [14]),
])
def test_warm_up_values_are_nan_then_values(indicator: Callable[..., Any], settings: dict[str, Any],
                                            nans: list[int]) -> None:
    high, low, close = _random_bars(300)
    result = indicator(high, low, close, **settings) if indicator is atr else indicator(close, **settings)
    for series, count in zip(result if isinstance(result, tuple) else (result,), nans, strict=True):
        assert np.isnan(series[:count]).all() and not np.isnan(series[count:]).any()


@pytest.mark.parametrize("indicator", [sma, ema, rsi, roc])
def test_a_series_shorter_than_the_warm_up_is_all_nan(indicator: Callable[..., Any]) -> None:
    assert np.isnan(indicator(np.arange(1.0, 6.0), 10)).all()
    assert len(indicator(np.array([]), 3)) == 0


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_a_period_must_be_a_positive_integer(bad: Any) -> None:
    with pytest.raises(ValueError, match="period"):
        sma(np.arange(10.0), bad)


def test_a_series_must_be_one_dimensional() -> None:
    with pytest.raises(ValueError, match="one-dimensional"):
        ema(np.ones((3, 3)), 2)


def test_live_window_is_only_for_indicators() -> None:
    with pytest.raises(ValueError, match="not an indicator"):
        live_window(np.mean)
    assert live_window(sma, period=30) == 30 and live_window(rsi) > 14


LIVE_CASES: list[tuple[Callable[..., Any], dict[str, Any], float]] = [
    (sma, {"period": 30}, 0.0), (sma, {"period": 7}, 0.0), (roc, {"period": 10}, 0.0),
    (bollinger_bands, {"period": 20}, 0.0), (ema, {"period": 26}, 1e-13), (rsi, {"period": 14}, 1e-13),
    (atr, {"period": 14}, 1e-13), (macd, {}, 1e-13),
]


@pytest.mark.parametrize(("indicator", "settings", "rtol"), LIVE_CASES)
def test_live_window_value_equals_full_series_value(indicator: Callable[..., Any], settings: dict[str, Any],
                                                    rtol: float) -> None:
    """At every bar i: the indicator over the latest `live_window` candles, read at its last
    value, is the full-series value at i (bit for bit for finite windows)."""
    bars = _random_bars(3000)
    columns = bars if indicator is atr else bars[2:]
    window = live_window(indicator, **settings)
    full = indicator(*columns, **settings)
    full = full if isinstance(full, tuple) else (full,)
    for i in range(window - 1, len(bars[2])):
        live = indicator(*(column[i - window + 1:i + 1] for column in columns), **settings)
        for whole, latest in zip(full, live if isinstance(live, tuple) else (live,), strict=True):
            if rtol:
                assert latest[-1] == pytest.approx(whole[i], rel=rtol), i
            else:
                assert latest[-1] == whole[i], i


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.01, 1e6), min_size=2, max_size=120), st.integers(1, 40), st.data())
def test_finite_windows_are_bit_for_bit_on_any_series(values: list[float], period: int, data: Any) -> None:
    series = np.asarray(values)
    for indicator in (sma, bollinger_bands, roc):
        window = live_window(indicator, period=period)
        if window > len(series):
            continue
        end = data.draw(st.integers(window - 1, len(series) - 1))
        start = data.draw(st.integers(0, end - window + 1))
        full, live = indicator(series, period), indicator(series[start:end + 1], period)
        for whole, latest in zip(*(x if isinstance(x, tuple) else (x,) for x in (full, live)), strict=True):
            assert whole[end] == latest[-1]


def test_crossover_equals_backtesting_py_at_every_bar() -> None:
    close = _close("GOOG")
    fast, slow = sma(close, 10), sma(close, 30)
    expected = [backtesting_crossover(fast[:i + 1], slow[:i + 1]) for i in range(len(close))]
    assert crossover(fast, slow).tolist() == expected
    assert crossover(close, 500.0).tolist() == [backtesting_crossover(close[:i + 1], 500.0) for i in range(len(close))]
    assert crossover(np.array([1.0, 2.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0, 2.0])).tolist() == [False] * 4

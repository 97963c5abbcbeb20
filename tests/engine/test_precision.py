"""`engine.precision` equals ccxt's `decimal_to_precision` (and `amount/price_to_precision`) on every input."""

from __future__ import annotations

import math
from decimal import Decimal

import ccxt
import pytest
from ccxt.base.decimal_to_precision import NO_PADDING, decimal_to_precision
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.precision import DECIMAL_PLACES, ROUND, SIGNIFICANT_DIGITS, TICK_SIZE, TRUNCATE, Precision
from engine.sim_markets import sim_catalog

REAL_TICKS = [1e-8, 1e-6, 1e-5, 1e-4, 0.001, 0.01, 0.1, 0.5, 1, 5, 10, 25, 100, 0.05, 0.25, 0.0025, 5e-5, 2e-7, 0.003]
ticks = st.one_of(
    st.sampled_from(REAL_TICKS),
    st.builds(lambda mantissa, exponent: float(Decimal(mantissa).scaleb(exponent)),
              st.integers(1, 999), st.integers(-12, 2)),
)
places = st.integers(-2, 14)


@st.composite
def numbers_near_the_grid(draw: st.DrawFn, step: float) -> float:
    """Grid points, midpoints and their float neighbours, where truncation and rounding turn."""
    n = draw(st.integers(0, 10**9))
    fraction = draw(st.sampled_from([0.0, 0.5, 1.0, 0.25, 0.999999]))
    x = abs((n + fraction) * step)
    return draw(st.sampled_from([x, math.nextafter(x, 0.0), math.nextafter(x, math.inf), float(f"{x:.10g}")]))


def numbers(step: float) -> st.SearchStrategy[float]:
    return st.one_of(
        st.floats(0.0, 1e13, allow_nan=False, allow_infinity=False),
        st.floats(0.0, 10.0, allow_nan=False),
        numbers_near_the_grid(step),
        st.builds(lambda digits, decimals: round(digits, decimals), st.floats(0.0, 1e6), st.integers(0, 12)),
    )


def ccxt_value(x: float, rounding: int, precision: float, mode: int) -> float:
    return float(decimal_to_precision(x, rounding, precision, mode, NO_PADDING))


@settings(max_examples=1500, deadline=None)
@given(st.data(), ticks)
def test_tick_size_equals_ccxt(data: st.DataObject, tick: float) -> None:
    precision = Precision(tick, TICK_SIZE)
    x = data.draw(numbers(tick))
    assert precision.truncate(x) == ccxt_value(x, TRUNCATE, tick, TICK_SIZE)
    assert precision.round(x) == ccxt_value(x, ROUND, tick, TICK_SIZE)


@settings(max_examples=1500, deadline=None)
@given(st.data(), places)
def test_decimal_places_equals_ccxt(data: st.DataObject, digits: int) -> None:
    precision = Precision(digits, DECIMAL_PLACES)
    x = data.draw(numbers(10.0**-digits))
    assert precision.truncate(x) == ccxt_value(x, TRUNCATE, digits, DECIMAL_PLACES)
    assert precision.round(x) == ccxt_value(x, ROUND, digits, DECIMAL_PLACES)


@settings(max_examples=300, deadline=None)
@given(st.floats(1e-9, 1e6), st.floats(-1e6, 0.0), st.integers(1, 8))
def test_outside_the_fast_path_the_answer_is_ccxts(x: float, negative: float, digits: int) -> None:
    significant = Precision(digits, SIGNIFICANT_DIGITS)  # (ccxt itself fails on some negative numbers here)
    assert significant.step is None
    assert significant.truncate(x) == ccxt_value(x, TRUNCATE, digits, SIGNIFICANT_DIGITS)
    assert significant.round(x) == ccxt_value(x, ROUND, digits, SIGNIFICANT_DIGITS)
    tick = Precision(0.01, TICK_SIZE)
    assert tick.truncate(negative) == ccxt_value(negative, TRUNCATE, 0.01, TICK_SIZE)
    assert tick.round(negative) == ccxt_value(negative, ROUND, 0.01, TICK_SIZE)
    huge = x * 1e12
    assert tick.round(huge) == ccxt_value(huge, ROUND, 0.01, TICK_SIZE)


def test_known_values() -> None:
    assert Precision(0.01).truncate(0.30000000000000004) == 0.3
    assert Precision(0.1).truncate(0.3) == 0.3  # 0.3 / 0.1 is 2.9999999999999996 in floats
    assert Precision(0.01).round(1.005) == 1.01  # half away from zero on the decimal 1.005, as ccxt
    assert Precision(0.5).round(0.75) == 1.0 and Precision(0.5).truncate(0.75) == 0.5
    assert Precision(25).round(37.5) == 50 and Precision(25).truncate(49.99) == 25
    assert Precision(8, DECIMAL_PLACES).step == 1e-8


def test_bad_precision_is_refused() -> None:
    for value, mode in ((0, TICK_SIZE), (-0.1, TICK_SIZE), (1.5, DECIMAL_PLACES), (0.1, 99)):
        with pytest.raises(ValueError):
            Precision(value, mode)


CATALOG = sim_catalog()
EXCHANGE = ccxt.binance()  # any ccxt exchange in TICK_SIZE mode, given the sim markets
EXCHANGE.set_markets(list(CATALOG.to_ccxt().values()))


@settings(max_examples=1000, deadline=None)
@given(st.data())
def test_markets_round_as_a_ccxt_exchange_with_the_same_markets(data: st.DataObject) -> None:
    catalog, exchange = CATALOG, EXCHANGE
    assert exchange.precisionMode == TICK_SIZE
    market = catalog.market(data.draw(st.sampled_from(catalog.symbols)))
    x = data.draw(st.floats(0.0, 1e7, allow_nan=False).filter(lambda v: v > 0))
    try:
        expected_amount: float | None = float(exchange.amount_to_precision(market.symbol, x))
    except ccxt.InvalidOrder:  # ccxt refuses an amount that truncates to 0
        expected_amount = 0.0
    assert market.amount_to_precision(x) == expected_amount
    try:
        expected_price = float(exchange.price_to_precision(market.symbol, x))
    except ccxt.InvalidOrder:
        expected_price = 0.0
    assert market.price_to_precision(x) == expected_price

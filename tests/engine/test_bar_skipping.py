"""The bar-skipping API: `levels`, `next_touch`, and a loop that plays only the bars that can fill
something making exactly the trades of a loop that plays every bar."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.clock import ManualClock
from engine.matching import MatchingEngine, bar_points, next_touch
from engine.sim_markets import sim_catalog
from tests.engine.engine_support import Account

BTC = "BTC/USDT"


def test_levels_name_the_prices_where_the_engine_acts() -> None:
    account = Account({"USDT": 100_000.0, "BTC": 1.0})
    engine = account.engine
    assert engine.levels(BTC) == (-math.inf, math.inf)
    account.point(BTC, 60_000)
    engine.place(BTC, "buy", "limit", 0.1, 59_000)
    engine.place(BTC, "sell", "market", 0.1, trigger_price=59_500, trigger_kind="stopLoss")
    engine.place(BTC, "sell", "limit", 0.1, 62_000)
    engine.place(BTC, "sell", "market", 0.1, trigger_price=61_000, trigger_kind="takeProfit")
    assert engine.levels(BTC) == (59_500, 61_000)
    market = engine.place(BTC, "buy", "market", 0.01)
    assert engine.levels(BTC) == (math.inf, -math.inf)  # any point fills it
    account.point(BTC, 60_000)
    assert market.status == "closed" and engine.levels(BTC) == (59_500, 61_000)
    assert account.bar(BTC, 60_000, 60_900, 59_600, 60_100) == 0  # inside the levels: nothing, cheaply
    assert engine.last_point(BTC)[1:] == (60_100, 60_100, 60_100)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(1, 100), min_size=0, max_size=300), st.integers(0, 310), st.floats(0, 101), st.floats(0, 101),
       st.integers(1, 64), st.one_of(st.none(), st.integers(0, 320)))
def test_next_touch_is_the_first_bar_reaching_a_level(lows: list[float], start: int, down: float, up: float,
                                                      chunk: int, stop: int | None) -> None:
    low = np.array(lows)
    high = low + 5.0
    end = len(low) if stop is None else min(stop, len(low))
    expected = next((i for i in range(start, end) if low[i] <= down or high[i] >= up), end)
    assert next_touch(low, high, start, down, up, chunk=chunk, stop=stop) == expected


def test_the_levels_view_follows_the_levels() -> None:
    account = Account({"USDT": 100_000.0, "BTC": 1.0})
    engine = account.engine
    view = engine.levels_view(BTC)
    assert (view.down, view.up) == engine.levels(BTC) == (-math.inf, math.inf)
    account.point(BTC, 60_000)
    engine.place(BTC, "buy", "limit", 0.1, 59_000)
    assert (view.down, view.up) == (59_000, math.inf)
    engine.place(BTC, "sell", "market", 0.1)
    assert (view.down, view.up) == (math.inf, -math.inf)


@pytest.mark.parametrize(("bar", "points"), [
    ((100.0, 104.0, 99.0, 101.0), (100.0, 99.0, 104.0, 101.0)),  # the low is nearer to the open
    ((100.0, 101.0, 95.0, 96.0), (100.0, 101.0, 95.0, 96.0)),  # the high is nearer
    ((100.0, 102.0, 98.0, 99.0), (100.0, 98.0, 102.0, 99.0)),  # a tie: the low first
])
def test_a_bar_is_played_as_open_nearer_farther_close(bar: tuple[float, ...], points: tuple[float, ...]) -> None:
    assert bar_points(*bar) == points


def test_a_bar_whose_open_fills_the_last_waiting_order_ends_at_its_close() -> None:
    account = Account({"USDT": 100_000.0})
    account.point(BTC, 60_000)
    order = account.engine.place(BTC, "buy", "market", 0.1)
    assert account.bar(BTC, 60_100, 61_000, 59_000, 60_500) == 1
    assert order.trades[0].price == 60_100 and account.engine.last_point(BTC)[1:] == (60_500, 60_500, 60_500)


def walk(seed: int, n: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    opening = np.concatenate([[100.0], close[:-1]]) * np.exp(rng.normal(0, 0.002, n))
    high = np.maximum(opening, close) * np.exp(np.abs(rng.normal(0, 0.004, n)))
    low = np.minimum(opening, close) * np.exp(-np.abs(rng.normal(0, 0.004, n)))
    return opening, high, low, close


def run(seed: int, n: int, skip: bool) -> tuple:
    """A toy strategy (every 37th bar: a bracket of limit and stop orders, or a market order),
    driven over every bar or only over the bars that matter."""
    opening, high, low, close = walk(seed, n)
    clock = ManualClock(0)
    engine = MatchingEngine(sim_catalog(), clock, {"USDT": 100_000.0})
    symbol = "SOL/USDT"
    decisions = set(range(0, n, 37))
    i = played = 0
    while i < n:
        clock.set(i * 3_600_000)
        engine.play_bar(symbol, i * 3_600_000, opening[i], high[i], low[i], close[i])
        played += 1
        if i in decisions:
            price = close[i]
            k = i // 37
            holds = engine.ledger.free("SOL") > 1
            if k % 3 == 0:
                engine.place(symbol, "buy", "market", cost=2_000.0)
            elif k % 3 == 1:
                engine.place(symbol, "buy", "limit", 5.0, price * 0.99)
                if holds:
                    engine.place(symbol, "sell", "limit", 1.0, price * 1.02)
            elif holds:
                engine.place(symbol, "sell", "market", 1.0, trigger_price=price * 0.985, trigger_kind="stopLoss")
        nxt = i + 1
        if skip:
            down, up = engine.levels(symbol)
            touch = next_touch(low, high, nxt, down, up)
            nxt = min(touch, min((d for d in decisions if d >= nxt), default=n))
        i = nxt
    trades = [(t.order_id, t.price, t.amount, t.timestamp, t.taker) for t in engine.trades]
    return trades, engine.balance(), played


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_a_loop_playing_only_touching_bars_makes_the_same_trades(seed: int) -> None:
    every_bar = run(seed, 3_000, skip=False)
    skipping = run(seed, 3_000, skip=True)
    assert skipping[:2] == every_bar[:2]
    assert len(every_bar[0]) > 20
    assert skipping[2] < every_bar[2]  # and it played fewer bars

"""The seeded random walk, tickers built from points (`RollingTicker`), and closed candles of
any timeframe from points or finer candles (`CandleAggregator`)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.candles import Candle, resample
from engine.errors import InvalidTimeframe
from engine.feeds import CandleAggregator, PricePoint, RandomWalk, RollingTicker
from engine.sim_markets import sim_catalog
from tests.engine.candle_support import HOUR, MINUTE, START, walk
from tests.engine.feed_support import SteppingClock, take

DAY = 24 * HOUR


async def test_a_seed_gives_each_symbol_its_own_path_the_same_every_time() -> None:
    def prices(symbol: str, seed: int) -> list[float]:
        walker = RandomWalk(symbol, 100.0, seed=seed)
        return [walker.step() for _ in range(200)]

    assert prices("BTC/USDT", 7) == prices("BTC/USDT", 7)
    assert prices("BTC/USDT", 7) != prices("BTC/USDT", 8)
    assert prices("BTC/USDT", 7) != prices("ETH/USDT", 7)
    first = RandomWalk("BTC/USDT", 100.0, seed=7)
    assert [round(first.step(), 9) for _ in range(3)] == [round(p, 9) for p in prices("BTC/USDT", 7)[:3]]


async def test_the_walk_has_the_volatility_it_is_given_and_stays_on_the_market_tick() -> None:
    market = sim_catalog().market("XRP/USDT")
    walker = RandomWalk("XRP/USDT", 0.5, seed=1, interval=60, volatility=0.8, round_price=market.price_to_precision)
    levels = [walker.level]
    prices = []
    for _ in range(20_000):
        prices.append(walker.step())
        levels.append(walker.level)
    returns = np.diff(np.log(levels))
    assert returns.std() == pytest.approx(0.8 * math.sqrt(60 / (365 * 86_400)), rel=0.03)
    assert all(price == market.price_to_precision(price) and price > 0 for price in prices)
    assert walker.steps == 20_000


async def test_points_come_every_interval_on_the_clock_and_carry_its_time() -> None:
    clock = SteppingClock()
    walker = RandomWalk("BTC/USDT", 60_000.0, seed=3, interval=0.5, clock=clock)
    points = await take(walker.events(), 5)
    assert clock.sleeps == [0.5] * 4
    assert [point.timestamp for point in points] == [START + 500 * i for i in range(5)]
    assert points[0].last == 60_000.0 and walker.steps == 4
    assert all(p.bid == p.ask == p.last and not p.continuous and p.ticker is None for p in points)
    again = await take(walker.events(), 2)  # a restarted feed carries on from the walk's state
    assert [point.last for point in again] == [points[-1].last, walker.price] and walker.steps == 5


def point(timestamp: int, price: float) -> PricePoint:
    return PricePoint("BTC/USDT", timestamp, price, price, price)


def test_a_rolling_ticker_has_the_last_24_hours_statistics_in_ccxt_shape() -> None:
    ticker = RollingTicker("BTC/USDT")
    ticker.update(point(START, 100.0))
    ticker.add_volume(START, 5.0)
    ticker.update(point(START + HOUR, 120.0))
    ticker.update(point(START + 2 * HOUR, 90.0))
    result = ticker.update(point(START + 3 * HOUR, 110.0))
    assert result == {
        "symbol": "BTC/USDT", "timestamp": START + 3 * HOUR, "datetime": "2024-01-01T03:00:00.000Z", "high": 120.0,
        "low": 90.0, "bid": 110.0, "bidVolume": None, "ask": 110.0, "askVolume": None, "vwap": None, "open": 100.0,
        "close": 110.0, "last": 110.0, "previousClose": None, "change": 10.0, "percentage": 10.0, "average": 105.0,
        "baseVolume": 5.0, "quoteVolume": None, "markPrice": None, "indexPrice": None,
    }
    later = ticker.update(point(START + DAY + HOUR + MINUTE, 105.0))  # the first two hours left the window
    assert (later["open"], later["high"], later["low"], later["baseVolume"]) == (90.0, 110.0, 90.0, 0.0)
    assert RollingTicker("X/Y").update(point(START, 1.0))["baseVolume"] is None


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3 * DAY // MINUTE), st.floats(1, 1000)), min_size=1, max_size=300))
def test_rolling_statistics_equal_a_recount_of_the_window(steps: list[tuple[int, float]]) -> None:
    ticker = RollingTicker("BTC/USDT")
    seen: list[tuple[int, float]] = []
    for minute, price in sorted(steps, key=lambda step: step[0]):
        at = START + minute * MINUTE
        result = ticker.update(point(at, price))
        seen.append((at, price))
        inside = [p for t, p in seen if t // MINUTE > at // MINUTE - 1440]
        assert (result["open"], result["high"], result["low"]) == (inside[0], max(inside), min(inside))


def test_candles_of_a_coarser_timeframe_from_closed_candles_equal_resampling() -> None:
    minutes = walk(3 * 60 + 17, frame="1m")
    aggregator = CandleAggregator("1h", complete_from=START)
    built = [candle for m in minutes for candle in aggregator.add_candle(m, "1m")]
    expected = resample(minutes, "1h")
    assert len(built) == 3
    assert [list(candle[:5]) for candle in built] == [row[:5] for row in expected.to_ohlcv()]
    assert [candle.volume for candle in built] == pytest.approx(expected.volume.tolist(), rel=1e-12)
    with pytest.raises(InvalidTimeframe):
        aggregator.add_candle(next(iter(minutes)), "7m")


def test_an_aggregator_that_starts_mid_period_hands_on_only_complete_candles() -> None:
    aggregator = CandleAggregator("1h", complete_from=START + HOUR)  # started at 00:30, nothing seeded
    closed = []
    for minute in range(30, 150):
        closed += aggregator.add_point(point(START + minute * MINUTE, 100.0 + minute))
    assert [candle.timestamp for candle in closed] == [START + HOUR]
    assert closed[0] == Candle(START + HOUR, 160.0, 219.0, 160.0, 219.0, closed[0].volume)
    assert math.isnan(closed[0].volume)  # ticker points carry no volume


def test_an_interrupted_aggregator_hands_on_no_candle_that_lost_points() -> None:
    aggregator = CandleAggregator("1m", complete_from=START)
    closed = [candle for second in range(0, 90, 10) for candle in aggregator.add_point(point(START + second * 1000, 100))]
    assert [candle.timestamp for candle in closed] == [START]  # minute 1 is forming
    aggregator.interrupt()  # the stream dropped during minute 1 and is back during minute 3
    for minute in (3, 4, 5):
        closed += aggregator.add_point(point(START + minute * MINUTE + 30_000, 100 + minute))
    assert [candle.timestamp for candle in closed] == [START, START + 4 * MINUTE]  # 1, 2 and 3: a gap
    aggregator.interrupt()  # back within the same minute: that minute lost points too
    closed += aggregator.add_point(point(START + 5 * MINUTE + 40_000, 1))
    closed += aggregator.add_point(point(START + 6 * MINUTE, 2))
    closed += aggregator.add_point(point(START + 7 * MINUTE, 3))
    assert [candle.timestamp for candle in closed] == [START, START + 4 * MINUTE, START + 6 * MINUTE]

"""The replay market: four points per candle in the bar order, the closed candle after them,
market timestamps, speed on the injected clock, stop and loop, resuming a saved position,
and the warm-up history."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.candles import Candle, Candles
from engine.candles.timeframes import timeframe
from engine.feeds import CandleClosed, PricePoint, ReplayMarket, ReplayPosition, ReplaySpeed
from engine.matching import MatchingEngine
from engine.sim_markets import sim_catalog
from tests.engine.candle_support import HOUR, MINUTE, START, walk
from tests.engine.feed_support import SteppingClock, take

# open, high, low, close: the low is nearer the open in the first, the high in the second,
# a tie (low first) in the third.
ROWS = [(100.0, 104.0, 99.0, 103.0), (103.0, 104.0, 95.0, 96.0), (96.0, 98.0, 94.0, 97.0)]


def hours(rows: list[tuple[float, float, float, float]] = ROWS, start: int = START) -> Candles:
    return Candles.from_ohlcv("1h", [[start + i * HOUR, *row, 10.0 + i] for i, row in enumerate(rows)])


def replay(candles: Candles | None = None, **options) -> ReplayMarket:
    options.setdefault("clock", SteppingClock())
    options.setdefault("speed", ReplaySpeed(candles_per_second=1))
    return ReplayMarket("BTC/USDT", hours() if candles is None else candles, **options)


async def test_each_candle_is_four_points_in_bar_order_then_the_closed_candle() -> None:
    events = await take(replay(end="stop").events(), 100)
    assert len(events) == 3 * 5
    assert [event.last for event in events if isinstance(event, PricePoint)] == [
        100, 99, 104, 103,  # low nearer the open: low first
        103, 104, 95, 96,  # high nearer
        96, 94, 98, 97,  # a tie: the low first
    ]
    first = events[:5]
    assert all(isinstance(point, PricePoint) for point in first[:4])
    assert [point.continuous for point in first[:4]] == [False, True, True, True]
    assert all(point.bid == point.ask == point.last for point in first[:4])
    assert all(point.timestamp == START for point in first[:4])
    assert first[4] == CandleClosed("BTC/USDT", "1h", Candle(START, 100, 104, 99, 103, 10))
    closed = [event for event in events if isinstance(event, CandleClosed)]
    assert [event.candle.timestamp for event in closed] == [START, START + HOUR, START + 2 * HOUR]


async def test_points_fill_a_paper_account_as_play_bar_fills_a_backtest() -> None:
    """The same orders against the replay's points and against `play_bar`: the same trades."""
    candles = walk(300, frame="1h", seed=3)
    candles = Candles("1h", candles.timestamp, candles.open * 600, candles.high * 600, candles.low * 600,
                      candles.close * 600, candles.volume)
    engines = [MatchingEngine(sim_catalog(), SteppingClock(), {"USDT": 1e9}) for _ in range(2)]
    for engine in engines:
        for price in np.linspace(55_000, 65_000, 21):
            engine.place("BTC/USDT", "buy", "limit", 0.01, float(price))
            engine.place("BTC/USDT", "buy", "market", 0.001, trigger_price=float(price) + 5, trigger_kind="takeProfit")
    paper, backtest = engines
    async for event in replay(candles, end="stop").events():
        if isinstance(event, PricePoint):
            paper.on_price(event.symbol, event.timestamp, event.bid, event.ask, event.last, event.continuous)
    for candle in candles:
        backtest.play_bar("BTC/USDT", candle.timestamp, candle.open, candle.high, candle.low, candle.close)
    assert len(paper.trades) > 10
    assert [(t.timestamp, t.price, t.amount, t.taker) for t in paper.trades] == [
        (t.timestamp, t.price, t.amount, t.taker) for t in backtest.trades]


async def test_speed_in_candles_per_second_paces_the_points_on_the_injected_clock() -> None:
    clock = SteppingClock()
    await take(replay(clock=clock, speed=ReplaySpeed(candles_per_second=2), end="stop").events(), 100)
    assert clock.sleeps == pytest.approx([0.125] * 11)  # the first point at once, then a quarter candle each


async def test_a_speed_factor_plays_market_time_that_many_times_faster() -> None:
    clock = SteppingClock()
    minutes = walk(10, frame="1m")
    market = ReplayMarket("BTC/USDT", minutes, speed=ReplaySpeed(factor=120), clock=clock, end="stop")
    await take(market.events(), 100)
    assert market.candle_seconds == 0.5
    assert sum(clock.sleeps) == pytest.approx(10 * 0.5 - 0.125)


async def test_the_pace_keeps_time_when_a_listener_is_slow_and_skips_ahead_after_a_stall() -> None:
    clock = SteppingClock()
    events = replay(clock=clock, speed=ReplaySpeed(candles_per_second=1), end="stop").events()
    await take(events, 1)
    clock.now += 200  # the consumer took 200 ms of the 250 ms step
    await take(events, 1)
    assert clock.sleeps == [pytest.approx(0.05)]
    clock.now += 10_000  # stalled for ten seconds: no burst to catch up, the pace starts again
    await take(events, 1)
    assert clock.sleeps == [pytest.approx(0.05)]
    await take(events, 1)
    assert clock.sleeps[-1] == pytest.approx(0.25)


async def test_stop_ends_the_stream_after_the_last_candle() -> None:
    market = replay(end="stop")
    events = await take(market.events(), 100)
    assert isinstance(events[-1], CandleClosed)
    assert market.ended
    assert market.position == ReplayPosition(None, 0)
    assert market.next_open is None
    assert await take(market.events(), 1) == []


async def test_loop_plays_again_with_market_time_going_on() -> None:
    market = replay(end="loop")
    events = await take(market.events(), 3 * 5 * 2 + 5)
    points = [event for event in events if isinstance(event, PricePoint)]
    assert [point.last for point in points[12:24]] == [point.last for point in points[:12]]
    assert points[12].timestamp == START + 3 * HOUR  # the first candle again, one span later
    assert [point.timestamp for point in points] == sorted(point.timestamp for point in points)
    assert points[24].timestamp == START + 6 * HOUR
    assert market.position == ReplayPosition(START + HOUR, 2)


async def test_a_looping_calendar_series_stays_on_its_boundaries() -> None:
    months = Candles.from_ohlcv("1M", [[int(np.datetime64(f"2024-{m:02d}-01", "ms").astype(np.int64)), 1, 2, 0.5, 1.5, 1]
                                       for m in (1, 2, 3)])
    closed = [event.candle.timestamp for event in await take(replay(months).events(), 5 * 7)
              if isinstance(event, CandleClosed)]
    expected = ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01", "2024-06-01", "2024-07-01"]
    assert closed == [int(np.datetime64(day, "ms").astype(np.int64)) for day in expected]


async def test_a_saved_position_resumes_at_the_candle_that_was_playing() -> None:
    first = replay(end="stop")
    events = first.events()
    await take(events, 5 + 2)  # one candle closed, two points of the second
    saved = first.position
    assert saved == ReplayPosition(START + HOUR, 0)
    await events.aclose()  # the server stops here
    resumed = replay(end="stop", position=ReplayPosition.from_json(saved.to_json()))
    rest = await take(resumed.events(), 100)
    assert rest[0] == PricePoint("BTC/USDT", START + HOUR, 103, 103, 103, False)
    assert [event.candle.timestamp for event in rest if isinstance(event, CandleClosed)] == [START + HOUR,
                                                                                            START + 2 * HOUR]


async def test_a_position_is_kept_by_timestamp_when_older_candles_are_imported_meanwhile() -> None:
    saved = ReplayPosition(START + HOUR, 0)
    more = hours([(90.0, 91.0, 89.0, 90.0)] * 5 + ROWS, start=START - 5 * HOUR)
    resumed = replay(more, position=saved)
    assert (await take(resumed.events(), 1))[0].timestamp == START + HOUR
    assert replay(position=ReplayPosition(None, 1), end="loop").position == ReplayPosition(START, 2)


async def test_warm_up_history_is_the_candles_played_before_the_position() -> None:
    market = replay(walk(5, frame="1h"), end="loop")
    assert len(market.played(10)) == 0
    events = market.events()
    await take(events, 5 * 7 + 2)  # seven candles closed (one loop and two), the eighth playing
    history = market.played(4)
    source = walk(5, frame="1h")
    assert history.timestamp.tolist() == [START + h * HOUR for h in (3, 4, 5, 6)]
    assert history.close.tolist() == [source.close[3], source.close[4], source.close[0], source.close[1]]
    assert len(market.played(100)) == 7


def test_an_empty_series_or_a_speed_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ValueError):
        ReplayMarket("BTC/USDT", Candles.empty("1h"))
    with pytest.raises(ValueError):
        ReplaySpeed(factor=0)
    with pytest.raises(ValueError):
        ReplaySpeed(candles_per_second=float("nan"))


@settings(max_examples=40, deadline=None)
@given(count=st.integers(1, 30), frame=st.sampled_from(["1m", "1h", "1d", "1w", "1M"]), loops=st.integers(1, 3),
       seed=st.integers(0, 1000))
async def test_every_candle_closes_once_in_order_and_market_time_never_goes_back(count: int, frame: str, loops: int,
                                                                                 seed: int) -> None:
    tf = timeframe(frame)
    opens = tf.opening(tf.bucket(np.array([START])) + np.arange(count))
    base = walk(count, frame=frame, seed=seed)
    candles = Candles(frame, opens, base.open, base.high, base.low, base.close, base.volume)
    events = await take(replay(candles, end="loop").events(), count * 5 * loops)
    closed = [event.candle for event in events if isinstance(event, CandleClosed)]
    assert len(closed) == count * loops
    times = [event.timestamp for event in events if isinstance(event, PricePoint)]
    assert times == sorted(times)
    assert [candle.timestamp for candle in closed] == sorted({candle.timestamp for candle in closed})
    assert np.array_equal(tf.floor(np.array([c.timestamp for c in closed])), [c.timestamp for c in closed])
    assert [candle.close for candle in closed] == candles.close.tolist() * loops
    for candle, close_point in zip(closed, [e for e in events if isinstance(e, PricePoint)][3::4], strict=True):
        assert close_point.last == candle.close and close_point.timestamp == candle.timestamp
    assert MINUTE  # the helpers' units are shared with the other candle tests

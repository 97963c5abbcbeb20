"""`LiveCandles` through ccxt.pro's real binance client against the local Binance kline stream:
only closed candles come out, each once with its final values; a dropped connection forgets
the candle forming then (a gap), unless its own period comes back after the reconnection."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cryptorobot.clock import ManualClock
from engine.candles import Candle
from engine.feeds import CandleClosed, FeedDropped, FeedRecovered, LiveCandles
from tests.engine.candle_support import MINUTE, START

WAIT = 5.0
STREAM = "btcusdt@kline_1m"


@pytest.fixture
async def exchange(fake_binance: Any) -> Any:
    client = fake_binance.client(pro=True)
    yield client
    await client.close()


def row(minute: int, close: float, volume: float = 1.0) -> tuple[float, ...]:
    return (START + minute * MINUTE, 100.0, max(100.0, close), min(100.0, close), close, volume)


async def push(fake: Any, minute: int, close: float, volume: float = 1.0, *, closed: bool = False) -> None:
    await fake.push_kline("BTC/USDT", "1m", row(minute, close, volume), closed=closed)


async def next_event(events: Any) -> Any:
    return await asyncio.wait_for(anext(events), WAIT)


async def started(fake: Any, feed: LiveCandles) -> tuple[Any, asyncio.Future[Any]]:
    """The feed's events and the pending first one, once the stream is subscribed."""
    events = feed.events()
    waiting = asyncio.ensure_future(next_event(events))
    await asyncio.wait_for(fake.until_subscribed(STREAM), WAIT)
    return events, waiting


async def test_only_closed_candles_come_out_each_once_with_its_final_values(fake_binance: Any, exchange: Any) -> None:
    assert LiveCandles.supports(exchange, "1m") and not LiveCandles.supports(exchange, "7m")
    events, waiting = await started(fake_binance, LiveCandles(exchange, "BTC/USDT", "1m"))
    await push(fake_binance, 0, 101, 2)
    await push(fake_binance, 0, 102, 5, closed=True)  # Binance's final row of minute 0
    await push(fake_binance, 1, 99, 1)  # minute 1 is forming: minute 0 is closed
    closed = await waiting
    assert closed == CandleClosed("BTC/USDT", "1m", Candle(*row(0, 102, 5)))
    await push(fake_binance, 1, 98, 3)
    await push(fake_binance, 2, 97, 1)
    assert (await next_event(events)).candle == Candle(*row(1, 98, 3))  # minute 1's last values, minute 0 not again
    await events.aclose()


async def test_a_drop_forgets_the_forming_candle_and_leaves_a_gap(fake_binance: Any, exchange: Any) -> None:
    clock = ManualClock()
    events, waiting = await started(fake_binance, LiveCandles(exchange, "BTC/USDT", "1m", backoff=(1.0, 4.0),
                                                              clock=clock))
    await push(fake_binance, 0, 101)
    await push(fake_binance, 1, 102)
    assert (await waiting).candle.timestamp == START
    waiting = asyncio.ensure_future(next_event(events))
    await asyncio.sleep(0)
    fake_binance.streams_down = True
    await fake_binance.drop_streams()  # during minute 1
    dropped = await waiting
    assert isinstance(dropped, FeedDropped) and (dropped.attempt, dropped.retry_in) == (1, 1.0)
    fake_binance.streams_down = False
    waiting = asyncio.ensure_future(next_event(events))
    await asyncio.wait_for(clock.wait_for_waiters(1), WAIT)
    clock.advance(1.0)
    await asyncio.wait_for(fake_binance.until_subscribed(STREAM), WAIT)
    await push(fake_binance, 3, 103)  # back during minute 3
    assert isinstance(await waiting, FeedRecovered)
    await push(fake_binance, 4, 104)
    assert (await next_event(events)).candle == Candle(*row(3, 103))  # minute 1 never, 2 had no row
    await events.aclose()


async def test_a_drop_within_a_candle_keeps_it_when_its_own_period_comes_back(fake_binance: Any,
                                                                              exchange: Any) -> None:
    clock = ManualClock()
    events, waiting = await started(fake_binance, LiveCandles(exchange, "BTC/USDT", "1m", backoff=(1.0, 4.0),
                                                              clock=clock))
    await push(fake_binance, 0, 101)
    await asyncio.sleep(0)
    await fake_binance.drop_streams()
    assert isinstance(await waiting, FeedDropped)
    waiting = asyncio.ensure_future(next_event(events))
    await asyncio.wait_for(clock.wait_for_waiters(1), WAIT)
    clock.advance(1.0)
    await asyncio.wait_for(fake_binance.until_subscribed(STREAM), WAIT)
    await push(fake_binance, 0, 105, 9)  # the whole of minute 0, as Binance sends it
    assert isinstance(await waiting, FeedRecovered)
    await push(fake_binance, 1, 106)
    assert (await next_event(events)).candle == Candle(*row(0, 105, 9))
    await events.aclose()


def test_an_exchange_without_a_candle_stream_is_refused() -> None:
    class Polled:
        id, has, timeframes = "polled", {"watchOHLCV": False}, {"1m": "1m"}

    with pytest.raises(ValueError, match="streams no 1m candles"):
        LiveCandles(Polled(), "BTC/USDT", "1m")

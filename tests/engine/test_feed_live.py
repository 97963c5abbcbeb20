"""`LiveTicker` through ccxt.pro's real binance client against the local Binance websocket:
ticks arrive with bid and ask, a connection the server drops is reconnected after the
backoff (on the injected clock), failures double the wait, and the recovery is reported."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest

from cryptorobot.clock import ManualClock
from engine.feeds import FeedDropped, FeedRecovered, LiveTicker, PricePoint, point_from_ticker

WAIT = 5.0


@pytest.fixture
async def exchange(fake_binance: Any) -> Any:
    client = fake_binance.client(pro=True)
    yield client
    await client.close()


async def next_event(events: Any) -> Any:
    return await asyncio.wait_for(anext(events), WAIT)


async def test_ticks_arrive_with_the_exchange_bid_and_ask(fake_binance: Any, exchange: Any) -> None:
    feed = LiveTicker(exchange, "BTC/USDT", params={"name": "ticker"})
    assert feed.streams
    events = feed.events()
    first = await next_event(events)
    assert isinstance(first, PricePoint)
    assert (first.symbol, first.bid, first.ask, first.last, first.continuous) == ("BTC/USDT", 60000, 60000, 60000, False)
    assert first.ticker is not None and first.ticker["symbol"] == "BTC/USDT"
    following = asyncio.ensure_future(next_event(events))
    await asyncio.sleep(0)  # let the watch wait for the next message
    await fake_binance.set_price("BTC/USDT", 61000, bid="60990", ask="61010")
    point = await following
    assert (point.bid, point.ask, point.last) == (60990, 61010, 61000)
    assert fake_binance.subscriptions == ["btcusdt@ticker"]
    await events.aclose()


async def test_a_dropped_connection_is_reconnected_after_a_doubling_backoff(fake_binance: Any, exchange: Any) -> None:
    clock = ManualClock()
    feed = LiveTicker(exchange, "BTC/USDT", params={"name": "ticker"}, backoff=(1.0, 4.0), clock=clock)
    events = feed.events()
    assert isinstance(await next_event(events), PricePoint)
    waiting = asyncio.ensure_future(next_event(events))
    await asyncio.sleep(0)
    fake_binance.streams_down = True
    assert await fake_binance.drop_streams() == 1
    dropped = await waiting
    assert isinstance(dropped, FeedDropped)
    assert (dropped.symbol, dropped.attempt, dropped.retry_in) == ("BTC/USDT", 1, 1.0)
    assert "NetworkError" in dropped.error or "Error" in dropped.error
    retries = []
    for _ in range(3):  # refused while the streams are down: 2 s, 4 s, then capped at 4 s
        waiting = asyncio.ensure_future(next_event(events))
        await asyncio.wait_for(clock.wait_for_waiters(1), WAIT)
        assert fake_binance.connections == 1  # nothing is tried before the backoff has passed
        clock.advance(clock.waiters[0] - clock.time())
        event = await waiting
        assert isinstance(event, FeedDropped)
        retries.append((event.attempt, event.retry_in))
    assert retries == [(2, 2.0), (3, 4.0), (4, 4.0)]
    fake_binance.streams_down = False
    waiting = asyncio.ensure_future(next_event(events))
    await asyncio.wait_for(clock.wait_for_waiters(1), WAIT)
    clock.advance(4.0)
    recovered = await waiting
    assert isinstance(recovered, FeedRecovered)
    assert (recovered.attempts, recovered.down_ms) == (4, 11_000)
    point = await next_event(events)
    assert isinstance(point, PricePoint) and point.last == 60000
    assert fake_binance.connections == 2
    assert fake_binance.subscriptions == ["btcusdt@ticker", "btcusdt@ticker"]
    await events.aclose()


class Polled:
    """An exchange without ticker streams: `fetch_ticker` only."""

    has: ClassVar[dict[str, bool]] = {"watchTicker": False}

    def __init__(self) -> None:
        self.calls = 0

    async def fetch_ticker(self, symbol: str, params: Any = None) -> dict[str, Any]:
        self.calls += 1
        if self.calls == 2:
            raise ConnectionError("reset by peer")
        return {"symbol": symbol, "timestamp": 1_000 * self.calls, "last": 10.0 + self.calls, "bid": None, "ask": None}


async def test_an_exchange_without_streams_is_polled() -> None:
    clock = ManualClock()
    source = Polled()
    events = LiveTicker(source, "X/USDT", poll_interval=2.0, backoff=(1.0, 1.0), clock=clock).events()
    assert (await next_event(events)) == PricePoint("X/USDT", 1000, 11.0, 11.0, 11.0, False, {
        "symbol": "X/USDT", "timestamp": 1000, "last": 11.0, "bid": None, "ask": None})
    waiting = asyncio.ensure_future(next_event(events))
    await asyncio.wait_for(clock.wait_for_waiters(1), WAIT)
    assert clock.waiters == [clock.time() + 2.0]
    clock.advance(2.0)
    assert isinstance(await waiting, FeedDropped)
    waiting = asyncio.ensure_future(next_event(events))
    await asyncio.wait_for(clock.wait_for_waiters(1), WAIT)
    clock.advance(1.0)  # after a failure the next call is made as soon as the backoff has passed
    assert isinstance(await waiting, FeedRecovered)
    assert (await next_event(events)).last == 13.0
    await events.aclose()


def test_a_point_from_a_ticker_falls_back_on_what_the_exchange_sent() -> None:
    assert point_from_ticker("A/B", {"close": 5, "bid": 4.9}, 7) == PricePoint("A/B", 7, 4.9, 5.0, 5.0, False,
                                                                                  {"close": 5, "bid": 4.9})
    assert point_from_ticker("A/B", {"bid": 4, "ask": 6, "timestamp": 9}, 7).last == 5.0
    assert point_from_ticker("A/B", {"last": None, "bid": 4}, 7) is None
    assert point_from_ticker("A/B", {"last": "nan"}, 7) is None

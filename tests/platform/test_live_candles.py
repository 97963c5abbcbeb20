"""Live candles kept: while a real exchange's market is watched, its closed candles reach the
candle store and `GET /candles` (from the local Binance kline stream, or from its tickers
where the exchange streams no candles); the forming candle never does; a drop leaves a gap."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from cryptorobot.clock import ManualClock
from engine.candles import Candles, SeriesKey, SqliteCandleStore
from platform_support import Platform, socket_login
from services.market_data import CANDLES_STORED, FEED_DROPPED, MarketDataSettings, StoredCandles, market_data
from tests.engine.candle_support import MINUTE, START
from tests.fakes.binance import FakeBinance
from ticker_support import subscribe

WAIT = 5.0
KLINES = "btcusdt@kline_1m"
CANDLES = "/candles?exchange=binance&symbol=BTC/USDT&timeframe=1m"


class Stored:
    """The `candles-stored` app events, with a way to wait for the next ones."""

    def __init__(self, platform: Platform) -> None:
        self.events: list[StoredCandles] = []
        self._changed = asyncio.Event()
        platform.app.on(CANDLES_STORED, self._add)

    def _add(self, event: StoredCandles) -> None:
        self.events.append(event)
        self._changed.set()

    async def until(self, count: int) -> list[StoredCandles]:
        async def wait() -> None:
            while len(self.events) < count:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), WAIT)
        return self.events


def kline(minute: int, close: float, volume: float = 1.0) -> tuple[float, ...]:
    return (START + minute * MINUTE, 100.0, max(100.0, close), min(100.0, close), close, volume)


def as_json(row: tuple[float, ...]) -> dict[str, Any]:
    return dict(zip(("timestamp", "open", "high", "low", "close", "volume"), row, strict=True))


async def candles(platform: Platform, token: str) -> dict[str, Any]:
    status, page = await platform.request("GET", CANDLES, token=token)
    assert status == 200, page
    return page


async def live_platform(make_platform: Callable[..., Awaitable[Platform]], fake: FakeBinance, clock: ManualClock,
                        **ccxt: Any) -> Platform:
    return await make_platform(clock=clock, tickers={"linger": 0.0, "backoff": [1.0, 4.0],
                                                     "ccxt": {"binance": fake.ccxt_config(**ccxt)}})


async def test_closed_candles_of_the_kline_stream_are_stored_the_forming_one_is_not_and_a_drop_is_a_gap(
        make_platform: Any, fake_binance: FakeBinance) -> None:
    clock = ManualClock()
    platform = await live_platform(make_platform, fake_binance, clock)
    stored, dropped = Stored(platform), asyncio.Event()
    platform.app.on(FEED_DROPPED, lambda incident: dropped.set())
    _, token = await platform.member("ann@example.com")
    listener = await market_data(platform.app).listen("binance", "BTC/USDT", on_point=lambda point: None)
    await asyncio.wait_for(fake_binance.until_subscribed(KLINES), WAIT)
    await fake_binance.push_kline("BTC/USDT", "1m", kline(0, 101, 2), closed=False)
    await fake_binance.push_kline("BTC/USDT", "1m", kline(0, 102, 5), closed=True)
    await fake_binance.push_kline("BTC/USDT", "1m", kline(1, 99), closed=False)  # minute 1 forming
    [event] = await stored.until(1)
    assert (event.key, event.first, event.last, event.report.inserted) == (
        SeriesKey("binance", "BTC/USDT", "1m"), START, START, 1)
    page = await candles(platform, token)
    assert (page["total"], page["data"], page["gaps"]) == (1, [as_json(kline(0, 102, 5))], [])

    waiters = len(clock.waiters)
    fake_binance.streams_down = True
    await fake_binance.drop_streams()  # during minute 1: it is never stored
    await asyncio.wait_for(dropped.wait(), WAIT)
    await asyncio.wait_for(clock.wait_for_waiters(waiters + 2), WAIT)  # the ticker and the klines wait to retry
    fake_binance.streams_down = False
    clock.advance(1.0)
    await asyncio.wait_for(fake_binance.until_subscribed(KLINES), WAIT)
    await fake_binance.push_kline("BTC/USDT", "1m", kline(3, 103, 3), closed=False)  # back during minute 3
    await fake_binance.push_kline("BTC/USDT", "1m", kline(3, 104, 4), closed=True)
    await fake_binance.push_kline("BTC/USDT", "1m", kline(4, 105), closed=False)
    await stored.until(2)
    page = await candles(platform, token)
    assert page["data"] == [as_json(kline(0, 102, 5)), as_json(kline(3, 104, 4))]  # minute 4 is forming
    assert page["gaps"] == [{"start": START + MINUTE, "end": START + 3 * MINUTE, "missing": 2}]
    _, series = await platform.request("GET", "/candles/series?exchange=binance", token=token)
    assert (series["data"][0]["count"], series["data"][0]["missing"]) == (2, 2)
    await listener.close()


async def test_candles_are_kept_only_while_the_feed_runs(make_platform: Any, fake_binance: FakeBinance,
                                                         sockets: Any) -> None:
    clock = ManualClock()
    platform = await live_platform(make_platform, fake_binance, clock)
    stored = Stored(platform)
    _, token = await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    await subscribe(socket, "binance", "BTC/USDT")  # someone watches the market
    await asyncio.wait_for(fake_binance.until_subscribed(KLINES), WAIT)
    await fake_binance.push_kline("BTC/USDT", "1m", kline(0, 101), closed=True)
    await fake_binance.push_kline("BTC/USDT", "1m", kline(1, 102), closed=False)
    await stored.until(1)
    hub, supervisor = market_data(platform.app), platform.app.supervisor
    assert supervisor.get("feeds/binance/BTC/USDT/candles/1m") is not None
    key = await hub.key("binance", "BTC/USDT")
    await subscribe(socket, "binance", "BTC/USDT", method="unsubscribe")  # nobody any more: the feed stops

    await asyncio.sleep(0)  # one loop turn: the linger timer's callback spawns the stop
    await asyncio.wait_for(asyncio.gather(*supervisor.spawned()), WAIT)
    assert not hub.running(key) and supervisor.get("feeds/binance/BTC/USDT/candles/1m") is None
    assert (await candles(platform, token))["total"] == 1


async def test_an_exchange_without_a_candle_stream_has_its_candles_built_from_tickers(
        make_platform: Any, tmp_path: Path) -> None:
    clock = ManualClock(START / 1000 + 10)
    fake = await FakeBinance(clock=clock).start()
    try:
        store = SqliteCandleStore(tmp_path / "candles.db")  # minute 2 downloaded already: exact, kept as it is
        downloaded = Candles.from_ohlcv("1m", [kline(2, 90, 7)])
        store.write(SeriesKey("binance", "BTC/USDT", "1m"), downloaded)
        store.close()
        platform = await live_platform(make_platform, fake, clock, has={"watchOHLCV": False})
        stored = Stored(platform)
        _, token = await platform.member("ann@example.com")
        points: asyncio.Queue[Any] = asyncio.Queue()
        listener = await market_data(platform.app).listen("binance", "BTC/USDT", on_point=points.put_nowait)
        assert (await asyncio.wait_for(points.get(), WAIT)).timestamp == START + 10_000
        for at, price in ((0.5, 101), (1.0, 103), (1.5, 99), (2.0, 102), (2.5, 1), (3.0, 104), (4.0, 105)):
            clock.set(START / 1000 + at * 60)
            await fake.set_price("BTC/USDT", price)
            assert (await asyncio.wait_for(points.get(), WAIT)).last == price  # one ticker at a time
        await stored.until(2)  # minutes 1 and 3 (minute 2 replaced nothing: not written)
        assert fake.subscriptions == ["btcusdt@ticker"]
        page = await candles(platform, token)
        # minute 0 was joined in its middle: left out; minute 1 from its tickers, volume unknown
        assert [row["timestamp"] for row in page["data"]] == [START + MINUTE, START + 2 * MINUTE, START + 3 * MINUTE]
        minute1, minute2, minute3 = page["data"]
        assert (minute1["open"], minute1["high"], minute1["low"], minute1["close"]) == (103, 103, 99, 99)
        assert minute1["volume"] is None
        assert minute2 == as_json(kline(2, 90, 7))
        assert (minute3["open"], minute3["close"]) == (104, 104)
        await listener.close()
    finally:
        await fake.close()


@pytest.mark.parametrize("value", ["1m", ["7x"], [1]])
def test_store_timeframes_must_be_a_list_of_timeframes(value: Any) -> None:
    with pytest.raises(ValueError, match="store_timeframes"):
        MarketDataSettings.from_settings({"tickers": {"store_timeframes": value}})
    assert MarketDataSettings.from_settings({}).store_timeframes == ("1m",)
    assert MarketDataSettings.from_settings({"tickers": {"store_timeframes": []}}).store_timeframes == ()

"""The market-data hub inside the platform: listening from Python (points, closed candles of any
timeframe, warm-up mid-replay), replay positions across a restart, live feeds through ccxt.pro
against the local Binance server (one upstream for every listener, drops and recoveries as
app events), supervision and reference counting."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from cryptorobot.clock import ManualClock
from cryptorobot.config import load_config
from cryptorobot.platform import create_app
from engine.candles import Candle, resample
from engine.errors import InvalidTimeframe
from engine.feeds import PricePoint
from platform_support import Platform, merged, socket_login
from services.market_data import FEED_DROPPED, FEED_RECOVERED, FeedIncident, MarketKey, market_data
from tests.engine.candle_support import MINUTE, START
from ticker_support import next_ticker, of, store_series, subscribe, ticker_settings

WAIT = 5.0
STEP = 0.25
"""Seconds between two points of a replay at one candle a second."""


class Recorder:
    """Points and candles a listener received, with a way to wait for more."""

    def __init__(self) -> None:
        self.points: list[PricePoint] = []
        self.candles: list[Candle] = []
        self._changed = asyncio.Event()

    def on_point(self, point: PricePoint) -> None:
        self.points.append(point)
        self._changed.set()

    def on_candle(self, candle: Candle) -> None:
        self.candles.append(candle)
        self._changed.set()

    async def until(self, points: int) -> None:
        async def wait() -> None:
            while len(self.points) < points:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), WAIT)


async def play(clock: ManualClock, recorder: Recorder, points: int) -> None:
    """Move the replay on by `points` points (a quarter of a candle each)."""
    for _ in range(points):
        seen = len(recorder.points)
        clock.advance(STEP)
        await recorder.until(seen + 1)


async def replaying(make_platform: Any, tmp_path: Path, count: int = 40) -> tuple[Platform, ManualClock, Any]:
    candles = store_series(tmp_path, "GOOG/USD", count=count)
    clock = ManualClock()
    return await make_platform(clock=clock, **ticker_settings()), clock, candles


# -- listening from Python --------------------------------------------------------------------

async def test_a_listener_gets_every_point_and_closed_candle_of_a_replay(make_platform: Any, tmp_path: Path) -> None:
    platform, clock, candles = await replaying(make_platform, tmp_path)
    hub = market_data(platform.app)
    recorder = Recorder()
    listener = await hub.listen("sim", "goog-usd", on_point=recorder.on_point, on_candle=recorder.on_candle)
    assert (listener.key, listener.timeframe) == (MarketKey("sim", "GOOG/USD"), "1m")
    assert len(listener.warmup) == 0  # nothing closed yet: the first candle is playing
    await play(clock, recorder, 6)  # the rest of candle 0, three points of candle 1
    assert [point.last for point in recorder.points] == [*_path(candles, 0)[1:], *_path(candles, 1)[:3]]
    assert [point.timestamp for point in recorder.points] == [START] * 3 + [START + MINUTE] * 3
    assert recorder.candles == [next(iter(candles))]  # handed on right after its close point
    await listener.close()
    await play_without(clock, 4)
    assert len(recorder.points) == 6  # closed: nothing more


async def play_without(clock: ManualClock, points: int) -> None:
    for _ in range(points):
        clock.advance(STEP)
        await asyncio.sleep(0)


def _path(candles: Any, i: int) -> tuple[float, ...]:
    from engine.matching import bar_points

    return bar_points(float(candles.open[i]), float(candles.high[i]), float(candles.low[i]), float(candles.close[i]))


async def test_a_trader_started_mid_replay_is_warmed_with_the_candles_played_before(make_platform: Any,
                                                                                    tmp_path: Path) -> None:
    platform, clock, candles = await replaying(make_platform, tmp_path)
    hub = market_data(platform.app)
    progress = Recorder()
    await hub.listen("sim", "GOOG/USD", on_point=progress.on_point)
    await play(clock, progress, 12 * 4 - 1)  # candles 0..11 closed, candle 12's open just played
    minutes, fives = Recorder(), Recorder()
    one = await hub.listen("sim", "GOOG/USD", on_candle=minutes.on_candle, warmup=3)
    five = await hub.listen("sim", "GOOG/USD", on_candle=fives.on_candle, timeframe="5m", warmup=5)
    assert one.warmup.to_ohlcv() == candles[9:12].to_ohlcv()
    assert five.warmup.to_ohlcv() == resample(candles[:10], "5m").to_ohlcv()  # complete periods only
    await play(clock, progress, 3 * 4)  # candles 12, 13, 14 close: the 10..15 period ends
    assert [candle.timestamp for candle in minutes.candles] == [START + m * MINUTE for m in (12, 13, 14)]
    expected = resample(candles[10:15], "5m")
    assert [list(candle[:5]) for candle in fives.candles] == [row[:5] for row in expected.to_ohlcv()]
    assert [candle.volume for candle in fives.candles] == pytest.approx(expected.volume.tolist())
    with pytest.raises(InvalidTimeframe):
        await hub.listen("sim", "GOOG/USD", on_candle=fives.on_candle, timeframe="90s")
    with pytest.raises(InvalidTimeframe):
        await hub.listen("sim", "GOOG/USD", on_candle=fives.on_candle, timeframe="1s")


async def test_a_listener_that_raises_never_stops_the_feed(make_platform: Any, tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    platform, clock, _ = await replaying(make_platform, tmp_path)
    hub = market_data(platform.app)

    def broken(point: PricePoint) -> None:
        raise RuntimeError("strategy bug")

    failing = await hub.listen("sim", "GOOG/USD", on_point=broken)
    healthy = Recorder()
    await hub.listen("sim", "GOOG/USD", on_point=healthy.on_point)
    await play(clock, healthy, 3)
    assert failing.failures == 3
    assert sum("strategy bug" in (record.exc_text or "") for record in caplog.records) == 1


async def test_candles_of_a_live_feed_are_built_from_its_points(make_platform: Any, fake_binance: Any) -> None:
    platform = await make_platform(tickers={"ccxt": {"binance": fake_binance.ccxt_config()}})
    hub = market_data(platform.app)
    recorder = Recorder()
    listener = await hub.listen("binance", "BTC/USDT", on_point=recorder.on_point, on_candle=recorder.on_candle,
                                timeframe="1m")
    await recorder.until(1)
    assert recorder.points[0].ticker is not None and recorder.points[0].last == 60000
    with pytest.raises(ValueError, match="needs a timeframe"):
        await hub.listen("binance", "BTC/USDT", on_candle=recorder.on_candle)
    await listener.close()


# -- replay positions -------------------------------------------------------------------------

async def test_replays_resume_where_they_were_after_a_restart(tmp_path: Path, serve: Any) -> None:
    candles = store_series(tmp_path, "GOOG/USD", count=40)
    settings = merged({**load_config("test", environ={}), "data_dir": str(tmp_path), "storage": "sqlite"},
                      ticker_settings())
    clock = ManualClock()
    first = create_app(settings, clock=clock)
    http = await serve(first)
    recorder = Recorder()
    await market_data(first).listen("sim", "GOOG/USD", on_point=recorder.on_point)
    await play(clock, recorder, 6 * 4 + 1)  # six candles closed, two points of the seventh played
    await http.close()  # a clean stop: the feeds stop, then the positions are saved

    second = create_app(settings, clock=ManualClock(clock.time() + 60))
    http = await serve(second)
    platform = Platform(second, http)
    _, token = await platform.member("ann@example.com")
    status, replay = await platform.request("GET", "/exchanges/replays/sim:GOOG%2FUSD", token=token)
    assert status == 200, replay
    assert (replay["timeframe"], replay["candle"], replay["loops"], replay["ended"]) == ("1m", START + 6 * MINUTE, 0,
                                                                                          False)
    assert (replay["first"], replay["count"], replay["end"]) == (START, 40, "loop")
    status, ticker = await platform.request("GET", "/exchanges/ticker/sim:GOOG%2FUSD", token=token)
    assert (ticker["timestamp"], ticker["last"]) == (START + 6 * MINUTE, float(candles.open[6]))  # that candle again
    status, page = await platform.request("GET", "/exchanges/replays", token=token)
    assert (status, page["total"]) == (200, 1)
    assert (await platform.request("GET", "/exchanges/replays"))[0] == 401


# -- live feeds ----------------------------------------------------------------------------------

async def test_one_upstream_stream_serves_every_listener_and_socket(make_platform: Any, fake_binance: Any,
                                                                    sockets: Any) -> None:
    platform = await make_platform(tickers={"rate": 50.0, "ccxt": {"binance": fake_binance.ccxt_config()}})
    hub = market_data(platform.app)
    first, second = Recorder(), Recorder()
    await hub.listen("binance", "BTC/USDT", on_point=first.on_point)
    await hub.listen("binance", "BTCUSDT", on_point=second.on_point)  # the exchange's own id
    await platform.member("ann@example.com")
    await platform.member("bob@example.com")
    ann, bob = await sockets(platform.http), await sockets(platform.http)
    await socket_login(ann, "ann@example.com")
    await socket_login(bob, "bob@example.com")
    for socket in (ann, bob):
        assert (await subscribe(socket, "binance", "BTC/USDT"))[1]["symbols"] == ["BTC/USDT"]
    await fake_binance.set_price("BTC/USDT", 61000, bid="60990", ask="61010")
    for socket in (ann, bob):
        ticker = await next_ticker(socket, lambda t: t["last"] == 61000)
        assert (ticker["exchange"], ticker["bid"], ticker["ask"]) == ("binance", 60990, 61010)
    await first.until(2)
    await second.until(2)
    assert sorted(fake_binance.subscriptions) == ["btcusdt@kline_1m", "btcusdt@ticker"]  # and the candles kept
    assert hub.references(MarketKey("binance", "BTC/USDT")) == 3  # two listeners, one room


async def test_an_unknown_symbol_of_a_real_exchange_is_invalid_symbol(make_platform: Any, fake_binance: Any,
                                                                      sockets: Any) -> None:
    platform = await make_platform(tickers={"ccxt": {"binance": fake_binance.ccxt_config()}})
    _, token = await platform.member("ann@example.com")
    status, body = await platform.request("GET", "/exchanges/ticker/binance:BTC%2FUSDX", token=token)
    assert (status, body["data"]["code"], body["data"]["exchange"]) == (400, "INVALID_SYMBOL", "binance")
    assert "BTC/USDT" in body["data"]["suggestions"]
    fake_binance.unavailable = True  # markets are loaded once: later calls need no REST
    status, ticker = await platform.request("GET", "/exchanges/ticker/binance:ETH%2FBTC", token=token)
    assert (status, ticker["last"]) == (200, 0.05)


async def test_an_unreachable_exchange_is_exchange_not_available(make_platform: Any, fake_binance: Any) -> None:
    fake_binance.unavailable = True
    platform = await make_platform(tickers={"ccxt": {"binance": fake_binance.ccxt_config()}})
    _, token = await platform.member("ann@example.com")
    status, body = await platform.request("GET", "/exchanges/ticker/binance:BTC%2FUSDT", token=token)
    assert (status, body["name"], body["data"]["code"]) == (503, "Unavailable", "EXCHANGE_NOT_AVAILABLE")


async def test_a_dropped_stream_is_reported_and_recovered(make_platform: Any, fake_binance: Any, sockets: Any) -> None:
    platform = await make_platform(tickers={"rate": 50.0, "backoff": [0.05, 0.2],
                                            "ccxt": {"binance": fake_binance.ccxt_config()}})
    incidents: list[FeedIncident] = []
    changed = asyncio.Event()

    def record(incident: FeedIncident) -> None:
        incidents.append(incident)
        changed.set()

    platform.app.on(FEED_DROPPED, record)
    platform.app.on(FEED_RECOVERED, record)
    recorder = Recorder()
    await market_data(platform.app).listen("binance", "BTC/USDT", on_point=recorder.on_point)
    await recorder.until(1)
    fake_binance.streams_down = True
    await fake_binance.drop_streams()
    await asyncio.wait_for(changed.wait(), WAIT)
    changed.clear()
    assert [incident.kind for incident in incidents] == [FEED_DROPPED]
    record_json = incidents[0].to_json()
    assert (record_json["type"], record_json["exchange"], record_json["symbol"], record_json["attempts"]) == (
        "feed_dropped", "binance", "BTC/USDT", 1)
    fake_binance.streams_down = False  # refused meanwhile: retried, reported once
    await asyncio.wait_for(changed.wait(), WAIT)
    assert [incident.kind for incident in incidents] == [FEED_DROPPED, FEED_RECOVERED]
    assert incidents[1].attempts >= 1 and incidents[1].down_ms is not None
    await recorder.until(2)  # prices flow again
    assert fake_binance.subscriptions.count("btcusdt@ticker") == 2


# -- supervision and references ---------------------------------------------------------------

async def test_a_crashing_feed_is_restarted_and_the_server_keeps_serving(make_platform: Any, sockets: Any) -> None:
    platform = await make_platform(clock=ManualClock(), **ticker_settings())
    hub = market_data(platform.app)
    opened = hub.sources.open_feed
    crashes = []

    async def flaky(exchange: str, symbol: str, position: Any) -> Any:
        if not crashes:
            crashes.append(symbol)
            raise RuntimeError("disk hiccup")
        return await opened(exchange, symbol, position)

    hub.sources.open_feed = flaky  # type: ignore[method-assign]
    crashed = asyncio.Event()
    platform.app.on("task-crashed", lambda crash: crashed.set())
    await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    await subscribe(socket, "sim", "BTC/USDT")
    await asyncio.wait_for(crashed.wait(), WAIT)
    status = {task.name: task for task in platform.app.supervisor.status()}
    assert status["feeds/sim/BTC/USDT"].last_error == "RuntimeError: disk hiccup"
    platform.app.clock.advance(1.0)  # the supervisor's backoff
    assert (await next_ticker(socket, of("BTC/USDT")))["last"] == 60000
    assert (await platform.request("GET", "/health"))[0] == 200


async def test_a_feed_nobody_listens_to_stops_after_the_linger(make_platform: Any) -> None:
    clock = ManualClock()
    platform = await make_platform(clock=clock, tickers={"linger": 30.0})
    hub = market_data(platform.app)
    key = MarketKey("sim", "ETH/USDT")
    listener = await hub.listen("sim", "ETH/USDT")
    await listener.close()
    assert hub.running(key)
    clock.advance(29.0)
    assert hub.running(key)
    again = await hub.listen("sim", "ETH/USDT")  # back within the linger: the same feed goes on
    await again.close()
    clock.advance(30.0)
    await asyncio.sleep(0)  # one loop turn: the linger timer's callback spawns the stop
    await asyncio.wait_for(asyncio.gather(*platform.app.supervisor.spawned()), WAIT)
    assert not hub.running(key) and hub.ticker(key) is None

"""`exchanges/ticker` and `exchanges/watchlist` over REST and real sockets, on memory and SQLite:
the ticker's shape, INVALID_SYMBOL, delivery without a subscription call (watchlist, followed
traders), per-socket subscriptions, exactly the right sockets, and coalescing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from cryptorobot.clock import ManualClock
from engine.feeds import PricePoint
from engine.feeds.tickers import TICKER_FIELDS
from platform_support import Platform, socket_login
from services.market_data import MarketKey, market_data
from services.tickers import ticker_audience
from tests.engine.candle_support import START
from ticker_support import (
    PATCHED,
    next_ticker,
    of,
    one_of_each,
    store_series,
    subscribe,
    ticker_settings,
    tickers_of,
    tickers_until,
)


async def started(make_platform: Any, clock: ManualClock | None = None, **settings: Any) -> Platform:
    return await make_platform(clock=clock or ManualClock(), **ticker_settings(**settings))


def invalid_symbol(body: dict[str, Any]) -> list[str]:
    assert (body["code"], body["name"], body["data"]["code"]) == (400, "BadRequest", "INVALID_SYMBOL"), body
    return body["data"]["suggestions"]


# -- the ticker itself ------------------------------------------------------------------------

async def test_a_signed_in_user_gets_a_ticker_in_ccxt_shape(make_platform: Any, tmp_path: Path) -> None:
    candles = store_series(tmp_path, "GOOG/USD")
    platform = await started(make_platform)
    _, token = await platform.member("ann@example.com")
    status, ticker = await platform.request("GET", "/exchanges/ticker/sim:GOOG%2FUSD", token=token)
    assert status == 200, ticker
    assert set(TICKER_FIELDS) | {"_id", "exchange", "updatedAt"} == set(ticker)
    first = float(candles.open[0])
    assert (ticker["_id"], ticker["exchange"], ticker["symbol"]) == ("sim:GOOG/USD", "sim", "GOOG/USD")
    assert (ticker["timestamp"], ticker["datetime"]) == (START, "2024-01-01T00:00:00.000Z")
    assert ticker["bid"] == ticker["ask"] == ticker["last"] == ticker["close"] == ticker["open"] == first
    assert (ticker["change"], ticker["percentage"]) == (0.0, 0.0)
    assert ticker["updatedAt"] == "2024-01-01T00:00:00.000Z"  # wall time: the ManualClock's start
    status, walk = await platform.request("GET", "/exchanges/ticker/sim:btc-usdt", token=token)
    assert status == 200 and walk["symbol"] == "BTC/USDT" and walk["last"] == 60000  # a random walk's first step
    status, page = await platform.request("GET", "/exchanges/ticker?symbol=GOOG/USD", token=token)
    assert (status, page["total"], page["data"][0]["_id"]) == (200, 1, "sim:GOOG/USD")


async def test_unknown_symbols_exchanges_and_ids_are_refused(make_platform: Any) -> None:
    platform = await started(make_platform)
    _, token = await platform.member("ann@example.com")
    status, body = await platform.request("GET", "/exchanges/ticker/sim:BTC%2FUSDX", token=token)
    assert status == 400 and "BTC/USDT" in invalid_symbol(body)
    status, body = await platform.request("GET", "/exchanges/ticker/nowhere:BTC%2FUSDT", token=token)
    assert (status, body["errors"]) == (400, {"exchange": ["Unknown exchange 'nowhere': a ccxt exchange id or "
                                                                   "`sim`."]})
    status, body = await platform.request("GET", "/exchanges/ticker/BTC-USDT", token=token)
    assert (status, body["message"]) == (400, "A ticker id is <exchange>:<symbol>, e.g. sim:BTC/USDT, not 'BTC-USDT'")
    assert (await platform.request("GET", "/exchanges/ticker/sim:BTC%2FUSDT"))[0] == 401
    assert (await platform.request("GET", "/exchanges/ticker"))[0] == 401
    status, body = await platform.request("POST", "/exchanges/ticker", json={}, token=token)
    assert status == 405


# -- delivery without a subscription call -----------------------------------------------------

async def test_the_watchlist_brings_tickers_to_every_socket_of_its_user_and_no_one_else(
        make_platform: Any, sockets: Any, settled: Any) -> None:
    clock = ManualClock()
    platform = await started(make_platform, clock)
    ann, ann_token = await platform.member("ann@example.com")
    await platform.member("bob@example.com")
    status, entry = await platform.request("POST", "/exchanges/watchlist", json={"exchange": "sim", "symbol": "eth-usdt"},
                                           token=ann_token)
    assert status == 201, entry.get("errors")
    assert (entry["userId"], entry["exchange"], entry["symbol"]) == (ann["_id"], "sim", "ETH/USDT")
    assert (await platform.request("POST", "/exchanges/watchlist", json={"exchange": "sim", "symbol": "ETH/USDT"},
                                   token=ann_token))[0] == 409
    status, body = await platform.request("POST", "/exchanges/watchlist", json={"exchange": "sim", "symbol": "ETH/USDX"},
                                          token=ann_token)
    assert status == 400 and "ETH/USDT" in invalid_symbol(body)

    phone, laptop, bob = await sockets(platform.http), await sockets(platform.http), await sockets(platform.http)
    await socket_login(phone, "ann@example.com")
    await socket_login(bob, "bob@example.com")
    first = await next_ticker(phone, of("ETH/USDT"))
    assert first["last"] == 3000 and first["exchange"] == "sim"
    await socket_login(laptop, "ann@example.com")  # a second device gets the same markets
    assert "tickers/sim/ETH/USDT" in platform.rooms_of(platform.connection(laptop))
    clock.advance(1.0)  # the next step of the walk
    second = await next_ticker(phone, of("ETH/USDT"))
    assert second["timestamp"] == first["timestamp"] + 1000
    assert (await next_ticker(laptop, of("ETH/USDT"))) == second
    await settled(platform.app, bob)
    assert tickers_of(bob) == []
    assert all(not room.startswith("tickers/") for room in platform.rooms_of(platform.connection(bob)))

    status, _ = await platform.request("POST", "/exchanges/watchlist", json={"exchange": "sim", "symbol": "SOL/USDT"},
                                       token=ann_token)  # while connected: joined at once
    assert status == 201
    assert (await next_ticker(phone, of("SOL/USDT")))["last"] == 150
    assert (await platform.request("DELETE", f"/exchanges/watchlist/{entry['_id']}", token=ann_token))[0] == 200
    assert "tickers/sim/ETH/USDT" not in platform.rooms_of(platform.connection(phone))
    clock.advance(1.0)  # both walks step; only SOL/USDT reaches the phone
    await next_ticker(phone, of("SOL/USDT"))
    await settled(platform.app, phone)
    assert tickers_of(phone, "ETH/USDT") == []


async def test_a_watchlist_is_the_owners_alone(make_platform: Any) -> None:
    platform = await started(make_platform)
    _, ann_token = await platform.member("ann@example.com")
    _, bob_token = await platform.member("bob@example.com")
    _, entry = await platform.request("POST", "/exchanges/watchlist", json={"exchange": "sim", "symbol": "BTC/USDT"},
                                      token=ann_token)
    assert (await platform.request("GET", f"/exchanges/watchlist/{entry['_id']}", token=bob_token))[0] == 404
    assert (await platform.request("DELETE", f"/exchanges/watchlist/{entry['_id']}", token=bob_token))[0] == 404
    status, page = await platform.request("GET", "/exchanges/watchlist", token=bob_token)
    assert (status, page["total"]) == (200, 0)
    assert (await platform.request("GET", "/exchanges/watchlist"))[0] == 401


async def test_a_full_watchlist_refuses_more(make_platform: Any) -> None:
    platform = await make_platform(clock=ManualClock(), tickers={"max_watchlist": 2})
    _, token = await platform.member("ann@example.com")
    for symbol in ("BTC/USDT", "ETH/USDT"):
        assert (await platform.request("POST", "/exchanges/watchlist", json={"exchange": "sim", "symbol": symbol},
                                       token=token))[0] == 201
    status, body = await platform.request("POST", "/exchanges/watchlist", json={"exchange": "sim", "symbol": "SOL/USDT"},
                                          token=token)
    assert (status, body["message"], body["data"]) == (400, "A watchlist holds 2 markets at most",
                                                       {"code": "LIMIT_REACHED", "limit": 2})


async def test_a_followed_trader_symbol_reaches_its_owner_now_and_after_login(
        make_platform: Any, sockets: Any, settled: Any) -> None:
    platform = await started(make_platform)
    ann, _ = await platform.member("ann@example.com")
    before = await sockets(platform.http)
    await socket_login(before, "ann@example.com")
    audience = ticker_audience(platform.app)
    key = await audience.follow(ann["_id"], "sim", "xrp-usdt", "traders/t1")
    assert key == MarketKey("sim", "XRP/USDT")
    assert (await next_ticker(before, of("XRP/USDT")))["last"] == 0.5
    after = await sockets(platform.http)
    await socket_login(after, "ann@example.com")
    assert "tickers/sim/XRP/USDT" in platform.rooms_of(platform.connection(after))
    audience.unfollow(ann["_id"], "traders/t1")
    assert all(not room.startswith("tickers/") for room in platform.rooms_of(platform.connection(after)))
    assert audience.followed(ann["_id"]) == {}


# -- subscribing one socket ---------------------------------------------------------------------

async def test_subscribe_and_unsubscribe_change_one_socket_only(make_platform: Any, sockets: Any, settled: Any) -> None:
    clock = ManualClock()
    platform = await started(make_platform, clock)
    await platform.member("ann@example.com")
    await platform.member("bob@example.com")
    mine, other_tab, bob = await sockets(platform.http), await sockets(platform.http), await sockets(platform.http)
    for socket, email in ((mine, "ann@example.com"), (other_tab, "ann@example.com"), (bob, "bob@example.com")):
        await socket_login(socket, email)
    ack = await subscribe(mine, "sim", "SOL/USDT", "btc-usdt")
    assert ack[0] is None and (ack[1]["exchange"], ack[1]["symbols"]) == ("sim", ["BTC/USDT", "SOL/USDT"])
    await one_of_each(mine, "BTC/USDT", "SOL/USDT")
    ack = await subscribe(mine, "sim", "SOL/USDT", method="unsubscribe")
    assert ack == (None, {"exchange": "sim", "symbols": ["BTC/USDT"], "tickers": []})
    clock.advance(1.0)
    await next_ticker(mine, of("BTC/USDT"))
    await settled(platform.app, mine, other_tab, bob)
    assert tickers_of(mine, "SOL/USDT") == []
    assert tickers_of(other_tab) == [] and tickers_of(bob) == []
    again = await subscribe(other_tab, "sim", "BTC/USDT")
    assert [ticker["symbol"] for ticker in again[1]["tickers"]] == ["BTC/USDT"]  # the latest, with the answer


async def test_subscribing_to_an_unknown_symbol_changes_nothing(make_platform: Any, sockets: Any) -> None:
    platform = await make_platform(clock=ManualClock(), tickers={"max_subscriptions": 2})
    await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    error = await subscribe(socket, "sim", "BTC/USDT", "NOPE/USDT")
    assert invalid_symbol(error) is not None and error["data"]["symbol"] == "NOPE/USDT"
    connection = platform.connection(socket)
    assert ticker_audience(platform.app).subscriptions(connection) == set()
    error = await subscribe(socket, "sim", "BTC/USDT", "ETH/USDT", "SOL/USDT")
    assert (error["code"], error["message"]) == (400, "a socket may subscribe to 2 markets at most")
    error = await socket.call("subscribe", "exchanges/ticker", {"exchange": "sim"}, {})
    assert (error["code"], error["errors"]) == (400, {"symbols": ["Missing data for required field."]})
    anonymous = await subscribe(await sockets(platform.http), "sim", "BTC/USDT")
    assert anonymous["code"] == 401


async def test_subscribe_is_for_sockets(make_platform: Any) -> None:
    platform = await started(make_platform)
    _, token = await platform.member("ann@example.com")
    status, body = await platform.request("POST", "/exchanges/ticker", json={"exchange": "sim", "symbols": ["BTC/USDT"]},
                                          token=token, headers={"X-Service-Method": "subscribe"})
    assert (status, body["message"]) == (400, "subscribe and unsubscribe are for socket connections (over REST, add "
                                              "the market to exchanges/watchlist)")


async def test_leaving_releases_the_feed(make_platform: Any, sockets: Any) -> None:
    platform = await started(make_platform)
    await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    await subscribe(socket, "sim", "BTC/USDT")
    hub, key = market_data(platform.app), MarketKey("sim", "BTC/USDT")
    await next_ticker(socket, of("BTC/USDT"))
    assert hub.references(key) == 1 and hub.running(key)
    await socket.call("remove", "authentication", None, {})  # logout: the socket's subscriptions end
    assert hub.references(key) == 0
    await socket.close()


# -- coalescing ----------------------------------------------------------------------------------

class Bursts:
    """A feed that plays bursts of 1000 points without pausing, one burst per `go`."""

    def __init__(self) -> None:
        self.go = asyncio.Event()
        self.played = asyncio.Event()

    async def events(self) -> Any:
        for burst in range(2):
            for i in range(1000):
                price = 100.0 + burst * 1000 + i
                yield PricePoint("BTC/USDT", START + burst * 1000 + i, price, price, price)
            self.played.set()
            await self.go.wait()
            self.go.clear()


async def test_a_burst_of_1000_updates_reaches_a_socket_as_one_frame_with_the_latest_value(
        make_platform: Any, sockets: Any, settled: Any) -> None:
    clock = ManualClock()
    platform = await started(make_platform, clock)
    feed = Bursts()

    async def open_feed(exchange: str, symbol: str, position: Any) -> Bursts:
        return feed

    market_data(platform.app).sources.open_feed = open_feed  # type: ignore[method-assign]
    await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    await subscribe(socket, "sim", "BTC/USDT")
    assert (await next_ticker(socket))["last"] == 1099.0  # 1000 updates, one frame: the last
    feed.played.clear()
    feed.go.set()  # a second burst at once: within the half second after that frame
    await asyncio.wait_for(feed.played.wait(), 5)  # no clock time passed
    await settled(platform.app, socket)
    assert len(tickers_of(socket)) == 0  # nothing before the interval has passed
    clock.advance(0.5)
    assert (await next_ticker(socket))["last"] == 2099.0
    clock.advance(5.0)
    await settled(platform.app, socket)
    assert socket.received == [] or all(name != PATCHED for name, _ in socket.received)


async def test_a_fast_replay_reaches_a_socket_at_the_configured_rate_with_its_last_price(
        make_platform: Any, sockets: Any, tmp_path: Path) -> None:
    """Real time: 1200 points in a fraction of a second; the socket gets at most rate x time + 1 frames."""
    candles = store_series(tmp_path, "GOOG/USD", count=300)
    platform = await make_platform(tickers={"rate": 2.0, "replay": {"candles_per_second": 2000, "end": "stop",
                                                                     "autostart": False}})
    await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    began = time.monotonic()
    await subscribe(socket, "sim", "GOOG/USD")
    final = float(candles.close[-1])
    frames = await tickers_until(socket, lambda ticker: ticker["last"] == final and ticker["timestamp"] == int(
        candles.timestamp[-1]))
    elapsed = time.monotonic() - began
    assert market_data(platform.app).ticker(MarketKey("sim", "GOOG/USD"))["last"] == final  # the replay ended
    assert 1 <= len(frames) <= 2.0 * elapsed + 1
    assert [ticker["timestamp"] for ticker in frames] == sorted(ticker["timestamp"] for ticker in frames)

"""`market/...` over REST and real sockets: the fear & greed index of the stored candles (as
engine.sentiment computes it), global stats of the followed tickers (a local Binance), news
from a feed served by a local HTTP server (deduplicated across rounds), and series that
administrators import."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web
from backtesting.test import EURUSD, GOOG

from cryptorobot.clock import ManualClock
from engine.candles import SeriesKey, SqliteCandleStore
from engine.sentiment import classify, fear_greed
from platform_support import Platform, socket_login
from tests.conftest import WAIT, SocketClient
from tests.engine.strategy_support import from_frame


async def admin_token(platform: Platform) -> str:
    user, token = await platform.member("root@example.com")
    await platform.app.service("users").patch(user["_id"], {"roles": ["admin"]})
    return token


# -- fear & greed ---------------------------------------------------------------------------------

async def test_the_fear_and_greed_index_is_computed_from_the_stored_candles(make_platform: Any,
                                                                            tmp_path: Path) -> None:
    google, euro = from_frame(GOOG, "1d"), from_frame(EURUSD, "1h")
    store = SqliteCandleStore(tmp_path / "candles.db")
    store.write(SeriesKey("sim", "GOOG/USD", "1d"), google)
    store.write(SeriesKey("sim", "EUR/USD", "1h"), euro)
    daily_euro = store.load(SeriesKey("sim", "EUR/USD", "1d"))  # resampled, as the service reads it
    store.close()
    platform = await make_platform(tickers={"replay": {"autostart": False}})
    _, token = await platform.member("ann@example.com")

    status, page = await platform.request("GET", "/market/fear-greed?$limit=3", token=token)
    assert status == 200, page
    expected = fear_greed({"GOOG": google, "EUR": daily_euro})
    newest = page["data"][0]
    assert page["total"] == len(expected.value) and page["limit"] == 3 and len(page["data"]) == 3
    assert newest["timestamp"] == expected.timestamp[-1] and newest["value"] == round(expected.value[-1], 1)
    assert newest["classification"] == classify(newest["value"]) and newest["pairs"] == expected.pairs[-1]
    assert set(newest["components"]) == {"volatility", "momentum", "volume"}
    assert page["data"][1]["timestamp"] < newest["timestamp"]  # newest first

    status, both = await platform.request("GET", "/market/fear-greed?timestamp[$gte]=2017-12-01&$limit=1000",
                                          token=token)
    assert status == 200 and {row["pairs"] for row in both["data"]} == {1}  # only EURUSD reaches into 2018
    status, body = await platform.request("GET", "/market/fear-greed?timestamp[$gte]=yesterday", token=token)
    assert (status, body["data"]["code"]) == (400, "VALIDATION_FAILED")
    assert (await platform.request("GET", "/market/fear-greed"))[0] == 401


# -- global stats ---------------------------------------------------------------------------------

async def test_global_stats_come_from_the_followed_tickers(make_platform: Any, fake_binance: Any) -> None:
    for market, open_, last, volume in (("BTCUSDT", "50000", "60000", "1000000"), ("ETHUSDT", "3300", "3000", "500"),
                                        ("ETHBTC", "0.05", "0.05", "7")):
        ticker = fake_binance.tickers[market]
        ticker.open, ticker.last, ticker.bid, ticker.ask = Decimal(open_), Decimal(last), Decimal(last), Decimal(last)
        ticker.quote_volume = Decimal(volume)
    platform = await make_platform(tickers={"ccxt": {"binance": fake_binance.ccxt_config()},
                                            "replay": {"autostart": False}})
    _, token = await platform.member("ann@example.com")
    for symbol in ("BTC%2FUSDT", "ETH%2FUSDT", "ETH%2FBTC"):
        assert (await platform.request("GET", f"/exchanges/ticker/binance:{symbol}", token=token))[0] == 200

    status, stats = await platform.request("GET", "/market/stats?$limit=1", token=token)
    assert status == 200, stats
    assert (stats["tracked"], stats["advancing"], stats["declining"], stats["unchanged"], stats["breadth"]) == (
        3, 1, 1, 1, 0.5)
    assert [(t["symbol"], t["percentage"]) for t in stats["topGainers"]] == [("BTC/USDT", 20.0)]
    assert [t["symbol"] for t in stats["topLosers"]] == ["ETH/USDT"]
    assert stats["quoteVolume"] == {"USDT": 1000500.0, "BTC": 7.0}
    assert stats["updatedAt"] is not None


# -- news -----------------------------------------------------------------------------------------

def rss(*items: tuple[str, str]) -> str:
    entries = "".join(f"<item><title>{title}</title><link>https://news.example/{guid}</link><guid>{guid}</guid>"
                      f"<pubDate>Mon, 01 Jan 2024 12:00:00 GMT</pubDate><description>About {title}</description></item>"
                      for guid, title in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Example News</title>{entries}</channel></rss>'


async def news_of(socket: SocketClient, count: int) -> list[dict[str, Any]]:
    found = []
    while len(found) < count:
        name, args = await socket.next_event()
        if name == "market/news created":
            found.append(args[0])
    return found


INTERVAL = 61.5
"""Seconds between news rounds: a due time no other sleeper of the app has."""


async def next_round(clock: ManualClock, feed: dict[str, str], body: str) -> None:
    """Once the fetcher sleeps after a round, serve `body` and let the next round run."""
    async def sleeping() -> None:
        while clock.time() + INTERVAL not in clock.waiters:
            await clock.wait_for_waiters(len(clock.waiters) + 1)

    await asyncio.wait_for(sleeping(), WAIT)
    feed["body"] = body
    clock.advance(INTERVAL)


async def test_news_is_fetched_periodically_without_duplicates(make_platform: Any, aiohttp_server: Any,
                                                               sockets: Any) -> None:
    feed = {"body": rss()}  # nothing in the first round, which runs at startup

    async def serve_feed(request: web.Request) -> web.Response:
        return web.Response(text=feed["body"], content_type="application/rss+xml")

    web_app = web.Application()
    web_app.router.add_get("/rss.xml", serve_feed)
    server = await aiohttp_server(web_app)
    url, missing = str(server.make_url("/rss.xml")), str(server.make_url("/gone.xml"))
    clock = ManualClock()
    platform = await make_platform(clock=clock, market={"news": {"feeds": [missing, url], "interval": INTERVAL}},
                                   tickers={"replay": {"autostart": False}})
    _, token = await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    await next_round(clock, feed, rss(("a1", "Bitcoin ETF approved"), ("a2", "Ether upgrade")))
    first = await news_of(socket, 2)
    assert {item["title"] for item in first} == {"Bitcoin ETF approved", "Ether upgrade"}
    item = next(item for item in first if item["guid"] == "a1")
    assert (item["link"], item["source"], item["feed"], item["summary"], item["publishedAt"]) == (
        "https://news.example/a1", "Example News", url, "About Bitcoin ETF approved", "2024-01-01T12:00:00.000Z")

    await next_round(clock, feed, rss(("a3", "Exchange hacked"), ("a1", "Bitcoin ETF approved"),
                                      ("a2", "Ether upgrade")))
    (third,) = await news_of(socket, 1)
    assert third["title"] == "Exchange hacked"
    status, page = await platform.request("GET", "/market/news?$sort[title]=1", token=token)
    assert (status, [row["title"] for row in page["data"]]) == (
        200, ["Bitcoin ETF approved", "Ether upgrade", "Exchange hacked"])
    assert (await platform.request("POST", "/market/news", json={"title": "x"}, token=token))[0] == 405


# -- imported series ------------------------------------------------------------------------------

async def test_administrators_import_series_that_everyone_reads(platform: Platform) -> None:
    token = await admin_token(platform)
    _, member = await platform.member("ann@example.com")
    batch = {"name": "etf_flows", "unit": "USD", "source": "issuer filings",
             "points": [{"timestamp": "2024-01-11", "value": 655.3e6}, {"timestamp": 1705017600000, "value": 203.1e6}]}
    status, body = await platform.request("POST", "/market/series", json=batch, token=member)
    assert (status, body["data"]["code"]) == (403, "FORBIDDEN")
    status, body = await platform.request("POST", "/market/series", json=batch, token=token)
    assert (status, body) == (201, {"name": "etf_flows", "imported": 2, "replaced": 0})
    status, body = await platform.request("POST", "/market/series", token=token, json={
        **batch, "points": [{"timestamp": 1705017600000, "value": -12.5e6}]})
    assert (status, body) == (201, {"name": "etf_flows", "imported": 0, "replaced": 1})
    status, page = await platform.request(
        "GET", "/market/series?name=etf_flows&timestamp[$gte]=2024-01-01&$sort[timestamp]=1", token=member)
    assert status == 200
    assert [(row["timestamp"], row["value"], row["unit"]) for row in page["data"]] == [
        (1704931200000, 655.3e6, "USD"), (1705017600000, -12.5e6, "USD")]
    status, body = await platform.request("POST", "/market/series", token=token, json={
        "name": "Stress Index", "points": [{"timestamp": "soon", "value": "high"}]})
    assert status == 400 and set(body["errors"]) == {"name", "points"}

"""`status` over REST and Socket.IO: the report's shape with a live feed of a local Binance,
pods counted through the registry, administrators only, and a 503 with the report when a
feed stays down or the storage fails."""

from __future__ import annotations

import asyncio
from typing import Any

from platform_support import Platform, socket_login
from services.market_data import FEED_DROPPED, FEED_RECOVERED, market_data
from services.status import count_running
from tests.conftest import WAIT


async def admin_token(platform: Platform) -> str:
    user, token = await platform.member("root@example.com")
    await platform.app.service("users").patch(user["_id"], {"roles": ["admin"]})
    return token


async def test_the_report_shows_database_feeds_pods_memory_and_disk(make_platform: Any, fake_binance: Any,
                                                                    sockets: Any) -> None:
    platform = await make_platform(tickers={"ccxt": {"binance": fake_binance.ccxt_config()}})
    token = await admin_token(platform)
    _, member = await platform.member("ann@example.com")
    pods = [1, 2]
    count_running(platform.app, "pods", lambda: len(pods))
    count_running(platform.app, "pods", lambda: 1)
    await platform.request("GET", "/exchanges/ticker/binance:BTC%2FUSDT", token=member)  # starts the feed

    status, report = await platform.request("GET", "/status", token=token)
    assert status == 200, report
    assert (report["healthy"], report["problems"]) == (True, [])
    assert set(report) == {"healthy", "problems", "checkedAt", "version", "uptime", "database", "feeds", "pods",
                           "memory", "disk", "tasks"}
    assert report["database"]["ok"] is True and report["database"]["roundTripMs"] >= 0
    feed = next(item for item in report["feeds"]["items"] if item["exchange"] == "binance")
    assert (feed["symbol"], feed["state"], feed["connected"], feed["downSince"]) == ("BTC/USDT", "running", True, None)
    assert feed["lastUpdate"] is not None and isinstance(feed["latencyMs"], int)
    assert report["pods"] == {"running": 3}
    assert report["memory"]["rss"] > 0 and 0 <= report["memory"]["percent"] <= 100
    assert report["disk"]["total"] >= report["disk"]["free"] > 0
    assert report["tasks"]["running"] >= 1

    assert (await platform.request("GET", "/status", token=member))[0] == 403
    assert (await platform.request("GET", "/status"))[0] == 401
    socket = await sockets(platform.http)
    await socket_login(socket, "root@example.com")
    ack = await socket.call("find", "status", {})
    assert ack[0] is None and ack[1]["healthy"] is True


async def test_a_feed_down_too_long_makes_it_unhealthy_with_a_503(make_platform: Any, fake_binance: Any) -> None:
    platform = await make_platform(status={"max_feed_down": 0.0}, tickers={
        "backoff": [0.05, 0.2], "ccxt": {"binance": fake_binance.ccxt_config()}})
    token = await admin_token(platform)
    changed = asyncio.Event()
    platform.app.on(FEED_DROPPED, lambda _: changed.set())
    platform.app.on(FEED_RECOVERED, lambda _: changed.set())
    await market_data(platform.app).listen("binance", "BTC/USDT", on_point=lambda _: None)
    fake_binance.streams_down = True
    await fake_binance.drop_streams()
    await asyncio.wait_for(changed.wait(), WAIT)
    changed.clear()

    status, body = await platform.request("GET", "/status", token=token)
    assert (status, body["name"], body["data"]["code"]) == (503, "Unavailable", "UNAVAILABLE")
    report = body["data"]["status"]
    assert report["healthy"] is False and report["problems"][0].startswith("feed binance BTC/USDT down since")
    feed = next(item for item in report["feeds"]["items"] if item["exchange"] == "binance")
    assert feed["connected"] is False and feed["downSince"] is not None
    assert body["message"].startswith("Unhealthy: feed binance BTC/USDT down since")

    fake_binance.streams_down = False
    await asyncio.wait_for(changed.wait(), WAIT)
    status, report = await platform.request("GET", "/status", token=token)
    assert (status, report["healthy"]) == (200, True)


async def test_a_storage_that_fails_makes_it_unhealthy(platform: Platform, monkeypatch: Any) -> None:
    token = await admin_token(platform)
    users = platform.app.service("users").raw

    async def broken(params: Any) -> Any:
        raise OSError("disk I/O error")

    monkeypatch.setattr(users, "find", broken)
    status, body = await platform.request("GET", "/status", token=token)
    monkeypatch.undo()
    assert status == 503
    assert body["data"]["status"]["database"] == {**body["data"]["status"]["database"], "ok": False,
                                                  "error": "OSError: disk I/O error"}

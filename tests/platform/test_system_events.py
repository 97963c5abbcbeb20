"""`events` over REST and real sockets: the server's start, a live feed's drop and recovery
(a local Binance whose streams go down), an administrator's maintenance notice; every
signed-in socket receives `events created`, anonymous ones do not, and only administrators post."""

from __future__ import annotations

from typing import Any

from cryptorobot.schemas import SERVER_SET
from platform_support import Platform, socket_login
from tests.conftest import SocketClient, settle


async def next_event_of(socket: SocketClient, type: str) -> dict[str, Any]:
    """Take events until an `events created` of `type`; that event."""
    while True:
        name, args = await socket.next_event()
        if name == "events created" and args[0]["type"] == type:
            return args[0]


async def test_feed_incidents_reach_every_signed_in_socket(make_platform: Any, fake_binance: Any,
                                                          sockets: Any) -> None:
    platform = await make_platform(tickers={"rate": 50.0, "backoff": [0.05, 0.2], "linger": 0.0,
                                            "ccxt": {"binance": fake_binance.ccxt_config()}})
    _, token = await platform.member("ann@example.com")
    await platform.member("bob@example.com")
    ann, bob, anonymous = [await sockets(platform.http) for _ in range(3)]
    await socket_login(ann, "ann@example.com")
    await socket_login(bob, "bob@example.com")

    status, started = await platform.request("GET", "/events?type=server_started", token=token)
    assert (status, started["total"], started["data"][0]["level"]) == (200, 1, "info")

    await ann.call("subscribe", "exchanges/ticker", {"exchange": "binance", "symbols": ["BTC/USDT"]}, {})
    fake_binance.streams_down = True
    await fake_binance.drop_streams()
    dropped = await next_event_of(ann, "feed_dropped")
    assert (dropped["level"], dropped["data"]["exchange"], dropped["data"]["symbol"]) == ("warning", "binance",
                                                                                          "BTC/USDT")
    assert dropped["message"].startswith("The binance BTC/USDT price feed dropped")
    assert (await next_event_of(bob, "feed_dropped"))["_id"] == dropped["_id"]
    fake_binance.streams_down = False
    recovered = await next_event_of(ann, "feed_recovered")
    assert recovered["data"]["downMs"] is not None and recovered["level"] == "info"
    await settle(platform.app, anonymous)
    assert [name for name, _ in anonymous.received] == []

    status, page = await platform.request("GET", "/events?$sort[createdAt]=-1", token=token)
    assert [event["type"] for event in page["data"]][:2] == ["feed_recovered", "feed_dropped"]
    assert (await platform.request("GET", "/events"))[0] == 401


async def test_administrators_post_maintenance_notices(platform: Platform, sockets: Any) -> None:
    ann, token = await platform.member("ann@example.com")
    _, bob_token = await platform.member("bob@example.com")
    await platform.app.service("users").patch(ann["_id"], {"roles": ["admin"]})
    bob = await sockets(platform.http)
    await socket_login(bob, "bob@example.com")

    notice = {"message": "Exchange maintenance 02:00-03:00 UTC", "data": {"startsAt": "2026-12-01T02:00:00Z"}}
    status, body = await platform.request("POST", "/events", json=notice, token=bob_token)
    assert (status, body["data"]["code"]) == (403, "FORBIDDEN")
    status, body = await platform.request("POST", "/events", json={**notice, "type": "server_started"}, token=token)
    assert (status, body["errors"]) == (400, {"type": [SERVER_SET]})
    status, posted = await platform.request("POST", "/events", json=notice, token=token)
    assert status == 201, posted
    assert (posted["type"], posted["level"], posted["message"], posted["data"]) == (
        "maintenance", "info", notice["message"], notice["data"])
    received = await next_event_of(bob, "maintenance")
    assert received == posted


async def test_a_restart_is_recorded_as_stopping_then_started(tmp_path: Any) -> None:
    from cryptorobot.config import load_config
    from cryptorobot.platform import create_app

    settings = {**load_config("test", environ={}), "data_dir": str(tmp_path), "storage": "sqlite"}
    first = create_app(settings)
    await first.setup()
    await first.teardown()
    again = create_app(settings)
    await again.setup()
    try:
        found = await again.service("events").find({"query": {"$sort": {"createdAt": 1}}, "paginate": False})
        assert [(event["type"], event["level"]) for event in found] == [
            ("server_started", "info"), ("server_stopping", "warning"), ("server_started", "info")]
    finally:
        await again.teardown()

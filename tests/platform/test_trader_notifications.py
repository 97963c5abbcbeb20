"""Traders notify their owner through `messages` (over REST and real sockets): a fill (kind
`fill`, once the user turned it on), a trader error (`trader_error`) and an emergency stop
(`emergency_stop`); `status` counts the running pods. Another user gets none of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_status import admin_token

from platform_support import socket_login
from trader_support import events_until, named, new_trader, post, replay_platform


def message_of(kind: str) -> Any:
    return lambda events: any(message["kind"] == kind for message in named(events, "messages created"))


async def test_fills_errors_and_emergency_stops_become_messages_and_status_counts_pods(
        make_platform: Any, tmp_path: Path, sockets: Any) -> None:
    platform = await replay_platform(make_platform, tmp_path, time_budget=5.0)
    admin = await admin_token(platform)
    _, token = await platform.member("ann@example.com")
    await platform.member("bob@example.com")
    ann, bob = await sockets(platform.http), await sockets(platform.http)
    await socket_login(ann, "ann@example.com")
    await socket_login(bob, "bob@example.com")
    trader = await new_trader(platform, token)
    await post(platform, "/messages/preferences", {"kinds": {"fill": True}}, token)

    await post(platform, f"/traders/{trader['_id']}/start", {}, token)
    status, report = await platform.request("GET", "/status", token=admin)
    assert status == 200 and report["pods"] == {"running": 1}, report
    events = await events_until(ann, message_of("fill"))
    fill = next(message for message in named(events, "messages created") if message["kind"] == "fill")
    assert fill["data"]["traderId"] == str(trader["_id"]) and fill["data"]["symbol"] == "BTC/USDT"
    assert fill["title"].startswith("bot: ") and fill["read"] is False

    answer = await post(platform, "/risk/emergency-stop", {}, token)
    assert answer["stopped"] == [trader["_id"]]
    events = await events_until(ann, message_of("emergency_stop"))
    stop = next(message for message in named(events, "messages created") if message["kind"] == "emergency_stop")
    assert stop["data"]["stopped"] == [str(trader["_id"])] and stop["title"] == "Emergency stop"
    status, report = await platform.request("GET", "/status", token=admin)
    assert report["pods"] == {"running": 0}, report

    status, page = await platform.request("GET", "/messages?kind=emergency_stop", token=token)
    assert status == 200 and page["total"] == 1
    assert [name for name, _ in bob.received if name.startswith("messages")] == []


async def test_a_trader_in_error_notifies_its_owner_unless_they_turned_it_off(make_platform: Any, tmp_path: Path,
                                                                              sockets: Any) -> None:
    platform = await replay_platform(make_platform, tmp_path, time_budget=1e-9)
    _, token = await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    trader = await new_trader(platform, token)
    await post(platform, f"/traders/{trader['_id']}/start", {}, token)
    events = await events_until(socket, message_of("trader_error"))
    message = next(message for message in named(events, "messages created") if message["kind"] == "trader_error")
    assert message["title"] == "Trader 'bot' stopped on an error" and "budget" in message["body"]
    assert message["data"] == {"traderId": str(trader["_id"]), "symbol": "BTC/USDT"}

    await post(platform, "/messages/preferences", {"kinds": {"trader_error": False}}, token)
    await post(platform, f"/traders/{trader['_id']}/start", {}, token)
    await events_until(socket, lambda taken: any(name == "traders patched" and data["status"] == "error"
                                                 for name, data in taken))
    status, page = await platform.request("GET", "/messages?kind=trader_error", token=token)
    assert status == 200 and page["total"] == 1

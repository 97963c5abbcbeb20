"""Traders on a paper `sim` account over a replay, on memory and SQLite, over REST and real sockets:
start and stop as patches, pod events, trades equal to what the client received, balances
equal to the trades, orders/positions/logs per trader, the rules while running, failures
that put one trader in `error` and nothing else, and another user seeing none of it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.strategies import buy, register, unregister
from platform_support import socket_login
from trader_support import FAST_CROSS, EveryBar, events_until, named, new_trader, post, replay_platform


def trades_count(count: int) -> Any:
    return lambda events: len(named(events, "trades created")) >= count


async def test_a_trader_trades_the_replay_and_its_owner_sees_everything(make_platform: Any, tmp_path: Path,
                                                                         sockets: Any) -> None:
    platform = await replay_platform(make_platform, tmp_path)
    await platform.sign_up("ann@example.com")
    _, token = await platform.member("bob@example.com")
    bob_trader = await new_trader(platform, token)
    token = (await platform.login("ann@example.com"))["accessToken"]
    trader = await new_trader(platform, token)
    assert (trader["status"], trader["symbol"], trader["exchange"], trader["profit"]) == ("stopped", "BTC/USDT",
                                                                                          "sim", 0.0)
    ann, bob = await sockets(platform.http), await sockets(platform.http)
    await socket_login(ann, "ann@example.com")
    await socket_login(bob, "bob@example.com")

    error, running = await ann.call("start", "traders", {"id": trader["_id"]}, {})
    assert error is None and running["status"] == "running", (error, running)
    events = await events_until(ann, trades_count(3))
    statuses = [patch["status"] for patch in named(events, "traders patched")]
    assert statuses[:2] == ["starting", "running"]
    pod_events = named(events, "traders/pods/events created")
    types = [event["type"] for event in pod_events]
    assert types[0] == "started" and {"order_placed", "order_filled", "trade_executed"} <= set(types)
    assert all(event["traderId"] == str(trader["_id"]) and event["podId"] == f"{trader['_id']}-1" for event in pod_events)
    assert named(events, "exchanges/ticker patched") and all(
        ticker["symbol"] == "BTC/USDT" for ticker in named(events, "exchanges/ticker patched"))

    status, stopped = await platform.request("POST", f"/traders/{trader['_id']}/stop", json={}, token=token)
    assert (status, stopped["status"]) == (201, "stopped"), stopped
    events += await events_until(ann, lambda taken: any(
        name == "traders patched" and data["status"] == "stopped" for name, data in taken))
    received = named(events, "trades created")
    status, page = await platform.request("GET", "/trades?$sort[timestamp]=1&$limit=100", token=token)
    assert status == 200 and page["total"] == len(received)
    assert sorted(trade["_id"] for trade in page["data"]) == sorted(trade["_id"] for trade in received)
    trade = page["data"][0]
    assert {"traderId", "exchangeId", "exchange", "symbol", "side", "amount", "price", "cost", "fee", "orderId",
            "createdAt"} <= set(trade) and set(trade["fee"]) == {"cost", "currency"}

    status, balance = await platform.request("GET", f"/exchanges/{trader['exchangeId']}/balance", token=token)
    usdt = 10000.0 + sum(t["cost"] if t["side"] == "sell" else -t["cost"] for t in page["data"]) - sum(
        t["fee"]["cost"] for t in page["data"])
    btc = sum(t["amount"] if t["side"] == "buy" else -t["amount"] for t in page["data"])
    assert balance["total"]["USDT"] == pytest.approx(usdt, rel=1e-12, abs=1e-9)
    assert balance["total"].get("BTC", 0.0) == pytest.approx(btc, abs=1e-12)
    assert balance["used"]["USDT"] == 0.0  # stop cancelled what was open

    status, orders = await platform.request("GET", f"/traders/{trader['_id']}/orders?status=closed", token=token)
    assert status == 200 and orders["total"] == len({t["orderId"] for t in page["data"]})
    assert all(order["clientOrderId"].startswith("cr") for order in orders["data"])
    status, positions = await platform.request("GET", f"/traders/{trader['_id']}/positions", token=token)
    assert status == 200 and positions[0]["entryPrice"] > 0 and positions[0]["fees"] > 0
    status, events_page = await platform.request("GET", f"/traders/pods/events?traderId={trader['_id']}&type=stopped",
                                                 token=token)
    assert status == 200 and events_page["total"] == 1
    status, again = await platform.request("GET", f"/traders/{trader['_id']}", token=token)
    assert again["status"] == "stopped" and again["profit"] != 0.0

    assert [name for name, _ in bob.received if name.startswith(("traders", "trades"))] == []
    status, body = await platform.request("GET", f"/traders/{bob_trader['_id']}/orders", token=token)
    assert status == 404, body
    status, body = await platform.request("POST", f"/traders/{bob_trader['_id']}/start", json={}, token=token)
    assert status == 404, body


async def test_a_running_trader_and_what_it_runs_on_are_locked(make_platform: Any, tmp_path: Path) -> None:
    platform = await replay_platform(make_platform, tmp_path)
    _, token = await platform.member("ann@example.com")
    trader = await new_trader(platform, token)
    started = await post(platform, f"/traders/{trader['_id']}/start", {}, token)
    assert started["status"] == "running"
    for path in (f"/traders/{trader['_id']}", f"/strategies/{trader['strategyId']}",
                 f"/exchanges/{trader['exchangeId']}"):
        status, body = await platform.request("DELETE", path, token=token)
        assert (status, body["data"]["code"]) == (409, "TRADER_RUNNING"), (path, body)
    status, body = await platform.request("PATCH", f"/traders/{trader['_id']}", json={"settings": {"slowPeriod": 9}},
                                          token=token)
    assert status == 400 and body["errors"] == {"settings.slowPeriod": ["can not be changed while running"]}, body
    status, body = await platform.request("PATCH", f"/traders/{trader['_id']}", json={"settings": {"orderSize": 2.0},
                                                                                         "name": "renamed"}, token=token)
    assert status == 200 and body["settings"] == {"orderSize": 2.0}, body
    status, body = await platform.request("PATCH", f"/traders/{trader['_id']}", json={"status": "stopped"}, token=token)
    assert status == 400, body
    stopped = await post(platform, f"/traders/{trader['_id']}/stop", {}, token)
    assert stopped["status"] == "stopped"
    status, _ = await platform.request("DELETE", f"/traders/{trader['_id']}", token=token)
    assert status == 200


async def test_bad_traders_are_refused(make_platform: Any, tmp_path: Path) -> None:
    platform = await replay_platform(make_platform, tmp_path)
    _, token = await platform.member("ann@example.com")
    _, other = await platform.member("bob@example.com")
    trader = await new_trader(platform, token)
    status, body = await platform.request("POST", "/traders", token=other, json={
        "name": "x", "strategyId": trader["strategyId"], "exchangeId": trader["exchangeId"]})
    assert status == 400 and "strategyId" in body["errors"], body
    status, body = await platform.request("POST", "/traders", token=token, json={
        "name": "x", "strategyId": trader["strategyId"], "exchangeId": trader["exchangeId"], "symbol": "BTC/USDX"})
    assert status == 400 and body["data"]["code"] == "INVALID_SYMBOL", body
    status, body = await platform.request("POST", "/traders", token=token, json={
        "name": "x", "strategyId": trader["strategyId"], "exchangeId": trader["exchangeId"],
        "settings": {"fastPeriod": 50}})
    assert status == 400 and body["data"]["code"] == "INVALID_SETTINGS", body


class Raises(EveryBar):
    type = "test_raises"
    name = "Raises"

    def on_candle(self, ctx: Any, bar: Any) -> Any:
        raise ZeroDivisionError("the strategy divided by zero")


class Tiny(Raises):
    type = "test_tiny_order"
    name = "Tiny order"

    def on_candle(self, ctx: Any, bar: Any) -> Any:
        return [buy(1e-9, price=bar.close)]


@pytest.fixture
def failing_types() -> Iterator[None]:
    register(Raises)
    register(Tiny)
    yield
    unregister(Raises.type)
    unregister(Tiny.type)


@pytest.mark.usefixtures("failing_types")
@pytest.mark.parametrize("kind, reason", [("test_raises", "ZeroDivisionError"), ("test_tiny_order", "INVALID_ORDER")])
async def test_a_failing_strategy_puts_its_trader_in_error_and_the_rest_goes_on(
        make_platform: Any, tmp_path: Path, sockets: Any, kind: str, reason: str) -> None:
    platform = await replay_platform(make_platform, tmp_path)
    _, token = await platform.member("ann@example.com")
    bad = await new_trader(platform, token, {"name": "bad", "type": kind, "pair": "BTC/USDT"})
    good = await new_trader(platform, token)
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    await post(platform, f"/traders/{good['_id']}/start", {}, token)
    await post(platform, f"/traders/{bad['_id']}/start", {}, token)
    events = await events_until(socket, lambda taken: any(
        name == "traders patched" and data["_id"] == bad["_id"] and data["status"] == "error" for name, data in taken))
    errors = [event for event in named(events, "traders/pods/events created") if event["type"] == "error"]
    assert len(errors) == 1 and reason in errors[0]["message"] and errors[0]["traderId"] == str(bad["_id"])
    await events_until(socket, lambda taken: bool(named(taken, "trades created")))  # the good one trades on
    status, body = await platform.request("GET", f"/traders/{good['_id']}", token=token)
    assert status == 200 and body["status"] == "running"
    status, body = await platform.request("GET", f"/traders/{bad['_id']}", token=token)
    assert status == 200 and body["status"] == "error" and reason in body["error"]
    await post(platform, f"/traders/{good['_id']}/stop", {}, token)


async def test_a_strategy_over_its_time_budget_is_stopped(make_platform: Any, tmp_path: Path, sockets: Any) -> None:
    platform = await replay_platform(make_platform, tmp_path, time_budget=1e-9)
    _, token = await platform.member("ann@example.com")
    trader = await new_trader(platform, token, {**FAST_CROSS, "settings": {}})
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    await post(platform, f"/traders/{trader['_id']}/start", {}, token)
    await events_until(socket, lambda taken: any(name == "traders patched" and data["status"] == "error"
                                                 for name, data in taken))
    status, page = await platform.request("GET", f"/traders/pods/events?traderId={trader['_id']}&type=error",
                                          token=token)
    # on_start runs at the start (sma_cross returns nothing, in more than a nanosecond)
    assert status == 200 and page["total"] == 1 and "budget" in page["data"][0]["message"], page
    _status, body = await platform.request("GET", f"/traders/{trader['_id']}", token=token)
    assert body["status"] == "error"


async def test_emergency_stop_stops_every_running_trader_of_the_caller_only(make_platform: Any, tmp_path: Path,
                                                                            sockets: Any) -> None:
    platform = await replay_platform(make_platform, tmp_path, max_running=2)
    _, token = await platform.member("ann@example.com")
    _, other = await platform.member("bob@example.com")
    first, second, third = [await new_trader(platform, token) for _ in range(3)]
    theirs = await new_trader(platform, other)
    for trader in (first, second):
        await post(platform, f"/traders/{trader['_id']}/start", {}, token)
    status, body = await platform.request("POST", f"/traders/{third['_id']}/start", json={}, token=token)
    assert (status, body["data"]) == (400, {"code": "LIMIT_REACHED", "limit": 2}), body
    await post(platform, f"/traders/{theirs['_id']}/start", {}, other)

    answer = await post(platform, "/risk/emergency-stop", {}, token)
    assert sorted(answer["stopped"]) == sorted([first["_id"], second["_id"]])
    assert all(entry["traderId"] in (str(first["_id"]), str(second["_id"])) for entry in answer["cancelled"])
    status, page = await platform.request("GET", "/traders?status=running", token=token)
    assert page["total"] == 0
    status, body = await platform.request("GET", f"/traders/{theirs['_id']}", token=other)
    assert body["status"] == "running"
    assert (await platform.request("POST", "/risk/emergency-stop", json={}))[0] == 401
    await post(platform, "/risk/emergency-stop", {}, other)


async def test_a_clone_following_its_master_gets_every_settings_change_and_cannot_be_edited(
        make_platform: Any, tmp_path: Path) -> None:
    platform = await replay_platform(make_platform, tmp_path)
    _, token = await platform.member("ann@example.com")
    master = await new_trader(platform, token)
    status, follower = await platform.request("POST", "/traders", token=token, headers={"X-Service-Method": "clone"},
                                              json={"id": master["_id"], "followUpdates": True})
    assert status == 200, follower
    assert (follower["cloned"], follower["masterBotId"], follower["followUpdates"]) == (True, str(master["_id"]), True)
    assert (follower["strategyId"], follower["status"], follower["name"]) == (master["strategyId"], "stopped",
                                                                            "bot (clone)")
    status, copy = await platform.request("POST", "/traders", token=token, headers={"X-Service-Method": "clone"},
                                          json={"id": master["_id"], "name": "free copy"})
    assert status == 200 and copy["followUpdates"] is False
    status, patched = await platform.request("PATCH", f"/traders/{master['_id']}", token=token,
                                             json={"settings": {"slowPeriod": 6}})
    assert status == 200 and patched["followers"] == [str(follower["_id"])]
    status, body = await platform.request("GET", f"/traders/{follower['_id']}", token=token)
    assert body["settings"] == {"slowPeriod": 6}
    status, body = await platform.request("GET", f"/traders/{copy['_id']}", token=token)
    assert body["settings"] == {}
    status, body = await platform.request("PATCH", f"/traders/{follower['_id']}", token=token,
                                          json={"settings": {"slowPeriod": 9}})
    assert (status, body["data"]["code"]) == (409, "TRADER_FOLLOWS"), body
    _, other = await platform.member("bob@example.com")
    status, body = await platform.request("POST", "/traders", token=other, headers={"X-Service-Method": "clone"},
                                          json={"id": master["_id"]})
    assert status == 404, body
    status, body = await platform.request("POST", "/traders", token=token, headers={"X-Service-Method": "clone"},
                                          json={"id": master["_id"], "userId": "someone"})
    assert (status, body["data"]["code"]) == (403, "FORBIDDEN"), body


async def test_a_user_who_removes_their_account_leaves_no_trader_running(make_platform: Any, tmp_path: Path) -> None:
    platform = await replay_platform(make_platform, tmp_path)
    ann, token = await platform.member("ann@example.com")
    trader = await new_trader(platform, token)
    await post(platform, f"/traders/{trader['_id']}/start", {}, token)
    status, _ = await platform.request("DELETE", f"/users/{ann['_id']}", token=token)
    assert status == 200
    assert (await platform.app.service("traders").get(trader["_id"]))["status"] == "stopped"

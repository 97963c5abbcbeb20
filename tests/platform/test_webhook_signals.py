"""`signals/webhook` over REST and real sockets: a `webhook` trader gets a signal token, a
signal with it (our JSON or 3Commas') makes its pod place the order; unknown tokens, stale,
replayed (also two at once), unsupported and malformed signals are refused with their code
and change nothing; the token's owner reads its last signal; budgets per token."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from platform_support import socket_login
from ticker_support import store_series
from trader_support import events_until, named, new_trader, post, replay_platform, trader_settings

HOOK = {"name": "hook", "type": "webhook", "pair": "BTC/USDT"}


def now_ms() -> int:
    return int(time.time() * 1000)


async def webhook_trader(platform: Any, token: str) -> dict[str, Any]:
    trader = await new_trader(platform, token, HOOK)
    assert isinstance(trader["signalToken"], str) and len(trader["signalToken"]) >= 32
    await post(platform, f"/traders/{trader['_id']}/start", {}, token)
    return trader


async def test_a_signal_reaches_the_running_trader_whose_pod_places_the_order(make_platform: Any, tmp_path: Path,
                                                                                sockets: Any) -> None:
    platform = await replay_platform(make_platform, tmp_path, count=20_000)
    _, token = await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    trader = await webhook_trader(platform, token)
    plain = await new_trader(platform, token)
    assert plain["signalToken"] is None

    signal = {"token": trader["signalToken"], "action": "buy", "amount": "1", "timestamp": str(now_ms()),
              "maxLag": "60", "comment": "from a TradingView template"}
    status, body = await platform.request("POST", "/signals/webhook", json=signal)
    assert status == 201, body
    assert (body["action"], body["amount"], body["price"], body["traderIds"]) == ("buy", 1.0, None,
                                                                                  [str(trader["_id"])])
    assert "token" not in body and "tokenHash" not in body
    events = await events_until(socket, lambda taken: bool(named(taken, "trades created")))
    assert named(events, "signals/webhook created")[0]["_id"] == body["_id"]
    trade = named(events, "trades created")[0]
    assert (trade["traderId"], trade["side"], trade["amount"]) == (str(trader["_id"]), "buy", 1.0)

    three_commas = {"secret": trader["signalToken"], "max_lag": "300", "timestamp": time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "trigger_price": "1000000", "tv_exchange": "BINANCE",
        "tv_instrument": "BTCUSDT", "action": "exit_long", "bot_uuid": "x", "order": {"amount": "0.4",
                                                                                       "currency_type": "base"}}
    status, body = await platform.request("POST", "/signals/webhook", json=three_commas)
    assert status == 201, body
    assert (body["action"], body["amount"], body["price"], body["maxLag"]) == ("exit_long", 0.4, 1e6, 300.0)
    events = await events_until(socket, lambda taken: any(
        event["type"] == "order_placed" and event["data"]["side"] == "sell"
        for event in named(taken, "traders/pods/events created")))
    placed = [event["data"] for event in named(events, "traders/pods/events created") if event["type"] == "order_placed"]
    assert (placed[-1]["type"], placed[-1]["amount"], placed[-1]["price"]) == ("limit", 0.4, 1e6)

    status, last = await platform.request("GET", f"/signals/webhook/{trader['signalToken']}", token=token)
    assert status == 200 and last["action"] == "exit_long", last
    _, other = await platform.member("bob@example.com")
    status, body = await platform.request("GET", f"/signals/webhook/{trader['signalToken']}", token=other)
    assert (status, body["data"]["code"]) == (404, "NOT_FOUND"), body
    assert (await platform.request("GET", f"/signals/webhook/{trader['signalToken']}"))[0] == 401
    ack = await socket.call("get", "signals/webhook", trader["signalToken"], {})
    assert ack[0] is None and ack[1]["_id"] == last["_id"]
    await post(platform, f"/traders/{trader['_id']}/stop", {}, token)


async def test_bad_signals_get_their_code_and_change_nothing(make_platform: Any, tmp_path: Path,
                                                             sockets: Any) -> None:
    platform = await replay_platform(make_platform, tmp_path, count=20_000)
    _, token = await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    trader = await webhook_trader(platform, token)
    good = {"token": trader["signalToken"], "action": "sell", "amount": 1, "timestamp": now_ms()}

    async def refused(data: Any) -> tuple[int, Any]:
        status, body = await platform.request("POST", "/signals/webhook", json=data)
        return status, body["data"]

    assert await refused({**good, "token": "nope"}) == (404, {"code": "SIGNAL_TOKEN_UNKNOWN"})
    status, data = await refused({**good, "timestamp": now_ms() - 120_000, "maxLag": 60})
    assert (status, data["code"], data["maxLag"]) == (400, "SIGNAL_STALE", 60.0) and data["age"] >= 120
    status, data = await refused({**good, "timestamp": now_ms() // 1000 - 600})  # seconds; default maxLag 300
    assert (status, data["code"]) == (400, "SIGNAL_STALE")
    assert await refused({**good, "action": "enter_short"}) == (422, {"code": "SIGNAL_ACTION_UNSUPPORTED",
                                                                      "action": "enter_short"})
    for bad, field in (({**good, "action": "BUY"}, "action"), ({**good, "amount": "lots"}, "amount"),
                       ({**good, "amount": -1}, "amount"), ({**good, "timestamp": "yesterday"}, "timestamp"),
                       ({key: value for key, value in good.items() if key != "token"}, "token")):
        status, body = await platform.request("POST", "/signals/webhook", json=bad)
        assert (status, body["data"]["code"], list(body["errors"])) == (400, "VALIDATION_FAILED", [field]), (bad, body)
    assert (await platform.request("POST", "/signals/webhook", json=[good]))[0] == 400

    at = now_ms()
    answers = await asyncio.gather(*(platform.request("POST", "/signals/webhook", json={
        **good, "action": "buy", "amount": 1, "timestamp": at}) for _ in range(2)))
    assert sorted(status for status, _ in answers) == [201, 409], answers
    assert next(body for status, body in answers if status == 409)["data"]["code"] == "SIGNAL_REPLAYED"
    await events_until(socket, lambda taken: bool(named(taken, "trades created")))  # the one order filled
    status, orders = await platform.request("GET", f"/traders/{trader['_id']}/orders", token=token)
    assert orders["total"] == 1 and orders["data"][0]["side"] == "buy", orders
    await post(platform, f"/traders/{trader['_id']}/stop", {}, token)


async def test_signals_are_limited_per_token(make_platform: Any, tmp_path: Path) -> None:
    store_series(tmp_path, "BTC/USDT", count=400)
    platform = await make_platform(**trader_settings(), ratelimit={"budgets": {"signal-token": 2}})
    _, token = await platform.member("ann@example.com")
    trader = await new_trader(platform, token, HOOK)
    signal = {"token": trader["signalToken"], "action": "buy", "amount": 0.01}
    at = now_ms()
    statuses = [(await platform.request("POST", "/signals/webhook", json={**signal, "timestamp": at - index}))[0]
                for index in range(3)]
    assert statuses == [201, 201, 429], statuses
    status, body = await platform.request("POST", "/signals/webhook", json={**signal, "token": "other",
                                                                             "timestamp": now_ms()})
    assert (status, body["data"]["code"]) == (404, "SIGNAL_TOKEN_UNKNOWN")

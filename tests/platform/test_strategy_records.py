"""`strategies` and `strategies/types` over REST and Socket.IO, on memory and SQLite: the catalogue,
creation with no settings, per-field refusals, `?type=` filtering, merges on patch, owner-only
records and events."""

from __future__ import annotations

import asyncio
from typing import Any

from platform_support import Platform, not_found, socket_login
from tests.conftest import WAIT

MOMENTUM = {"name": "Trend", "type": "momentum", "pair": "BTC/USDT"}


async def test_the_catalogue_lists_every_type_with_haasonline_settings(platform: Platform) -> None:
    status, types = await platform.request("GET", "/strategies/types")  # public
    assert status == 200
    names = {entry["type"] for entry in types}
    assert {"momentum", "sma_cross", "rsi"} <= names
    momentum = next(entry for entry in types if entry["type"] == "momentum")
    setting = next(entry for entry in momentum["settings"] if entry["key"] == "lookback")
    assert {"key", "group", "name", "description", "type", "value", "canBeEdited", "options"} <= set(setting)
    assert (setting["type"], setting["value"], setting["canBeEdited"]) == ("number", 12, False)
    status, one = await platform.request("GET", "/strategies/types/sma_cross")
    assert status == 200 and one["type"] == "sma_cross"
    status, body = await platform.request("GET", "/strategies/types/nothing")
    assert status == 404, body
    status, only = await platform.request("GET", "/strategies/types?type=rsi")
    assert status == 200 and [entry["type"] for entry in only] == ["rsi"]


async def test_a_momentum_strategy_with_no_settings_gets_every_default(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    status, created = await platform.request("POST", "/strategies", json=MOMENTUM, token=token)
    assert status == 201, created
    assert created["settings"]["lookback"] == 12 and created["settings"]["threshold"] == 1.0
    assert (created["timeframe"], created["description"]) == (None, "")
    await platform.request("POST", "/strategies", json={**MOMENTUM, "type": "sma_cross", "name": "Cross"}, token=token)
    status, page = await platform.request("GET", "/strategies?type=momentum", token=token)
    assert status == 200 and page["total"] == 1 and page["data"][0]["_id"] == created["_id"]


async def test_refused_settings_are_a_400_per_field(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    status, body = await platform.request("POST", "/strategies", token=token, json={
        **MOMENTUM, "settings": {"lookback": 0, "colour": "red"}})
    assert status == 400 and body["data"]["code"] == "INVALID_SETTINGS", body
    assert body["errors"] == {"settings.lookback": ["must be at least 1"],
                              "settings.colour": [body["errors"]["settings.colour"][0]]}
    assert body["errors"]["settings.colour"][0].startswith("unknown setting")
    status, body = await platform.request("POST", "/strategies", json={**MOMENTUM, "type": "astrology"}, token=token)
    assert status == 400 and body["data"]["code"] == "INVALID_SETTINGS" and "type" in body["errors"], body
    status, body = await platform.request("POST", "/strategies", json={**MOMENTUM, "timeframe": "7x"}, token=token)
    assert status == 400 and "timeframe" in body["errors"], body
    status, body = await platform.request("POST", "/strategies", token=token, json={
        "name": "Cross", "type": "sma_cross", "pair": "BTC/USDT", "settings": {"fastPeriod": 40}})
    assert status == 400 and "settings.fastPeriod" in body["errors"], body


async def test_a_patch_merges_settings_and_a_new_type_starts_from_its_defaults(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    _, created = await platform.request("POST", "/strategies", token=token,
                                        json={**MOMENTUM, "settings": {"lookback": 20}})
    status, patched = await platform.request("PATCH", f"/strategies/{created['_id']}",
                                             json={"settings": {"threshold": 2.5}}, token=token)
    assert status == 200 and (patched["settings"]["lookback"], patched["settings"]["threshold"]) == (20, 2.5)
    status, patched = await platform.request("PATCH", f"/strategies/{created['_id']}", json={"type": "rsi"},
                                             token=token)
    assert status == 200 and patched["settings"]["period"] == 14 and "lookback" not in patched["settings"]
    status, body = await platform.request("PATCH", f"/strategies/{created['_id']}",
                                          json={"settings": {"period": -1}}, token=token)
    assert status == 400 and "settings.period" in body["errors"]


async def test_strategies_are_their_owners_alone_and_so_are_their_events(platform: Platform, sockets: Any) -> None:
    await platform.sign_up("ann@example.com")
    _, bob = await platform.member("bob@example.com")
    ann_socket, bob_socket = await sockets(platform.http), await sockets(platform.http)
    await socket_login(ann_socket, "ann@example.com")
    await socket_login(bob_socket, "bob@example.com")
    error, created = await ann_socket.call("create", "strategies", MOMENTUM, {})
    assert error is None, error
    name, args = await asyncio.wait_for(ann_socket.next_event(), WAIT)
    assert (name, args[0]["_id"]) == ("strategies created", created["_id"])
    status, body = await platform.request("GET", f"/strategies/{created['_id']}", token=bob)
    assert (status, body) == (404, not_found(created["_id"]))
    status, page = await platform.request("GET", "/strategies", token=bob)
    assert page["total"] == 0
    assert [event for event, _ in bob_socket.received if event.startswith("strategies")] == []
    error, found = await ann_socket.call("find", "strategies", {"type": "momentum"})
    assert error is None and found["total"] == 1

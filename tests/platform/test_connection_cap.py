"""Realtime connections per user, capped by tier: the newest connection wins."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cryptorobot.ratelimit import CLOSED_EVENT
from platform_support import Platform, socket_login
from tests.conftest import WAIT

TIERS = {"free": {"connections": 1}, "pro": {"connections": 5}}
"""The shipped connection caps (the test configuration lifts them for other tests)."""


@pytest.fixture
async def platform(make_platform: Any) -> Platform:
    return await make_platform(ratelimit={"tiers": TIERS})


def replaced(tier: str, cap: int) -> dict[str, Any]:
    return {"name": "TooManyRequests", "code": 429, "className": "too-many-requests",
            "message": f"Closed: a newer connection of this account took its place ({tier} accounts keep {cap} "
                       f"realtime connection{'s' if cap != 1 else ''})",
            "data": {"code": "CONNECTION_LIMIT_EXCEEDED", "limit": f"ratelimit.tiers.{tier}.connections", "max": cap}}


async def closed_with_reason(socket: Any) -> Any:
    """The reason `socket` was sent, once the server has disconnected it."""
    await asyncio.wait_for(socket.disconnected.wait(), WAIT)
    events = [args for name, args in socket.received if name == CLOSED_EVENT]
    assert len(events) == 1, socket.received
    return events[0][0]


async def test_a_free_users_second_login_closes_the_first_connection(platform: Platform, sockets: Any) -> None:
    ann, _ = await platform.member("ann@example.com")
    first, second = await sockets(platform.http), await sockets(platform.http)
    await socket_login(first, "ann@example.com")
    await socket_login(second, "ann@example.com")
    assert await closed_with_reason(first) == replaced("free", 1)
    assert (await second.call("get", "users", ann["_id"], {}))[0] is None
    assert not second.disconnected.is_set()


async def test_a_reconnect_before_the_dead_socket_times_out_wins(platform: Platform, sockets: Any) -> None:
    """A client whose network dropped reconnects while the server still holds its old socket:
    the new one replaces it instead of being refused."""
    await platform.member("ann@example.com")
    old = await sockets(platform.http)
    await socket_login(old, "ann@example.com")
    stale = platform.connection(old)
    new = await sockets(platform.http)
    await socket_login(new, "ann@example.com")
    await asyncio.wait_for(old.disconnected.wait(), WAIT)
    assert stale.closed
    assert (await new.call("find", "users", {}))[0] is None


async def test_a_tier_keeps_its_number_of_connections(platform: Platform, sockets: Any) -> None:
    ann, _ = await platform.member("ann@example.com")
    await platform.set_tier(ann, "pro")
    five = [await sockets(platform.http) for _ in range(5)]
    for socket in five:
        await socket_login(socket, "ann@example.com")
    sixth = await sockets(platform.http)
    await socket_login(sixth, "ann@example.com")
    assert await closed_with_reason(five[0]) == replaced("pro", 5)
    for socket in (*five[1:], sixth):
        assert (await socket.call("find", "users", {}))[0] is None
        assert not socket.disconnected.is_set()


async def test_logging_in_again_on_one_socket_counts_once(platform: Platform, sockets: Any) -> None:
    ann, _ = await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    for _ in range(3):
        await socket_login(socket, "ann@example.com")
    assert (await socket.call("get", "users", ann["_id"], {}))[0] is None
    assert socket.received == [] and not socket.disconnected.is_set()


@pytest.mark.parametrize("leaving", ["logout", "disconnect"])
async def test_a_logout_or_a_disconnect_frees_the_place(make_platform: Any, sockets: Any, leaving: str) -> None:
    """Two places: one of them left, two more logins close nothing."""
    platform = await make_platform(ratelimit={"tiers": {"free": {"connections": 2}}})  # two places
    await platform.member("ann@example.com")
    staying, leaver = await sockets(platform.http), await sockets(platform.http)
    await socket_login(staying, "ann@example.com")
    await socket_login(leaver, "ann@example.com")
    if leaving == "logout":
        await leaver.call("remove", "authentication", None, {})
    else:
        gone = asyncio.Event()
        platform.app.on("disconnect", lambda connection: gone.set())
        await leaver.close()
        await asyncio.wait_for(gone.wait(), WAIT)
    newcomer = await sockets(platform.http)
    await socket_login(newcomer, "ann@example.com")
    await platform.app.events.drain()
    for socket in (staying, newcomer):
        assert (await socket.call("find", "users", {}))[0] is None
        assert socket.received == [] and not socket.disconnected.is_set()


async def test_users_do_not_share_places_and_handshake_logins_count(platform: Platform, sockets: Any) -> None:
    ann, ann_token = await platform.member("ann@example.com")
    await platform.member("bob@example.com")
    bob = await sockets(platform.http)
    await socket_login(bob, "bob@example.com")
    handshake = await sockets(platform.http, headers={"Authorization": f"Bearer {ann_token}"})
    assert (await handshake.call("get", "users", ann["_id"], {}))[0] is None
    later = await sockets(platform.http)
    await socket_login(later, "ann@example.com")
    assert (await closed_with_reason(handshake))["data"]["code"] == "CONNECTION_LIMIT_EXCEEDED"
    assert (await bob.call("find", "users", {}))[0] is None and not bob.disconnected.is_set()


async def test_without_tiers_nothing_is_capped(make_platform: Any, sockets: Any) -> None:
    platform = await make_platform(ratelimit={"enabled": False, "tiers": TIERS})
    await platform.member("ann@example.com")
    clients = [await sockets(platform.http) for _ in range(3)]
    for client in clients:
        await socket_login(client, "ann@example.com")
    for client in clients:
        assert (await client.call("find", "users", {}))[0] is None

"""Sessions end: logout, a revoked API key and a password change end the tokens they
concern, for REST calls, socket calls and logged-in sockets (cryptorobot/auth/revocation.py,
sessions.py, password_change.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from cryptorobot import ManualClock
from platform_support import PASSWORD, Platform, bad_request, not_authenticated, socket_login
from tests.conftest import WAIT

NEW_PASSWORD = "a brand new password"


def revoked(reason: str) -> dict[str, Any]:
    return not_authenticated("Token revoked", "TOKEN_REVOKED", {"name": "TokenRevokedError", "reason": reason})


async def token_works(platform: Platform, token: str) -> int:
    status, _ = await platform.request("GET", "/users", token=token)
    return status


async def socket_with_token(sockets: Any, platform: Platform, token: str) -> Any:
    socket = await sockets(platform.http)
    ack = await socket.call("create", "authentication", {"strategy": "jwt", "accessToken": token}, {})
    assert ack[0] is None, ack
    return socket


async def disconnected(socket: Any) -> bool:
    await asyncio.wait_for(socket.disconnected.wait(), WAIT)
    return True


# -- logout -------------------------------------------------------------------------------------

async def test_rest_logout_ends_the_token(platform: Platform, sockets: Any) -> None:
    _, token = await platform.member("ann@example.com")
    other = (await platform.login("ann@example.com"))["accessToken"]
    watching = await socket_with_token(sockets, platform, token)
    assert await token_works(platform, token) == 200
    status, body = await platform.request("DELETE", "/authentication", token=token)
    assert status == 200 and body["accessToken"] == token
    assert await platform.request("GET", "/users", token=token) == (401, revoked("logout"))
    # Re-authenticating with it (what the Feathers client does on reconnect) fails too.
    assert await platform.request("POST", "/authentication", json={"strategy": "jwt", "accessToken": token}) == (
        401, revoked("logout"))
    assert await disconnected(watching)  # a socket logged in with it is let go at once
    assert await token_works(platform, other) == 200  # the user's other sessions go on


async def test_socket_logout_ends_the_token_and_keeps_the_socket(platform: Platform, sockets: Any) -> None:
    await platform.sign_up("ann@example.com")
    socket = await sockets(platform.http)
    token = (await socket_login(socket, "ann@example.com"))["accessToken"]
    ack = await socket.call("remove", "authentication", None, {})
    assert ack[0] is None
    assert await platform.request("GET", "/users", token=token) == (401, revoked("logout"))
    assert await socket.call("find", "users", {}) == not_authenticated("Not authenticated")
    assert socket.sio.connected and not socket.disconnected.is_set()  # logged out, still connected


async def test_calls_of_a_socket_whose_token_ended_elsewhere_fail(platform: Platform, sockets: Any) -> None:
    """Each call of a socket checks its token again: an end recorded by another process
    (written straight to the store here) fails the next call, before any sweep."""
    _, token = await platform.member("ann@example.com")
    socket = await socket_with_token(sockets, platform, token)
    authentication = platform.app.service("authentication").raw
    await authentication.revocations.end_token(authentication.tokens.verify(token))
    assert await socket.call("find", "users", {}) == revoked("logout")


# -- API keys ----------------------------------------------------------------------------------

async def test_revoking_a_key_ends_the_tokens_obtained_with_it(platform: Platform, sockets: Any) -> None:
    _ann, password_token = await platform.member("ann@example.com")
    status, key = await platform.request("POST", "/api-keys", json={"name": "bot"}, token=password_token)
    assert status == 201
    status, exchanged = await platform.request("POST", "/authentication", json={"strategy": "api-key", "apiKey": key["key"]})
    assert status == 201 and exchanged["authentication"]["payload"]["apiKey"] == key["_id"]
    key_token = exchanged["accessToken"]
    bot = await socket_with_token(sockets, platform, key_token)
    assert await token_works(platform, key_token) == 200
    assert (await platform.request("DELETE", f"/api-keys/{key['_id']}", token=password_token))[0] == 200
    assert await platform.request("GET", "/users", token=key_token) == (401, revoked("api-key"))
    assert await platform.request("GET", "/users", api_key=key["key"]) == (401, not_authenticated("Invalid API key"))
    assert await disconnected(bot)
    assert await token_works(platform, password_token) == 200


# -- password changes ----------------------------------------------------------------------------

async def change_password(platform: Platform, user: dict, token: str, **data: Any) -> tuple[int, Any]:
    return await platform.request("PATCH", f"/users/{user['_id']}", json={"password": NEW_PASSWORD, **data}, token=token)


async def test_a_password_change_needs_the_current_password(platform: Platform) -> None:
    ann, token = await platform.member("ann@example.com")
    before = (await platform.stored("users", ann["_id"]))["password"]
    missing = await change_password(platform, ann, token)
    assert missing == (400, bad_request({"currentPassword": ["The current password is required to change the password."]}))
    wrong = await change_password(platform, ann, token, currentPassword="not my password")
    assert wrong == (400, bad_request({"currentPassword": ["Does not match the current password."]}))
    assert (await platform.stored("users", ann["_id"]))["password"] == before
    assert await token_works(platform, token) == 200  # a refused change ends nothing


async def test_a_password_change_ends_the_other_sessions(make_platform: Any, sockets: Any) -> None:
    clock = ManualClock()
    platform = await make_platform(clock=clock)
    ann, laptop = await platform.member("ann@example.com")
    phone = (await platform.login("ann@example.com"))["accessToken"]
    phone_socket = await socket_with_token(sockets, platform, phone)
    laptop_socket = await socket_with_token(sockets, platform, laptop)
    _bob, bob_token = await platform.member("bob@example.com")
    status, body = await change_password(platform, ann, laptop, currentPassword=PASSWORD)
    assert status == 200 and "password" not in body and "currentPassword" not in body
    assert "currentPassword" not in await platform.stored("users", ann["_id"])
    assert await platform.request("GET", "/users", token=phone) == (401, revoked("password"))
    assert await disconnected(phone_socket)
    assert await token_works(platform, laptop) == 200  # the session that made the change stays
    assert laptop_socket.sio.connected and not laptop_socket.disconnected.is_set()
    assert await token_works(platform, bob_token) == 200
    clock.advance(0.001)  # a login a millisecond later is a new session
    fresh = (await platform.login("ann@example.com", NEW_PASSWORD))["accessToken"]
    assert await token_works(platform, fresh) == 200


async def test_a_password_change_over_a_socket_keeps_that_socket(platform: Platform, sockets: Any) -> None:
    ann, rest_token = await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    ack = await socket.call("patch", "users", ann["_id"], {"password": NEW_PASSWORD, "currentPassword": PASSWORD}, {})
    assert ack[0] is None, ack
    assert (await socket.call("find", "users", {}))[0] is None
    assert await platform.request("GET", "/users", token=rest_token) == (401, revoked("password"))


async def test_server_code_changing_a_password_ends_every_session(platform: Platform, sockets: Any) -> None:
    ann, token = await platform.member("ann@example.com")
    socket = await socket_with_token(sockets, platform, token)
    await platform.app.service("users").patch(ann["_id"], {"password": NEW_PASSWORD})
    assert await platform.request("GET", "/users", token=token) == (401, revoked("password"))
    assert await disconnected(socket)


"""A Socket.IO client survives a lost connection: it reconnects, logs in again, events resume,
calls made meanwhile wait. The server cuts the socket as a lost network would
(`connection-drop`, no Socket.IO goodbye); the restart of a real server process is in
test_client_restart.py."""

from __future__ import annotations

import asyncio

import pytest

from cryptorobot import errors
from cryptorobot.server import SOCKETIO_KEY

PASSWORD = "correct horse battery"


async def drop(client) -> None:
    """Have the server cut this client's socket shortly after answering."""
    await client.service("connection-drop").create({})


def watch(client, inbox) -> dict:
    """Inboxes of the client's connection events."""
    events = {name: inbox() for name in ("connect", "disconnect", "reconnect", "login", "logout")}
    for name, box in events.items():
        client.on(name, box)
    return events


async def member(client, email: str) -> dict:
    await client.service("users").create({"email": email, "password": PASSWORD})
    return await client.authenticate({"strategy": "local", "email": email, "password": PASSWORD})


async def test_reconnects_and_events_resume(served, clients, inbox) -> None:
    client, writer = clients(served.url), clients(served.url, transport="rest")
    status = watch(client, inbox)
    created = inbox()
    client.service("messages").on("created", created)
    await client.connect()
    assert await status["connect"].next() == ()
    first = await writer.service("messages").create({"n": 1})
    assert await created.next() == first
    await drop(client)
    # python-socketio's reason; not "io server disconnect", after which it would not reconnect
    assert await status["disconnect"].next() in ("transport error", "server disconnect")
    assert await status["reconnect"].next() == ()
    assert client.connected and not status["connect"].items  # `connect` is the first connection only
    second = await writer.service("messages").create({"n": 2})
    assert await created.next() == second


async def test_calls_made_during_the_gap_wait_and_run_once(served, clients, inbox) -> None:
    client = clients(served.url)
    messages = client.service("messages")
    during = inbox()  # the call is made by the disconnect handler: during the gap for sure
    client.on("disconnect", lambda: during(asyncio.ensure_future(messages.create({"made": "in the gap"}))))
    await client.connect()
    await drop(client)
    made = await asyncio.wait_for(await during.next(), 10)
    assert made["made"] == "in the gap"
    assert (await messages.find(query={"made": "in the gap"}))["total"] == 1


async def test_calls_under_way_at_the_loss(served, clients, inbox) -> None:
    client = clients(served.url)
    status = watch(client, inbox)
    messages, echo = served.app.service("messages").raw, served.app.service("echo").raw
    unsafe = asyncio.ensure_future(client.service("messages").hold({"n": 1}))
    safe = asyncio.ensure_future(client.service("echo").find(query={"hold": "yes"}))
    await asyncio.wait_for(messages.holding.wait(), 10)
    await asyncio.wait_for(echo.holding.wait(), 10)
    echo.holding.clear()
    await drop(client)
    # A custom method may have run: the client says so rather than send it again.
    with pytest.raises(errors.Unavailable) as lost:
        await unsafe
    assert lost.value.data == {"reason": "connection-lost"}
    assert "lost before the answer to hold on 'messages' came" in lost.value.message
    # A find changes nothing: it is sent again on the new connection.
    await status["reconnect"].next()
    await asyncio.wait_for(echo.holding.wait(), 10)
    echo.release()
    messages.release()
    assert (await safe)["query"] == {"hold": "yes"}


async def test_the_login_is_restored_after_a_loss(platform, clients, inbox) -> None:
    client, writer = clients(platform.url), clients(platform.url, transport="rest")
    status = watch(client, inbox)
    server_logins = inbox()
    platform.app.on("login", lambda result, params, context=None: server_logins(
        (result["authentication"]["strategy"], params.get("connection") is not None)))
    keys = inbox()
    client.service("api-keys").on("created", keys)
    ann = (await member(client, "ann@example.com"))["user"]
    assert await server_logins.next() == ("local", True)
    await status["login"].next()
    await writer.authenticate({"strategy": "jwt", "accessToken": client.access_token})
    assert await server_logins.next() == ("jwt", False)
    await drop(client)
    await status["disconnect"].next()
    # Logged in again with the stored token, on the new connection, before `reconnect`.
    assert await server_logins.next() == ("jwt", True)
    assert (await status["login"].next())["user"] == ann
    await status["reconnect"].next()
    assert (await client.service("users").find())["data"] == [ann]
    made = await writer.service("api-keys").create({"name": "after the loss"})
    assert (await keys.next())["_id"] == made["_id"]


async def test_an_api_key_login_is_restored_with_the_key(platform, clients, inbox) -> None:
    owner, client = clients(platform.url), clients(platform.url)
    await member(owner, "ann@example.com")
    key = (await owner.service("api-keys").create({"name": "bot"}))["key"]
    server_logins = inbox()
    platform.app.on("login", lambda result, params, context=None: server_logins(result["authentication"]["strategy"]))
    await client.authenticate({"strategy": "api-key", "apiKey": key})
    assert await server_logins.next() == "api-key"
    await drop(client)
    assert await server_logins.next() == "api-key"  # keys do not expire; tokens do
    assert (await client.service("users").find())["total"] == 1


async def test_a_handshake_key_needs_no_login_after_a_loss(platform, clients, inbox) -> None:
    owner = clients(platform.url)
    ann = (await member(owner, "ann@example.com"))["user"]
    key = (await owner.service("api-keys").create({"name": "bot"}))["key"]
    client = clients(platform.url, api_key=key)
    status = watch(client, inbox)
    assert (await client.service("users").find())["data"] == [ann]
    await drop(client)
    await status["reconnect"].next()
    assert (await client.service("users").find())["data"] == [ann]
    assert not status["login"].items


async def test_a_login_refused_after_a_loss(platform, clients, inbox) -> None:
    client = clients(platform.url)
    status = watch(client, inbox)
    ann = (await member(client, "ann@example.com"))["user"]
    during = inbox()
    client.on("disconnect", lambda: during(asyncio.ensure_future(client.service("users").find())))
    await platform.app.service("users").remove(ann["_id"])  # the token no longer logs anyone in
    await drop(client)
    # The call that waited for the login fails with the login's error ...
    with pytest.raises(errors.NotAuthenticated):
        await asyncio.wait_for(await during.next(), 10)
    assert await status["logout"].next() is None
    assert client.authentication is None
    # ... and the client goes on, anonymous.
    await status["reconnect"].next()
    with pytest.raises(errors.NotAuthenticated, match="Not authenticated"):
        await client.service("users").find()
    assert (await client.service("users").create({"email": "new@example.com", "password": PASSWORD}))["_id"]


async def test_a_login_that_fails_for_another_reason_is_tried_again(served, clients, inbox) -> None:
    client = clients(served.url)
    status = watch(client, inbox)
    authentication = served.app.service("authentication").raw
    await client.authenticate({"strategy": "local"})
    authentication.failures = 1  # the next jwt login meets a server problem, not a refusal
    during = inbox()
    client.on("disconnect", lambda: during(asyncio.ensure_future(client.service("messages").find())))
    await drop(client)
    # The client connects again and logs in again rather than go on anonymous ...
    await status["reconnect"].next()
    assert authentication.logins == ["local", "jwt", "jwt"]
    assert client.access_token == "token-1" and not status["logout"].items
    # ... and the call made meanwhile waited for that.
    assert (await asyncio.wait_for(await during.next(), 10))["total"] == 0


async def test_a_disconnect_by_the_server_reconnects_at_the_next_call(platform, clients, inbox) -> None:
    client = clients(platform.url)
    status = watch(client, inbox)
    ann = (await member(client, "ann@example.com"))["user"]
    transport = platform.http.server.app[SOCKETIO_KEY]
    (connection,) = transport.connections.values()
    platform.app.emit("disconnect", connection)  # as the server does when a token expires
    assert await status["disconnect"].next() == "io server disconnect"
    assert not client.connected
    assert (await client.service("users").find())["data"] == [ann]
    await status["reconnect"].next()
    (again,) = transport.connections.values()
    assert again is not connection and again["user"]["_id"] == ann["_id"]

"""A real server restarts under the client: SIGTERM, then a new process on the same port and
data directory (SQLite, the same JWT secret). The client comes back by itself, logs in again
with its stored token, its next call succeeds and events resume; calls made while the
server is away wait for it, or fail with a clear `Timeout` when it takes too long."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from cryptorobot import errors
from cryptorobot.client import Client
from tests.server_process import ServerProcess

PASSWORD = "correct horse battery"
WAIT = 60.0  # a restart on a loaded machine


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess("tests.interop.auth_app:create_app", Path(tmp_path_factory.mktemp("client-restart")),
                            env={"CRYPTOROBOT_ENV": None, "CRYPTOROBOT_STORAGE": "sqlite"})
    process.start()
    yield process
    process.stop()


async def restart_while(server: ServerProcess, during) -> None:
    """SIGTERM the server, run `during()` while it is down, start it again."""
    assert await asyncio.to_thread(server.stop) == 0
    await during()
    await asyncio.to_thread(server.start)


async def test_a_socket_client_survives_a_restart(server, inbox) -> None:
    client = Client(server.url, connect_timeout=WAIT, reconnect_delay=(0.1, 1.0))
    writer = Client(server.url, transport="rest", connect_timeout=WAIT)
    impatient = Client(server.url, connect_timeout=0.5)
    status = {name: inbox() for name in ("disconnect", "reconnect", "login")}
    for name, box in status.items():
        client.on(name, box)
    keys = inbox()
    client.service("api-keys").on("created", keys)
    try:
        await client.service("users").create({"email": "sock@example.com", "password": PASSWORD})
        ann = (await client.authenticate({"strategy": "local", "email": "sock@example.com", "password": PASSWORD}))["user"]
        await status["login"].next()
        await writer.authenticate({"strategy": "jwt", "accessToken": client.access_token})
        await impatient.service("users").create({"email": "bob@example.com", "password": PASSWORD})
        bob = (await impatient.authenticate({"strategy": "local", "email": "bob@example.com", "password": PASSWORD}))["user"]
        assert await socket_logins(client, ann) == ["local"]
        waiting = []

        async def during() -> None:
            await status["disconnect"].next(WAIT)
            assert not client.connected
            waiting.append(asyncio.ensure_future(client.service("users").get(ann["_id"])))
            with pytest.raises(errors.Timeout) as late:
                await impatient.service("users").get(bob["_id"])
            assert late.value.data == {"reason": "not-connected"}
            assert late.value.message.startswith(f"No connection to {server.url} within 0.5 s")
            assert late.value.message.endswith("get on 'users' was not sent")
            assert not waiting[0].done()

        await restart_while(server, during)
        assert await asyncio.wait_for(waiting[0], WAIT) == ann  # the call made during the gap
        assert (await status["login"].next(WAIT))["authentication"]["strategy"] == "jwt"
        await status["reconnect"].next(WAIT)
        # The new server saw the client's new connection log in with the stored token.
        assert await socket_logins(client, ann) == ["jwt"]
        made = await writer.service("api-keys").create({"name": "after the restart"})
        assert (await keys.next(WAIT))["_id"] == made["_id"]
    finally:
        for each in (client, writer, impatient):
            await each.close()


async def socket_logins(client: Client, user: dict) -> list[str]:
    """The strategies of the socket logins of `user` this server process saw."""
    entries = await client.service("connection-log").find()
    return [entry["strategy"] for entry in entries
            if entry["event"] == "login" and entry["userId"] == user["_id"] and entry["sid"] is not None]


async def test_a_rest_client_survives_a_restart(server) -> None:
    client = Client(server.url, transport="rest", connect_timeout=WAIT, reconnect_delay=(0.1, 1.0))
    try:
        await client.service("users").create({"email": "rest@example.com", "password": PASSWORD})
        ann = (await client.authenticate({"strategy": "local", "email": "rest@example.com", "password": PASSWORD}))["user"]
        waiting = []

        async def during() -> None:
            waiting.append(asyncio.ensure_future(client.service("users").find()))
            created = asyncio.ensure_future(client.service("api-keys").create({"name": "sent when back"}))
            waiting.append(created)
            await asyncio.sleep(0)
            assert not any(task.done() for task in waiting)

        await restart_while(server, during)
        page, key = await asyncio.wait_for(asyncio.gather(*waiting), WAIT)
        assert page["data"] == [ann]
        assert key["name"] == "sent when back"
        assert [each["name"] for each in (await client.service("api-keys").find())["data"]] == ["sent when back"]
    finally:
        await client.close()

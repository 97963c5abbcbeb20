"""`SyncClient`: the blocking client, against real server processes (the test app and the
platform), from plain code, from event handlers, and from inside a running event loop as in
Jupyter."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cryptorobot import errors
from cryptorobot.client import Client, SyncClient
from tests.client.client_app import FAILURE
from tests.server_process import ServerProcess

WAIT = 10.0
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess("tests.client.client_app:create_app", Path(tmp_path_factory.mktemp("sync-app"))) as process:
        yield process


@pytest.fixture(scope="module")
def platform_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess("tests.interop.auth_app:create_app", Path(tmp_path_factory.mktemp("sync-platform")),
                       env={"CRYPTOROBOT_ENV": None}) as process:
        yield process


class Received:
    """What handlers put, read by the test thread with a timeout."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Any] = queue.Queue()

    def put(self, *args: Any) -> None:
        self.queue.put(args[0] if len(args) == 1 else args)

    def next(self) -> Any:
        return self.queue.get(timeout=WAIT)


@pytest.mark.parametrize("transport", ["socketio", "rest"])
def test_every_method_blocks_and_returns(app_server, transport) -> None:
    with SyncClient(app_server.url, transport=transport) as client:
        assert client.transport == transport and client.connected
        messages = client.service("messages")
        created = messages.create({"text": "hello", "run": "sync"})
        assert messages.get(created["id"]) == created
        assert messages.find(query={"run": "sync"})["data"] == [created]
        assert messages.patch(created["id"], {"text": "patched"})["text"] == "patched"
        assert messages.update(created["id"], {"text": "replaced"}) == {"text": "replaced", "id": created["id"]}
        assert messages.summary({"run": "sync"})["provider"] == transport
        assert messages.call("summary", {"run": "sync"})["provider"] == transport
        assert messages.remove(created["id"])["text"] == "replaced"
        with pytest.raises(errors.NotFound):
            messages.get(created["id"])
        with pytest.raises(errors.BadRequest) as failed:
            messages.fail()
        assert failed.value.to_json() == FAILURE
    with pytest.raises(RuntimeError, match="closed"):
        messages.find()
    client.close()  # twice is fine


def test_client_sync_is_the_same_thing(app_server) -> None:
    client = Client.sync(app_server.url, transport="rest")
    try:
        assert isinstance(client, SyncClient)
        assert client.service("notes").create({"text": "x"})["text"] == "x"
    finally:
        client.close()


def test_plain_handlers_run_in_order_on_a_thread_of_their_own_and_may_block(app_server) -> None:
    received = Received()
    with SyncClient(app_server.url) as client:
        messages = client.service("messages")

        @messages.on("created")
        def fetch_again(message: dict) -> None:
            received.put(threading.current_thread().name, messages.get(message["id"]))  # a blocking call

        made = messages.create([{"n": n} for n in range(5)])
        for expected in made:
            thread, fetched = received.next()
            assert fetched == expected
            assert thread.startswith("cryptorobot-client-handlers") and thread != threading.current_thread().name


def test_coroutine_handlers_run_on_the_clients_loop(app_server) -> None:
    received = Received()
    with SyncClient(app_server.url) as client:

        async def fetch_again(message: dict) -> None:
            received.put(await client.client.service("messages").get(message["id"]))  # the async client
            try:
                client.service("messages").find()  # the blocking client would block this very loop
            except RuntimeError as refused:
                received.put(str(refused))

        client.service("messages").on("created", fetch_again)
        made = client.service("messages").create({"text": "x"})
        assert received.next() == made
        assert "would block the client's own loop" in received.next()


async def test_inside_a_running_event_loop_as_in_jupyter(app_server) -> None:
    # A notebook cell runs while the notebook's loop runs, as this test does: blocking calls
    # still work, because the client's loop is on a thread of its own.
    with SyncClient(app_server.url) as client:
        created = client.service("notes").create({"text": "from a notebook"})
        assert client.service("notes").get(created["id"]) == created


def test_login_events_and_a_lost_connection(platform_server) -> None:
    received = Received()
    with SyncClient(platform_server.url, reconnect_delay=(0.05, 0.5)) as client:
        client.on("login", lambda result: received.put("login", result["authentication"]["strategy"]))
        client.on("disconnect", lambda: received.put("disconnect"))
        client.on("reconnect", lambda: received.put("reconnect"))
        client.service("api-keys").on("created", lambda key: received.put("key", key["name"]))
        client.service("users").create({"email": "sync@example.com", "password": PASSWORD})
        ann = client.authenticate({"strategy": "local", "email": "sync@example.com", "password": PASSWORD})["user"]
        assert received.next() == ("login", "local")
        client.service("connection-drop").create({})
        assert received.next() == "disconnect"
        assert received.next() == ("login", "jwt")
        assert received.next() == "reconnect"
        assert client.service("users").find()["data"] == [ann]
        client.service("api-keys").create({"name": "after"})
        assert received.next() == ("key", "after")
        assert client.logout()["user"] == ann
        assert client.authentication is None and client.access_token is None

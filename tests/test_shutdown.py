"""Stopping a server: calls in progress finish, their events are delivered, then every socket
is closed as a lost network would close it (so Socket.IO clients reconnect by themselves).

The whole aiohttp stop runs here (`TestServer.close`: stop listening, stop reading, the
app's on_shutdown, close connections, cleanup), as SIGTERM runs it in `cryptorobot serve`.
`tests/interop/test_restart.py` does the same with a real process and the official clients.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from cryptorobot import App
from tests.conftest import WAIT, SocketClient


class Slow:
    """`create` waits until released; `entered` gets one item per call waiting."""

    def __init__(self) -> None:
        self.entered: asyncio.Queue[Any] = asyncio.Queue()
        self.release = asyncio.Event()

    async def create(self, data: Any, params: dict) -> Any:
        await self.entered.put(data)
        await self.release.wait()
        return {"id": data["n"], **data}


class StopWatch(logging.Handler):
    """Sets `waiting` when the server says it waits for calls before stopping."""

    def __init__(self, waiting: asyncio.Event) -> None:
        super().__init__(logging.INFO)
        self.waiting = waiting
        self.message = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("stopping: waiting"):
            self.message = record.getMessage()
            self.waiting.set()


class Watcher(SocketClient):
    """A test socket that also records why it was disconnected."""

    def __init__(self) -> None:
        super().__init__()
        self.reason: Any = None
        self.sio.on("disconnect", self._disconnected)

    async def _disconnected(self, reason: Any = None) -> None:
        self.reason = reason
        self.disconnected.set()


async def test_stop_finishes_calls_delivers_events_then_drops_sockets(serve: Any) -> None:
    app, slow = App(), Slow()
    app.use("slow", slow)
    app.on("connection", lambda connection: app.channel("everyone").join(connection))
    app.publish(lambda data, context: app.channel("everyone"))
    client = await serve(app)
    url = str(client.make_url("")).rstrip("/")
    caller, watcher = await Watcher().connect(url), await Watcher().connect(url)

    by_socket = asyncio.ensure_future(caller.call("create", "slow", {"n": 1}, {}))
    by_rest = asyncio.ensure_future(client.post("/slow", json={"n": 2}))
    for _ in range(2):
        await asyncio.wait_for(slow.entered.get(), WAIT)
    waiting = asyncio.Event()
    watch, logger = StopWatch(waiting), logging.getLogger("cryptorobot.server")
    level = logger.level
    logger.addHandler(watch)
    logger.setLevel(logging.INFO)
    try:
        stopping = asyncio.ensure_future(client.server.close())
        await asyncio.wait_for(waiting.wait(), WAIT)  # the stop waits for both calls
    finally:
        logger.removeHandler(watch)
        logger.setLevel(level)
    assert watch.message == "stopping: waiting for 2 calls in progress"
    slow.release.set()

    assert await by_socket == (None, {"id": 1, "n": 1})
    response = await by_rest
    assert response.status == 201 and await response.json() == {"id": 2, "n": 2}
    await asyncio.wait_for(stopping, WAIT)
    for socket in (caller, watcher):
        await asyncio.wait_for(socket.disconnected.wait(), WAIT)
        # A lost connection, which clients reconnect: no Socket.IO disconnect ("server
        # disconnect" here, "io server disconnect" in JS) and no Engine.IO CLOSE packet.
        assert socket.reason == socket.sio.eio.reason.TRANSPORT_ERROR
        events = sorted(payload[0]["n"] for name, payload in socket.received if name == "slow created")
        assert events == [1, 2]  # both calls' events arrived before the close

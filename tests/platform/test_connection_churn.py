"""Connect/login/disconnect churn leaves no dead connection and no state behind.

A login may finish after its socket has gone: a socket login (`create authentication`)
whose client disconnects meanwhile, or a handshake login (an `Authorization` header) whose
client drops during the handshake. Whatever the order, a closed connection joins no channel,
gets no expiry timer and no room, and nothing keeps it alive: every Connection object is
garbage once the cycles are over.
"""

from __future__ import annotations

import asyncio
import gc
import json
import weakref
from typing import Any

import aiohttp

from cryptorobot import Connection
from cryptorobot.server import SOCKETIO_KEY
from cryptorobot.transports.socketio import SocketIOTransport
from platform_support import PASSWORD, Platform, socket_login
from tests.conftest import WAIT, SocketClient

CYCLES = 8
EMAIL = "churn@example.com"


class LoginGate:
    """A before hook on `authentication.create` that holds every login until released."""

    def __init__(self) -> None:
        self.entered: asyncio.Queue[Connection] = asyncio.Queue()
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, context: Any) -> None:
        connection = context.params.get("connection")
        if connection is not None and not self.release.is_set():
            await self.entered.put(connection)
            await self.release.wait()

    async def held(self) -> Connection:
        return await asyncio.wait_for(self.entered.get(), WAIT)


class InFlight:
    """An around hook on `authentication.create` counting the logins in progress."""

    def __init__(self) -> None:
        self.count = 0
        self.idle = asyncio.Event()
        self.idle.set()

    async def __call__(self, context: Any, next_step: Any) -> None:
        self.count += 1
        self.idle.clear()
        try:
            await next_step()
        finally:
            self.count -= 1
            if not self.count:
                self.idle.set()


class Events:
    """Futures for app events about one connection."""

    def __init__(self, app: Any) -> None:
        self.waiting: dict[tuple[str, int], asyncio.Future[None]] = {}
        app.on("disconnect", lambda connection: self._arrived("disconnect", connection))
        app.on("login", lambda result, params, *_: self._arrived("login", params.get("connection")))

    def _future(self, event: str, connection: Connection) -> asyncio.Future[None]:
        return self.waiting.setdefault((event, id(connection)), asyncio.get_running_loop().create_future())

    def _arrived(self, event: str, connection: Connection | None) -> None:
        if connection is not None and not self._future(event, connection).done():
            self._future(event, connection).set_result(None)

    async def wait(self, event: str, connection: Connection) -> None:
        await asyncio.wait_for(self._future(event, connection), WAIT)
        del self.waiting[(event, id(connection))]


def engine_socket(transport: SocketIOTransport, connection: Connection) -> Any:
    eio_sid = transport.sio.manager.eio_sid_from_sid(connection.sid, "/")
    return transport.sio.eio.sockets[eio_sid]


def watch_close(socket: Any) -> asyncio.Event:
    """An event set once the server has closed this engine.io socket."""
    closed = asyncio.Event()
    close = socket.close

    async def closing(*args: Any, **kwargs: Any) -> None:
        await close(*args, **kwargs)
        closed.set()

    socket.close = closing
    return closed


class Churn:
    """The platform with a gate on logins, and one method per kind of cycle. Cycles keep no
    connection in a local variable of the test, so that garbage means garbage."""

    def __init__(self, platform: Platform, token: str) -> None:
        self.app = platform.app
        self.transport = platform.http.server.app[SOCKETIO_KEY]
        self.url = str(platform.http.make_url("")).rstrip("/")
        self.gate, self.events, self.in_flight = LoginGate(), Events(self.app), InFlight()
        self.app.service("authentication").hooks({"around": {"create": [self.in_flight]},
                                                  "before": {"create": [self.gate]}})
        self.seen: weakref.WeakSet[Connection] = weakref.WeakSet()
        self.app.on("connection", self.seen.add)
        self.credentials = {"strategy": "local", "email": EMAIL, "password": PASSWORD}
        self.bearer = {"Authorization": f"Bearer {token}"}

    async def held_login(self) -> Connection:
        connection = await self.gate.held()
        self.seen.add(connection)  # handshakes that fail are never announced
        return connection

    async def ordinary(self) -> None:
        """Connect, log in, disconnect."""
        client = await SocketClient().connect(self.url)
        await socket_login(client, EMAIL)
        await client.close()

    async def socket_login_after_disconnect(self) -> None:
        """A socket login that finishes after its client has gone."""
        self.gate.release.clear()
        client = await SocketClient().connect(self.url)
        await client.sio.emit("create", ("authentication", self.credentials, {}))
        connection = await self.held_login()
        await client.close()
        await self.events.wait("disconnect", connection)
        self.gate.release.set()
        await self.events.wait("login", connection)

    async def websocket_drops_during_handshake(self) -> None:
        """A handshake login whose websocket drops: the test server, like any aiohttp
        server with handler_cancellation, cancels the handshake."""
        self.gate.release.clear()
        async with aiohttp.ClientSession() as session:
            websocket = await session.ws_connect(f"{self.url}/socket.io/?EIO=4&transport=websocket",
                                                 headers=self.bearer)
            assert (await websocket.receive_str(timeout=WAIT)).startswith("0")  # engine.io open
            await websocket.send_str("40")  # socket.io connect: the handshake login starts
            connection = await self.held_login()
        # Leaving the session dropped the connection without a close handshake.
        await self.events.wait("disconnect", connection)
        self.gate.release.set()

    async def handshake_login_after_polling_close(self) -> None:
        """A handshake login that finishes after its polling client closed."""
        self.gate.release.clear()
        async with aiohttp.ClientSession() as session:
            polling = f"{self.url}/socket.io/?EIO=4&transport=polling"
            opened = await (await session.get(polling, headers=self.bearer)).text()
            polling += "&sid=" + json.loads(opened[1:])["sid"]
            handshake = asyncio.ensure_future(session.post(polling, data="40"))
            connection = await self.held_login()
            server_side = watch_close(engine_socket(self.transport, connection))
            await session.post(polling, data="1")  # engine.io close
            await asyncio.wait_for(server_side.wait(), WAIT)
            self.gate.release.set()
            await self.events.wait("login", connection)
            await self.events.wait("disconnect", connection)  # the server forgets what it logged in
            (await handshake).release()

    async def racing_logins(self, count: int = 3) -> None:
        """Logins racing disconnects, in whatever order the server sees them."""
        announced: list[Connection] = []
        self.app.on("connection", announced.append)
        clients = [await SocketClient().connect(self.url) for _ in range(count)]
        self.app.off("connection", announced.append)
        for client in clients:
            await client.sio.emit("create", ("authentication", self.credentials, {}))
        await asyncio.gather(*(client.close() for client in clients))
        for connection in announced:
            await self.events.wait("disconnect", connection)
        # A login the server received before the close has started by now; wait for it.
        await asyncio.wait_for(self.in_flight.idle.wait(), WAIT)


async def test_churn_with_logins_racing_disconnects_leaves_nothing(platform: Platform) -> None:
    _, token = await platform.member(EMAIL)
    churn = Churn(platform, token)
    for _ in range(CYCLES):
        await churn.ordinary()
        await churn.socket_login_after_disconnect()
        await churn.websocket_drops_during_handshake()
        await churn.handshake_login_after_polling_close()
        await churn.racing_logins()

    app, transport = platform.app, churn.transport
    assert app.channels == []
    assert app.channel("authenticated").connections == []
    assert transport.connections == {}
    sessions = app.service("authentication").raw._sessions
    assert sessions._expiry_timers == {} and sessions._payloads == {}
    assert not [sid for room in transport.sio.manager.rooms.get("/", {}).values() for sid in room]
    gc.collect()
    assert list(churn.seen) == [], "connections are kept alive after they closed"

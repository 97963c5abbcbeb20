"""Socket.IO over python-socketio: Feathers' method-call protocol and event delivery.

A client calls `emit(method, path, *args, query, ack)`; the ack gets `(null, result)` or a
single error (the app's presentation of it, `App.present_error`). Every incoming event is
answered, unknown ones with an error, so a client never waits forever. Events go out
through rooms (one per channel), which a Redis client manager carries to every process.

Each connection records the client's address as `ip` (`client_address`), so every call's
params carry it; with rate limits a call that failed before being charged is charged to it
afterwards, as over REST. `close_connection` closes a socket of this process or, through
the client manager, of another one, after telling it why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import socketio
from aiohttp import web
from engineio import packet as engineio_packet
from socketio import packet as socketio_packet
from socketio.async_pubsub_manager import AsyncPubSubManager

from .. import jsonutil
from ..channels import Connection
from ..errors import BadRequest, FeathersError, MethodNotAllowed, NotFound
from ..events import Delivery
from ..service import argument_names
from .client_address import client_address
from .inflight import InFlight
from .socket_server import GuardedSocketServer, SocketLimits
from .websocket_driver import message_frame, wire_of

if TYPE_CHECKING:
    from ..app import App

__all__ = ["SocketIOTransport"]

log = logging.getLogger("cryptorobot.socketio")

NAMESPACE = "/"


class _WireJSON:
    """`jsonutil` for python-socketio, except that a success acknowledgement that is not JSON
    becomes a GeneralError acknowledgement (as `present` shows it). python-socketio encodes
    the ack after our handler returned, in a task of its own: a failure there would leave
    the client waiting forever."""

    def __init__(self, present: Callable[[BaseException], FeathersError]) -> None:
        self.present = present

    def dumps(self, data: Any, **_: Any) -> str:
        try:
            return jsonutil.dumps(data)
        except (TypeError, ValueError) as failure:
            if isinstance(data, list) and len(data) == 2 and data[0] is None:  # (null, result)
                log.exception("a socket call's result is not JSON")
                return jsonutil.dumps([self.present(failure).to_json()])
            raise

    @staticmethod
    def loads(text: str | bytes, **_: Any) -> Any:
        return jsonutil.loads(text)


def _handshake_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    request = environ.get("aiohttp.request")
    if request is not None:
        return {name.lower(): value for name, value in request.headers.items()}
    return {key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")}


def _peer(environ: Mapping[str, Any]) -> str | None:
    request = environ.get("aiohttp.request")
    return request.remote if request is not None else environ.get("REMOTE_ADDR")


class SocketIOTransport:
    """Serves every registered service over Socket.IO and delivers published events."""

    def __init__(self, app: App, *, client_manager: socketio.AsyncManager | None = None,
                 cors_allowed_origins: str | list[str] | None = "*", path: str = "socket.io",
                 limits: SocketLimits | None = None, trusted_proxies: int = 0, **server_options: Any) -> None:
        """`trusted_proxies`: how many proxies in front append to `X-Forwarded-For` (`client_address`)."""
        self.app = app
        self.path = path
        self.trusted_proxies = trusted_proxies
        self.sio = GuardedSocketServer(  # bounded messages, calls in flight and queues: socket_server.py
            limits=limits, present_error=app.present_error, async_mode="aiohttp", client_manager=client_manager,
            json=_WireJSON(app.present_error), cors_allowed_origins=cors_allowed_origins, **server_options)
        self.connections: dict[str, Connection] = {}
        self.calls = InFlight()
        """Socket method calls in progress (a shutdown waits for them)."""
        self._network: set[asyncio.BaseTransport] = set()
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("*", self._on_event)
        app.events.transports.append(self)
        app.on("disconnect", self._close_if_open)

    def attach(self, web_app: web.Application) -> None:
        self.sio.attach(web_app, socketio_path=self.path)
        prefix = f"/{self.path.strip('/')}/"

        @web.middleware
        async def track_network_connections(request: web.Request, handler: Any) -> web.StreamResponse:
            """Keep the network connection under each Socket.IO request (a websocket, a long
            poll) while it lasts: `close_connections` closes them."""
            transport = request.transport
            if transport is None or not request.path.startswith(prefix):
                return await handler(request)
            self._network.add(transport)
            try:
                return await handler(request)
            finally:
                self._network.discard(transport)

        web_app.middlewares.append(track_network_connections)

    async def close_connections(self) -> None:
        """Close every connection under Socket.IO as a lost network would, so that clients
        reconnect by themselves and log in again: neither a Socket.IO disconnect (reason
        "io server disconnect") nor an Engine.IO CLOSE packet is sent, both of which some
        clients take as final. What is queued for a websocket is sent first.

        Each engine.io socket is closed without a word (the app sees `disconnect`), a
        pending long poll is answered, then the network connections are closed.
        """
        for socket in list(self.sio.eio.sockets.values()):
            if socket.closed:
                continue
            # A websocket's writer sends what is queued (`wait`); a polling client may not poll
            # again (a stopping server reads no new request), so nothing is waited for there.
            await socket.close(wait=socket.upgraded, abort=True)
            if not socket.upgraded:
                socket.queue.put_nowait(None)  # ends a pending long poll now
        for transport in list(self._network):
            transport.close()  # asyncio flushes what was written, then closes

    # -- connection life cycle -------------------------------------------------------------

    async def _on_connect(self, sid: str, environ: Mapping[str, Any], auth: Any = None) -> bool | None:
        headers = _handshake_headers(environ)
        connection = Connection("socketio", headers, transport=self, sid=sid)
        connection["ip"] = client_address(_peer(environ), headers, self.trusted_proxies)
        self.connections[sid] = connection
        try:
            await self.app.authenticate_connection(connection)
        except asyncio.CancelledError:
            # The web server cancels a handler whose client went away (aiohttp's
            # handler_cancellation). python-socketio would take the cancelled handler for a
            # success and register the sid; refusing makes it forget the sid instead.
            self._gone_during_handshake(sid, connection)
            return False
        except Exception as failure:
            # Like socket.io's middleware error: `connect_error` with `{message, data?}`.
            self.connections.pop(sid, None)
            if not isinstance(failure, FeathersError):
                log.exception("handshake authentication failed")
            refused = self.app.present_error(failure).to_json()
            reason = (refused["message"], refused["data"]) if "data" in refused else (refused["message"],)
            raise socketio.exceptions.ConnectionRefusedError(*reason) from None
        if not self._engine_open(sid):
            # The client left while the handshake ran: python-socketio does not report the
            # disconnect of a connection still being made. Refusing makes it forget the sid.
            self._gone_during_handshake(sid, connection)
            return False
        self.app.emit("connection", connection)
        return None

    def _engine_open(self, sid: str) -> bool:
        """Whether the engine.io socket under `sid` is still open."""
        socket = self.sio.eio.sockets.get(self.sio.manager.eio_sid_from_sid(sid, NAMESPACE))
        return socket is not None and not socket.closed and not socket.closing

    def _gone_during_handshake(self, sid: str, connection: Connection) -> None:
        """Forget a connection whose client left during the handshake; `disconnect` tells
        whoever saw its handshake login, and closes it."""
        self.connections.pop(sid, None)
        self.app.emit("disconnect", connection)

    async def _on_disconnect(self, sid: str, reason: Any = None) -> None:
        connection = self.connections.pop(sid, None)
        if connection is not None:
            self.app.emit("disconnect", connection)

    async def close_connection(self, sid: str, event: str, reason: Any) -> None:
        """Send `event` with `reason` to the socket `sid`, then disconnect it (a server
        disconnect: clients do not reconnect by themselves). A socket of another process is
        reached through the client manager (Redis); an unknown one is left alone."""
        here = sid in self.connections
        await self.sio.emit(event, (reason,), to=sid, namespace=NAMESPACE, ignore_queue=here)
        await self.sio.disconnect(sid, namespace=NAMESPACE, ignore_queue=here)

    async def _close_if_open(self, connection: Connection) -> None:
        """Server code emitting `disconnect` (e.g. token expiry) closes the socket."""
        if connection.transport is self and connection.sid is not None \
                and self.connections.pop(connection.sid, None) is not None:
            # Forgotten first, so the socket's own disconnect does not emit `disconnect` again.
            await self.sio.disconnect(connection.sid)

    # -- rooms (called by channels) ----------------------------------------------------------

    def enter_room(self, connection: Connection, room: str) -> None:
        if connection.sid in self.connections:
            self.sio.manager.basic_enter_room(connection.sid, NAMESPACE, room)

    def leave_room(self, connection: Connection, room: str) -> None:
        if connection.sid in self.connections:
            self.sio.manager.basic_leave_room(connection.sid, NAMESPACE, room)

    # -- method calls ------------------------------------------------------------------------

    async def _on_event(self, method: str, sid: str, *args: Any) -> Any:
        connection = self.connections.get(sid)
        params: dict[str, Any] = {**connection, "connection": connection} if connection is not None else {}
        failure: Exception | None = None
        try:
            with self.calls.track():
                result = await self._call(method, params, list(args))
        except Exception as caught:
            failure = caught
            if not isinstance(failure, FeathersError):
                log.exception("socket call '%s' failed", method)
        limits = self.app.rate_limits
        if limits is not None and connection is not None:
            failure = await limits.settle(params, failed=failure is not None) or failure
        if failure is not None:
            return self.app.present_error(failure).to_json()
        return None, result

    async def _call(self, method: str, params: dict[str, Any], args: list[Any]) -> Any:
        """Run the call with `params` (the connection's, spread, plus `connection`)."""
        if "connection" not in params:
            raise NotFound("Connection closed")
        if not args or not isinstance(args[0], str):
            raise NotFound("Invalid service path")
        path, *rest = args
        found = self.app.lookup(path)
        if found is None:
            raise NotFound(f"Service '{path}' not found")
        proxy, route = found.service, found.params
        if method not in proxy.methods:
            raise MethodNotAllowed(f"Method '{method}' not allowed on service '{path}'")
        names = argument_names(method)
        if len(rest) > len(names) + 1:
            raise BadRequest(f"Too many arguments for '{method}' method")
        values = rest[: len(names)] + [None] * (len(names) - len(rest[: len(names)]))
        query = rest[len(names)] if len(rest) > len(names) else None
        if query is None:
            query = {}
        if not isinstance(query, dict):
            raise BadRequest("The query must be an object")
        params.update(query=query, route=route)
        context = await proxy.run(method, values, params)
        return context.outgoing

    # -- event delivery ------------------------------------------------------------------------

    async def deliver(self, event_name: str, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            targets = [*delivery.rooms, *(c.sid for c in delivery.connections if c.transport is self)]
            if not targets:
                continue
            skip = [c.sid for c in delivery.skip if c.transport is self] or None
            if delivery.local or not isinstance(self.sio.manager, AsyncPubSubManager):
                await self._fan_out(event_name, delivery.payload, targets, skip)
            else:
                # A 1-tuple: python-socketio would send no argument at all for a bare None.
                await self.sio.emit(event_name, (delivery.payload,), to=targets, skip_sid=skip, namespace=NAMESPACE)

    async def _fan_out(self, event_name: str, payload: Any, targets: list[Any], skip: list[Any] | None) -> None:
        """Send one event to this process's sockets in `targets` (rooms or sids), as
        python-socketio's local emit does, minus its cost per recipient: the packet is
        encoded once into one websocket frame, whose bytes are written straight to each
        websocket that has nothing queued (`websocket_driver.py`); the packet is queued for
        the others (long polling, a busy connection), where python-socketio starts a task per
        recipient to do the same. A socket whose client stopped answering pings goes through
        engine.io's own send, which closes it; a slow consumer (its queue full, see
        `socket_server.py`) is dropped as any send would drop it."""
        encoded = self.sio.packet_class(socketio_packet.EVENT, namespace=NAMESPACE, data=[event_name, payload]).encode()
        message = engineio_packet.Packet(engineio_packet.MESSAGE, encoded)
        frame = message_frame(encoded)
        engine = self.sio.eio
        sockets, skipped = engine.sockets, set(skip or ())
        now = time.time()
        stale, slow = [], []
        for sid, eio_sid in self.sio.manager.get_participants(NAMESPACE, targets):
            socket = sockets.get(eio_sid)
            if socket is None or socket.closed or sid in skipped:
                continue
            if not engine.fresh(socket, now):
                stale.append(socket.send(message))
            elif engine.backed_up(socket):
                slow.append((eio_sid, socket))
            else:
                wire = wire_of(socket)
                if wire is None or not wire.write_now(frame):
                    socket.queue.put_nowait(message)
        for eio_sid, socket in slow:
            await engine.drop_slow_consumer(eio_sid, socket)
        for send in stale:
            with contextlib.suppress(Exception):
                await send

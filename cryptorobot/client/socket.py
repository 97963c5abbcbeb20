"""The client over Socket.IO (python-socketio's AsyncClient, websocket transport).

Calls are Feathers' socket calls (`feathers-wire.md` 4.3): `emit(method, path, [id], [data],
query)` with an acknowledgement that brings `(null, result)` or the error. Events pushed by
the server (`"<path> <event>"`, one argument) are handed to `deliver` in the order they arrive.

The connection is kept by one background task (`_keep_connected`), started by the first call:

* it connects, then `restore()` logs in again with the stored credentials before calls are let
  through (so a call never reaches a reconnected server anonymously), then announces `connect`
  (the first time) or `reconnect`;
* when the connection is lost it announces `disconnect` (with python-socketio's reason) and
  reconnects with Socket.IO's backoff (`reconnect_delay`: the first delay doubling up to the
  second, randomised by +-50 %), for ever;
* when the server itself ends the connection (a Socket.IO DISCONNECT packet, e.g. at token
  expiry), it does not reconnect at once (as Socket.IO clients do not): the next call does;
* when the server refuses the handshake (an invalid `X-API-Key`), calls waiting for it fail with
  `NotAuthenticated` and the next call tries again.

Calls made while there is no connection wait for it, at most `connect_timeout` seconds
(`errors.Timeout`, `data.reason` `"not-connected"`, naming the last connection problem). A call
whose answer was on its way when the connection was lost is sent again after the reconnection
when it is safe to repeat (find, get, a login), and fails with `errors.Unavailable`
(`data.reason` `"connection-lost"`) otherwise, since it may have run. An answer takes at most
`timeout` seconds (None: no limit; `errors.Timeout`, `data.reason` `"no-answer"`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import socketio

from .. import errors, jsonutil
from .calls import LOGIN_REFUSED, Call, Transport, backoff, connection_lost, error_from_wire, gave_up_waiting, wait_until

__all__ = ["SocketTransport"]

HANDSHAKE_TIMEOUT = 10.0
"""Seconds a connection attempt waits for the server to accept the Socket.IO namespace."""


class _WirePacket(socketio.packet.Packet):  # type: ignore[misc]
    """Socket.IO packets encoded with the wire JSON codec (dates as JS sends them, no NaN),
    for this client only (python-socketio's `json=` option would change every client and
    server of the process)."""

    json = jsonutil


class _Lost(Exception):
    """The connection went before the answer came (or there was none to send on)."""


def _settle(future: asyncio.Future[Any] | None, error: BaseException | None = None) -> None:
    if future is None or future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
        future.exception()  # retrieved: no "never retrieved" warning when nobody waited


def _root_cause(failure: BaseException) -> str:
    """The message of the exception at the bottom of `failure`'s chain (python-engineio says
    only "Connection error"; aiohttp under it says which host could not be reached, and why)."""
    while (failure.__cause__ or failure.__context__) is not None:
        failure = failure.__cause__ or failure.__context__  # type: ignore[assignment]
    return str(failure) or type(failure).__name__


def _answer(arguments: tuple[Any, ...]) -> Any:
    """The result of an acknowledgement `(null, result)`, or the error of `(error)`."""
    if arguments and arguments[0] is not None:
        raise error_from_wire(arguments[0])
    return arguments[1] if len(arguments) > 1 else None


class SocketTransport(Transport):
    """Feathers calls and events over one Socket.IO connection, kept open (module docstring)."""

    name = "socketio"
    events = True

    def __init__(self, url: str, *, headers: Mapping[str, str], timeout: float | None, connect_timeout: float,
                 reconnect_delay: tuple[float, float], restore: Callable[[], Awaitable[None]],
                 notify: Callable[..., None], deliver: Callable[..., None]) -> None:
        self.url = url
        self.headers = dict(headers)
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.reconnect_delay = reconnect_delay
        self._restore = restore
        self._notify = notify
        self._sio = socketio.AsyncClient(reconnection=False, handle_sigint=False, serializer=_WirePacket)
        self._sio.on("*", deliver)  # a plain function: called in the order the packets arrive
        self._sio.on("disconnect", self._on_disconnect)
        self._sio.on("connect_error", self._on_connect_error)
        self._runner: asyncio.Task[None] | None = None
        self._connected: asyncio.Future[None] | None = None
        """Resolved while connected: a login may be sent."""
        self._ready: asyncio.Future[None] | None = None
        """Resolved while calls may be sent (connected and logged in again)."""
        self._lost = asyncio.Event()
        self._lost_reason = ""
        self._goodbye = False
        self._answers: set[asyncio.Future[tuple[Any, ...]]] = set()
        self._problem: str | None = None
        self._refusal: Any = None
        self._ever_connected = False
        self._closed = False

    @property
    def connected(self) -> bool:
        return self._ready is not None and self._ready.done() and self._sio.connected

    async def connect(self) -> None:
        """Wait until calls can be sent: connected and logged in again (`connect_timeout`)."""
        await self._wait(self._gate(login=False), None)

    async def call(self, call: Call, *, login: bool = False) -> Any:
        """Send `call` once connected (a `login` does not wait for the stored login to be
        restored) and return its result (module docstring: waiting, repeating, timeouts)."""
        while True:
            await self._wait(self._gate(login), call)
            try:
                return await self.send_now(call)
            except _Lost:
                if not call.safe_to_repeat:
                    raise connection_lost(call, self.url) from None

    async def send_now(self, call: Call) -> Any:
        """Send `call` on the current connection and wait for its answer, without waiting for a
        connection or repeating; `_Lost` when the connection goes first (or there is none)."""
        answer: asyncio.Future[tuple[Any, ...]] = asyncio.get_running_loop().create_future()

        def acknowledge(*arguments: Any) -> None:
            if not answer.done():
                answer.set_result(arguments)

        self._answers.add(answer)
        try:
            try:
                await self._sio.emit(call.method, call.socket_arguments(), callback=acknowledge)
            except socketio.exceptions.BadNamespaceError:
                raise _Lost() from None
            try:
                arguments = await asyncio.wait_for(answer, self.timeout)
            except TimeoutError:
                raise errors.Timeout(f"No answer to {call} from {self.url} within {self.timeout:g} s",
                                     {"reason": "no-answer"}) from None
        finally:
            self._answers.discard(answer)
        return _answer(arguments)

    async def close(self) -> None:
        """Disconnect and stop reconnecting; waiting calls fail with RuntimeError."""
        if self._closed:
            return
        self._closed = True
        closed = RuntimeError("The client is closed")
        for future in (self._connected, self._ready, *self._answers):
            _settle(future, closed)
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
        await self._sio.disconnect()  # also when not connected: releases its HTTP session

    # -- the connection ----------------------------------------------------------------------

    def _gate(self, login: bool) -> asyncio.Future[None]:
        """The future a call waits on, starting the connection task if it is not running."""
        if self._closed:
            raise RuntimeError("The client is closed")
        if self._runner is None or self._runner.done():
            self._renew_gates()
            self._runner = asyncio.get_running_loop().create_task(self._run())
        gate = self._connected if login else self._ready
        assert gate is not None
        return gate

    async def _wait(self, gate: asyncio.Future[None], call: Call | None) -> None:
        deadline = asyncio.get_running_loop().time() + self.connect_timeout
        if not await wait_until(gate, deadline):
            raise gave_up_waiting(call, self.url, self.connect_timeout, self._problem)

    def _renew_gates(self) -> None:
        """Pending gates in place of settled ones: calls from now on wait for the next connection."""
        loop = asyncio.get_running_loop()
        if self._connected is None or self._connected.done():
            self._connected = loop.create_future()
        if self._ready is None or self._ready.done():
            self._ready = loop.create_future()

    async def _run(self) -> None:
        try:
            await self._keep_connected()
        except Exception as failure:  # e.g. a URL python-socketio can not use: calls fail with it
            self._problem = str(failure)
            for gate in (self._connected, self._ready):
                _settle(gate, failure)

    async def _keep_connected(self) -> None:
        """Connect at once, then after every loss wait (Socket.IO's backoff) and reconnect."""
        failures = 0
        while True:
            self._lost.clear()
            self._goodbye = False
            try:
                await self._sio.connect(self.url, headers=self.headers, transports=["websocket"], namespaces=["/"],
                                        wait_timeout=HANDSHAKE_TIMEOUT)
            except socketio.exceptions.ConnectionError as failure:
                if self._sio.failed_namespaces:  # the server refused the handshake: no retry
                    self._refused()
                    return
                self._problem = _root_cause(failure)
                await asyncio.sleep(backoff(failures, self.reconnect_delay))
                failures += 1
                continue
            self._problem = None
            if await self._open():
                failures = 0
                await self._lost.wait()
                self._notify("disconnect", self._lost_reason)
                if self._goodbye:
                    return  # the server ended it on purpose: the next call connects again
            else:  # lost again at once, or the login could not be restored
                failures += 1
            await asyncio.sleep(backoff(failures, self.reconnect_delay))

    async def _open(self) -> bool:
        """Let calls through on a new connection, after logging in again; then announce it.
        False if the connection was lost meanwhile."""
        _settle(self._connected)
        try:
            await self._restore()
        except _Lost:
            return False
        except errors.FeathersError as failure:
            if failure.code not in LOGIN_REFUSED:  # e.g. no answer in time: start over
                self._problem = f"logging in again failed: {failure.message}"
                await self._sio.disconnect()
                return False
            # The stored login was refused: calls that waited for it fail with its error,
            # later calls go out without it (the client has forgotten it).
            assert self._ready is not None
            _settle(self._ready, failure)
            self._ready = asyncio.get_running_loop().create_future()
        if self._lost.is_set():
            return False
        _settle(self._ready)
        reconnected, self._ever_connected = self._ever_connected, True
        self._notify("reconnect" if reconnected else "connect")
        return True

    def _refused(self) -> None:
        refusal = self._refusal if isinstance(self._refusal, dict) else {"message": str(self._refusal or "Refused")}
        failure = errors.from_json({"name": "NotAuthenticated", **refusal})
        self._problem = failure.message
        for gate in (self._connected, self._ready):
            _settle(gate, failure)

    # -- python-socketio's events (plain functions: they run before the next packet) -----------

    def _on_connect_error(self, data: Any = None) -> None:
        self._refusal = data

    def _on_disconnect(self, reason: str = "") -> None:
        if self._closed:
            return
        # A Socket.IO DISCONNECT packet arrives while the engine.io connection is still up.
        self._goodbye = reason == self._sio.reason.SERVER_DISCONNECT and self._sio.eio.state == "connected"
        self._lost_reason = "io server disconnect" if self._goodbye else reason
        self._renew_gates()
        for answer in self._answers:
            if not answer.done():
                answer.set_exception(_Lost())
        self._lost.set()

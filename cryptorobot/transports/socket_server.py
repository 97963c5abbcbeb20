"""python-socketio's server with bounds on what one connection may cost.

`GuardedSocketServer` is `socketio.AsyncServer` plus four rules, each answering the client
rather than leaving it waiting:

* **message size**: a Socket.IO message longer than `max_message_size` characters is not
  decoded; a call in it is answered with `413 PayloadTooLarge`. Engine.IO closes the socket
  on a message longer than twice that (it can not be read at all).
* **unreadable messages**: a message whose JSON does not parse (malformed, or nested
  deeper than the parser goes: a 10,000-level packet) is answered with `400 BadRequest`
  when it is a call with an acknowledgement id, and otherwise closes the socket.
  python-socketio would log a traceback and drop it, and the caller would wait forever.
* **calls in flight**: at most `max_calls_in_flight` calls of one connection run at once;
  a call beyond that is answered at once with `429 TooManyRequests` (`TooManyCallsInFlight`)
  and never queued. Budgets of calls per user or address are `cryptorobot.ratelimit`'s.
* **slow consumers**: a socket with `max_queued_packets` packets waiting to go out is
  dropped (the app sees its `disconnect`), and a websocket that does not take one frame
  within `send_timeout` seconds has its TCP connection aborted. Without these a client
  that never reads would make its queue grow without bound. (Frames written straight to a
  websocket, `websocket_driver.py`, are written only while its TCP buffer is small; past
  that, packets queue and these bounds apply.)

Each refusal is logged as one line, once per connection for the flood-prone ones, and
answered as `present_error` shows it (the app's `App.present_error`). The server's `json`
codec is its own packet class's (python-socketio sets it on the class all servers share).

These rules hook into python-socketio and python-engineio below their public API (the
packet class, `_handle_eio_message`, `_handle_event`, `_handle_event_internal`, the
websocket session of `websocket_driver.py`); `pyproject.toml` pins the major versions they were written for,
and `tests/transports/test_socket_limits.py` fails if an upgrade changes them.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import engineio
import socketio
from socketio import packet as sio_packet

from ..errors import BadRequest, FeathersError, PayloadTooLarge, TooManyCallsInFlight, convert
from .websocket_driver import LeanWebSocket, message_frame, wire_of

__all__ = ["GuardedSocketServer", "SocketLimits", "UnreadablePacket"]

log = logging.getLogger("cryptorobot.socketio")


@dataclass(frozen=True)
class SocketLimits:
    """What one Socket.IO connection may cost; see the module docstring. Sizes in
    characters of the encoded message, times in seconds."""

    max_message_size: int = 1024 * 1024
    max_calls_in_flight: int = 64
    max_queued_packets: int = 1000
    send_timeout: float = 10.0


class UnreadablePacket(ValueError):
    """A message that was not decoded; `packet` holds what its header said (type,
    namespace, ack id) and `error` the answer for the client."""

    def __init__(self, packet: sio_packet.Packet, error: FeathersError) -> None:
        super().__init__(error.message)
        self.packet = packet
        self.error = error


class _HeaderOnly:
    """A JSON codec that reads nothing: decodes a packet's header and skips its data."""

    @staticmethod
    def loads(text: str, **_: Any) -> None:
        return None


class _CheckedPacket(sio_packet.Packet):
    """A Socket.IO packet that raises `UnreadablePacket` instead of decoding an oversized
    message or failing on bad JSON; the header is read either way."""

    max_size: ClassVar[int] = SocketLimits.max_message_size
    uses_binary_events = False
    """Outgoing data is JSON only (`jsonutil` refuses bytes, as the Feathers clients expect
    no binary), so python-socketio's recursive search of every payload for bytes is skipped."""

    def decode(self, encoded_packet: Any) -> int:
        if isinstance(encoded_packet, str) and len(encoded_packet) > self.max_size:
            self.json = _HeaderOnly
            super().decode(encoded_packet)
            raise UnreadablePacket(self, PayloadTooLarge(f"Socket message larger than {self.max_size} characters",
                                                         {"limit": "socketio.max_message_size", "max": self.max_size}))
        try:
            return super().decode(encoded_packet) or 0
        except (ValueError, RecursionError) as problem:
            raise UnreadablePacket(self, BadRequest(f"Unreadable socket message: {problem}")) from None


class _BoundedEngineServer(engineio.AsyncServer):
    """python-engineio's server with a bounded outgoing queue per socket, serving websockets
    with `LeanWebSocket` (frames written straight to the connection when nothing is queued)."""

    def __init__(self, *, limits: SocketLimits, **options: Any) -> None:
        super().__init__(**options)
        self.max_queued_packets = limits.max_queued_packets
        self.send_timeout = limits.send_timeout
        self._async: dict[str, Any] = {**self._async, "websocket": LeanWebSocket}

    async def send_packet(self, sid: str, pkt: Any) -> None:
        socket = self.sockets.get(sid)
        if socket is not None and not socket.closed:
            if self.backed_up(socket):
                await self.drop_slow_consumer(sid, socket)
                return
            if pkt.packet_type == engineio.packet.MESSAGE and isinstance(pkt.data, str) and self.fresh(socket):
                wire = wire_of(socket)
                if wire is not None and wire.write_now(message_frame(pkt.data)):
                    return
        await super().send_packet(sid, pkt)

    def fresh(self, socket: Any, now: float | None = None) -> bool:
        """Whether `socket`'s client answered its last ping in time (else Engine.IO's own send
        closes it, and only that send should be used)."""
        return not socket.last_ping or socket.last_ping >= (now or time.time()) - self.ping_timeout

    def backed_up(self, socket: Any) -> bool:
        """Whether `socket` has `max_queued_packets` waiting to go out: a slow consumer.
        Every send checks it first, this server's own and the transport's fan-out alike."""
        return bool(socket.queue.qsize() >= self.max_queued_packets)

    async def drop_slow_consumer(self, sid: str, socket: Any) -> None:
        log.warning("socket %s has %d packets waiting to go out: dropped as a slow consumer", sid, socket.queue.qsize())
        await self.drop(sid, notify=False)

    async def drop(self, sid: str, *, notify: bool = True) -> None:
        """Close a socket at once, without waiting for its queue to drain (it may never).

        `notify` queues Engine.IO's CLOSE packet first (a client that reads learns why);
        then the websocket writer is told to stop, which closes the connection. A writer
        stuck on a peer that does not read is cut off by the send timeout instead.
        """
        socket = self.sockets.pop(sid, None)
        if socket is not None and not socket.closed:
            await socket.close(wait=False, abort=not notify, reason=self.reason.TRANSPORT_ERROR)
            socket.queue.put_nowait(None)


class GuardedSocketServer(socketio.AsyncServer):
    """`socketio.AsyncServer` with the bounds of `limits` (see the module docstring)."""

    def __init__(self, *, limits: SocketLimits | None = None,
                 present_error: Callable[[BaseException], FeathersError] = convert, **options: Any) -> None:
        self.limits = limits or SocketLimits()
        self.present_error = present_error
        # Twice the soft limit: a message in between is read far enough to answer 413.
        options["max_http_buffer_size"] = 2 * self.limits.max_message_size
        super().__init__(**options)
        self.packet_class = type("CheckedPacket", (_CheckedPacket,), {
            "max_size": self.limits.max_message_size, "json": options.get("json") or sio_packet.Packet.json})
        self._calls_in_flight: dict[str, int] = {}
        self._warned: set[str] = set()

    def _engineio_server_class(self) -> Any:
        return functools.partial(_BoundedEngineServer, limits=self.limits)

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        try:
            await super()._handle_eio_message(eio_sid, data)
        except UnreadablePacket as unreadable:
            await self._answer_unreadable(eio_sid, unreadable)
        except ValueError as refused:  # a packet type or sequence python-socketio does not take
            log.warning("socket %s: %s; closed", eio_sid, refused)
            await self.eio.drop(eio_sid)

    async def _answer_unreadable(self, eio_sid: str, unreadable: UnreadablePacket) -> None:
        packet, error = unreadable.packet, unreadable.error
        namespace = packet.namespace or "/"
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if packet.packet_type == sio_packet.EVENT and packet.id is not None and self.manager.is_connected(sid, namespace):
            log.warning("socket %s: %s (%d); answered", sid, error.message, error.code)
            await self._answer(eio_sid, packet.namespace, packet.id, error)
        else:
            log.warning("socket %s: %s (%d); closed", eio_sid, error.message, error.code)
            await self.eio.drop(eio_sid)

    async def _answer(self, eio_sid: str, namespace: str | None, id: int, error: FeathersError) -> None:
        await self._send_packet(eio_sid, self.packet_class(sio_packet.ACK, namespace=namespace, id=id,
                                                           data=[self.present_error(error).to_json()]))

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: int | None, data: Any) -> None:
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace or "/")
        if not self.manager.is_connected(sid, namespace or "/"):
            return await super()._handle_event(eio_sid, namespace, id, data)  # logs and drops it
        if not (isinstance(data, list) and data and isinstance(data[0], str)):
            log.warning("socket %s: an event that is not [name, ...arguments]", sid)
            if id is not None:
                await self._answer(eio_sid, namespace, id, BadRequest("A socket event must be [name, ...arguments]"))
            return None
        running = self._calls_in_flight.get(eio_sid, 0)
        limit = self.limits.max_calls_in_flight
        if running >= limit:
            if eio_sid not in self._warned:
                self._warned.add(eio_sid)
                log.warning("socket %s has %d calls running: further calls refused with 429 until some finish",
                            sid, running)
            if id is not None:
                await self._answer(eio_sid, namespace, id, TooManyCallsInFlight(
                    f"Too many calls in flight on this connection (at most {limit})",
                    {"limit": "socketio.max_calls_in_flight", "max": limit}))
            return None
        self._calls_in_flight[eio_sid] = running + 1
        return await super()._handle_event(eio_sid, namespace, id, data)

    async def _handle_event_internal(self, server: Any, sid: str, eio_sid: str, data: Any,
                                     namespace: str | None, id: int | None) -> None:
        try:
            await super()._handle_event_internal(server, sid, eio_sid, data, namespace, id)
        finally:
            running = self._calls_in_flight.get(eio_sid, 1) - 1
            if running > 0:
                self._calls_in_flight[eio_sid] = running
            else:
                self._calls_in_flight.pop(eio_sid, None)

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any = None) -> None:
        self._warned.discard(eio_sid)
        await super()._handle_eio_disconnect(eio_sid, reason)

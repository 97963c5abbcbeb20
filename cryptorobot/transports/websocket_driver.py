"""Engine.IO's websocket transport on aiohttp, lean: frames written straight to the socket.

python-engineio's aiohttp driver runs each websocket with a writer task fed by the socket's
queue (woken once per packet through `asyncio.wait_for`, a task per wait), a task per
received message, and aiohttp's per-message deflate on every outgoing frame. This driver
replaces that session (`AsyncSocket._websocket_handler`, Engine.IO protocol 4) with:

* **direct writes**: `write_now(frame)` puts an encoded frame on the TCP transport at once
  when nothing is queued before it, the queue's writer is idle and the transport's buffer is
  under `HIGH_WATER` bytes; otherwise the caller queues the packet as before. So the order of
  a socket's packets is kept, and a client that does not read still ends up with a growing
  queue, which `socket_server.py` bounds (slow consumers dropped). A room's event is encoded
  into one frame (`message_frame`) and the same bytes are written to every recipient;
* **no compression**: frames are never deflated (`compress=False`), so no extension is
  negotiated and a frame's bytes are the same for every connection;
* **a plain read loop**: one `receive(timeout)` per message on the connection's own task.

Outgoing sends that do go through the queue give up after the server's `send_timeout`
seconds, aborting the TCP connection: a peer that stopped reading is cut off.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from typing import Any

from aiohttp import WSMsgType
from aiohttp.web import WebSocketResponse
from engineio import exceptions as engineio_exceptions
from engineio import packet as engineio_packet

__all__ = ["HIGH_WATER", "LeanWebSocket", "message_frame", "text_frame", "wire_of"]

log = logging.getLogger("cryptorobot.socketio")

HIGH_WATER = 64 * 1024
"""Bytes waiting in a transport's buffer above which frames go through the socket's queue."""

_WIRE = "_cryptorobot_wire"


def text_frame(payload: bytes) -> bytes:
    """A final, unmasked, uncompressed websocket text frame carrying `payload` (RFC 6455 §5.2:
    a server's frames are not masked; lengths of 126+ bytes take 2, of 65,536+ take 8 bytes)."""
    size = len(payload)
    if size < 126:
        return struct.pack("!BB", 0x81, size) + payload
    if size < 65536:
        return struct.pack("!BBH", 0x81, 126, size) + payload
    return struct.pack("!BBQ", 0x81, 127, size) + payload


def message_frame(encoded: str) -> bytes:
    """The websocket frame of an Engine.IO MESSAGE packet whose data is `encoded` (a Socket.IO
    packet's text): `4` + the text, UTF-8."""
    return text_frame(b"4" + encoded.encode())


def wire_of(socket: Any) -> LeanWebSocket | None:
    """The lean websocket an Engine.IO socket is served on, while it accepts direct writes."""
    return getattr(socket, _WIRE, None)


class LeanWebSocket:
    """An Engine.IO websocket driver (`AsyncServer._async["websocket"]`); see the module docstring.

    Engine.IO builds it with the socket's bound `_websocket_handler` and calls it with the
    request's environ; this driver serves the session itself instead of that handler.
    """

    def __init__(self, handler: Any, server: Any) -> None:
        self.handler = handler
        self.server = server
        self.environ: dict[str, Any] = {}
        self._sock: WebSocketResponse | None = None
        self._transport: asyncio.Transport | None = None
        self._socket: Any = None
        self._open = False
        self._writing = False

    async def __call__(self, environ: dict[str, Any]) -> WebSocketResponse:
        request = environ["aiohttp.request"]
        self._sock = WebSocketResponse(max_msg_size=self.server.max_http_buffer_size, compress=False)
        await self._sock.prepare(request)
        self.environ = environ
        self._transport = request.transport
        self._socket = self.handler.__self__  # the Engine.IO socket being upgraded or opened
        await self._serve(self._socket)
        return self._sock

    # -- writing ---------------------------------------------------------------------------

    def write_now(self, frame: bytes) -> bool:
        """Write `frame` to the connection now if nothing must go before it (see the module
        docstring); False when the caller must queue the packet instead."""
        transport, socket = self._transport, self._socket
        if (not self._open or self._writing or socket.closing or socket.closed or not socket.queue.empty()
                or transport is None or transport.is_closing() or transport.get_write_buffer_size() > HIGH_WATER):
            return False
        transport.write(frame)
        return True

    async def send(self, message: str | bytes) -> None:
        """Send one encoded Engine.IO packet, within the server's `send_timeout`."""
        assert self._sock is not None
        try:
            async with asyncio.timeout(self.server.send_timeout):
                if isinstance(message, bytes):
                    await self._sock.send_bytes(message)
                else:
                    await self._sock.send_str(message)
        except TimeoutError:
            log.warning("a websocket took no data for %s s: connection aborted", self.server.send_timeout)
            if self._transport is not None:
                self._transport.abort()
            raise

    async def close(self) -> None:
        if self._sock is not None:
            await self._sock.close()

    async def _write_queued(self, queue: asyncio.Queue[Any]) -> None:
        """Send what the socket's queue gets (pings, the close packet, whatever came while the
        transport was busy) until it gets None, then close the websocket."""
        ended = False
        while not ended:
            packets = [await queue.get()]
            queue.task_done()
            while not queue.empty():
                packets.append(queue.get_nowait())
                queue.task_done()
            if None in packets:
                packets, ended = packets[:packets.index(None)], True
            self._writing = True
            try:
                for packet in packets:
                    await self.send(packet.encode())
            except Exception:  # the connection is gone: nothing more can be sent
                ended = True
            finally:
                self._writing = False
        self._open = False
        await self.close()

    # -- the session -------------------------------------------------------------------------

    async def _receive(self, timeout: float) -> str | bytes | None:
        """The next message's data; None when the connection closed, failed, timed out or was
        cancelled (the web server cancels the handler of a client that left)."""
        assert self._sock is not None
        try:
            message = await self._sock.receive(timeout)
        except (TimeoutError, asyncio.CancelledError):
            return None
        if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            return None
        data: str | bytes = message.data
        return data if len(data) <= self.server.max_http_buffer_size else None

    async def _upgraded(self, socket: Any, timeout: float) -> bool:
        """Engine.IO's upgrade of a long-polling socket: `2probe` → `3probe`, then `5`."""
        socket.upgrading = True
        try:
            probe = await self._receive(timeout)
            if probe is None or probe != "2probe":
                return False
            await self.send(engineio_packet.Packet(engineio_packet.PONG, data="probe").encode())
            await socket.queue.put(engineio_packet.Packet(engineio_packet.NOOP))  # ends the pending poll
            upgrade = await self._receive(timeout)
            if upgrade is None or engineio_packet.Packet(encoded_packet=upgrade).packet_type != engineio_packet.UPGRADE:
                return False
            socket.upgraded = True
            return True
        finally:
            socket.upgrading = False

    async def _serve(self, socket: Any) -> None:
        server = self.server
        timeout = server.ping_interval + server.ping_timeout
        if socket.connected:
            if not await self._upgraded(socket, timeout):
                return
        else:
            socket.connected = True
            socket.upgraded = True
        writer = asyncio.ensure_future(self._write_queued(socket.queue))
        self._open = True
        setattr(socket, _WIRE, self)
        try:
            while (data := await self._receive(timeout)) is not None:
                try:
                    await socket.receive(engineio_packet.Packet(encoded_packet=data))
                except engineio_exceptions.UnknownPacketError:
                    pass
                except engineio_exceptions.SocketIsClosedError:
                    break
                except Exception:
                    log.exception("a websocket message could not be handled")
        finally:
            self._open = False
            setattr(socket, _WIRE, None)
            socket.queue.put_nowait(None)  # the writer sends what is queued, then ends
            # Shielded: the web server cancels the handler of a client that left, which must
            # not leave Engine.IO with a socket that is never closed.
            await asyncio.shield(self._finish(socket, writer))

    async def _finish(self, socket: Any, writer: asyncio.Future[None]) -> None:
        await writer
        await socket.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)

"""`RawSocket`: a Socket.IO client at the packet level, for messages no well-behaved client
sends (oversized, undecodable, deeply nested, floods, never reading)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from tests.conftest import WAIT


class RawSocket:
    """One Engine.IO websocket connected to the `/` namespace; `send` writes a Socket.IO
    packet as text, `answer(id)` waits for the acknowledgement with that id."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.acks: dict[int, Any] = {}
        self.events: list[Any] = []

    @classmethod
    async def connect(cls, http_client: Any, headers: dict[str, str] | None = None) -> RawSocket:
        ws = await http_client.ws_connect("/socket.io/?EIO=4&transport=websocket", headers=headers or {})
        socket = cls(ws)
        opening = await socket._next_text()
        assert opening.startswith("0"), opening
        await ws.send_str("40")
        connected = await socket._next_text()
        assert connected.startswith("40"), connected
        return socket

    async def _next_text(self) -> str:
        message = await asyncio.wait_for(self.ws.receive(), WAIT)
        if message.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"the socket was closed ({message.type.name})")
        return message.data

    async def send(self, packet: str) -> None:
        """Send one Socket.IO packet (`2<id>[...]` is an event with an ack id)."""
        await self.ws.send_str("4" + packet)

    async def call(self, id: int, *args: Any) -> Any:
        await self.send(f"2{id}{json.dumps(list(args))}")
        return await self.answer(id)

    async def answer(self, id: int) -> Any:
        """The arguments of the acknowledgement `id` (a list), waiting for it."""
        while id not in self.acks:
            await self._read_one()
        return self.acks.pop(id)

    async def _read_one(self) -> None:
        text = await self._next_text()
        if text == "2":  # Engine.IO ping
            await self.ws.send_str("3")
            return
        if text.startswith("43"):
            body = text[2:]
            digits = len(body) - len(body.lstrip("0123456789"))
            self.acks[int(body[:digits])] = json.loads(body[digits:])
        elif text.startswith("42"):
            self.events.append(json.loads(text[2:]))

    async def closed(self) -> bool:
        """True once the server has closed the connection (reading what is left first)."""
        try:
            while True:
                await self._read_one()
        except ConnectionError:
            return True

    async def close(self) -> None:
        await self.ws.close()

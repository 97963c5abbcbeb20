"""Shared fixtures: a real HTTP server for an App and real Socket.IO clients connected to it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import socketio

WAIT = 5.0
"""Longest wait for anything that should happen; a passing test never waits this long."""


class SocketClient:
    """A python-socketio client that records every event pushed to it, in order."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: list[tuple[str, tuple[Any, ...]]] = []
        self._arrived = asyncio.Event()
        self.disconnected = asyncio.Event()
        self.sio.on("*", self._record)
        self.sio.on("disconnect", self._on_disconnect)

    async def _record(self, event: str, *args: Any) -> None:
        self.received.append((event, args))
        self._arrived.set()

    async def _on_disconnect(self, *_: Any) -> None:
        self.disconnected.set()

    async def connect(self, url: str, headers: dict[str, str] | None = None,
                      transports: tuple[str, ...] = ("websocket",)) -> SocketClient:
        await self.sio.connect(url, headers=headers or {}, transports=list(transports), wait_timeout=WAIT)
        return self

    async def call(self, method: str, *args: Any) -> Any:
        """Emit `method` with `args` and return the acknowledgement: a tuple for two or more
        arguments, the single argument itself, or None for none."""
        return await self.sio.call(method, args, timeout=WAIT)

    async def next_event(self) -> tuple[str, tuple[Any, ...]]:
        """The oldest event not yet taken, waiting for one to arrive."""
        while not self.received:
            self._arrived.clear()
            await asyncio.wait_for(self._arrived.wait(), WAIT)
        return self.received.pop(0)

    async def events(self, count: int) -> list[tuple[str, tuple[Any, ...]]]:
        return [await self.next_event() for _ in range(count)]

    async def close(self) -> None:
        if not self.sio.connected:
            return
        if self.sio.transport() == "polling":
            # python-engineio's server leaves the pending long-poll GET open after a client
            # CLOSE, and the client's graceful disconnect waits for it (up to 25 s).
            await self.sio.eio.disconnect(abort=True)
        else:
            await self.sio.disconnect()


@pytest.fixture
async def serve(aiohttp_client: Any) -> Callable[[Any], Awaitable[Any]]:
    """`await serve(app)`: the aiohttp test client of a running server for `app`."""

    from cryptorobot.server import create_web_app  # here, so other tests never import servers

    async def start(app: Any) -> Any:
        return await aiohttp_client(create_web_app(app))

    return start


@pytest.fixture
async def sockets(serve: Any) -> Any:
    """`await sockets(http_client, headers=None)`: a connected SocketClient; all are closed
    before the server stops."""
    clients: list[SocketClient] = []

    async def connect(http_client: Any, headers: dict[str, str] | None = None,
                      transports: tuple[str, ...] = ("websocket",)) -> SocketClient:
        client = SocketClient()
        clients.append(client)
        url = str(http_client.make_url("")).rstrip("/")
        return await client.connect(url, headers, transports)

    yield connect
    for client in clients:
        await client.close()


async def settle(app: Any, *clients: SocketClient) -> None:
    """A barrier: every event queued so far has reached every given client.

    The publisher is drained (all emits handed to the sockets), then each client makes one
    round trip; packets on one socket arrive in order, so earlier events came first.
    """
    await app.events.drain()
    for client in clients:
        await client.call("barrier")


@pytest.fixture
def settled() -> Callable[..., Awaitable[None]]:
    return settle


@pytest.fixture
async def fake_binance() -> Any:
    """A started local exchange server in Binance spot's wire format (tests/fakes/binance.py)."""
    from tests.fakes.binance import FakeBinance

    fake = await FakeBinance().start()
    yield fake
    await fake.close()


class LimitsTime:
    """The wall clock of in-memory rate-limit counters (the `limits` library reads
    `time.time()`), frozen at the real time and moved only by `advance`."""

    def __init__(self) -> None:
        import time

        self.now = time.time()

    def time(self) -> float:
        return self.now

    monotonic = time

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def limits_time(monkeypatch: pytest.MonkeyPatch) -> LimitsTime:
    """Frozen time for `MemoryCounters` (windows, `Retry-After`): `limits_time.advance(61)`
    lets a minute pass without waiting for it."""
    import limits.storage.memory

    import cryptorobot.ratelimit.counters

    clock = LimitsTime()
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    monkeypatch.setattr(cryptorobot.ratelimit.counters, "time", clock)
    return clock

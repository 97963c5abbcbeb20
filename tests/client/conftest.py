"""Fixtures of the client tests: servers over real sockets, clients closed after each test."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cryptorobot import App
from cryptorobot.client import Client
from tests.client.client_app import create_app, create_platform

WAIT = 10.0
"""Longest wait for anything that should happen; a passing test never waits this long."""
TRANSPORTS = ["socketio", "rest"]


@dataclass
class Served:
    app: App
    url: str
    http: Any


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def served(serve: Any) -> Served:
    """The test app (`client_app.create_app`) on a real HTTP server of this test's loop."""
    app = create_app()
    http = await serve(app)
    return Served(app, str(http.make_url("")).rstrip("/"), http)


@pytest.fixture
async def platform(serve: Any, tmp_path: Path) -> Served:
    """The platform (memory storage) on a real HTTP server of this test's loop."""
    app = create_platform(str(tmp_path))
    http = await serve(app)
    return Served(app, str(http.make_url("")).rstrip("/"), http)


@pytest.fixture
async def clients() -> Any:
    """`make(url, **options)`: a Client with quick reconnection, closed after the test."""
    made: list[Client] = []

    def make(url: str, **options: Any) -> Client:
        client = Client(url, **{"connect_timeout": WAIT, "reconnect_delay": (0.05, 0.5), **options})
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


class Inbox:
    """What a handler received, in order; `next()` waits for the next one."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._arrived = asyncio.Event()

    def __call__(self, *args: Any) -> None:
        self.items.append(args[0] if len(args) == 1 else args)
        self._arrived.set()

    async def next(self, timeout: float = WAIT) -> Any:
        while not self.items:
            self._arrived.clear()
            await asyncio.wait_for(self._arrived.wait(), timeout)
        return self.items.pop(0)


@pytest.fixture
def inbox() -> Callable[[], Inbox]:
    return Inbox

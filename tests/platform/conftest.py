"""The platform app (`create_app`) served over real HTTP and Socket.IO, once per storage.

Every test that uses `platform` (or `make_platform`) runs with the memory adapter and with
the embedded SQLite file in a fresh data directory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from cryptorobot.clock import Clock
from cryptorobot.config import load_config
from platform_support import STORAGES, Platform, merged


@pytest.fixture(params=STORAGES)
def storage(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_platform(storage: str, tmp_path: Path, serve: Any) -> Callable[..., Awaitable[Platform]]:
    """`await make_platform(clock=None, **settings)`: the platform with settings merged over the
    test config, on `clock` (default: the system clock)."""
    from cryptorobot.platform import create_app

    async def make(clock: Clock | None = None, **overrides: Any) -> Platform:
        settings = merged({**load_config("test", environ={}), "data_dir": str(tmp_path), "storage": storage}, overrides)
        app = create_app(settings, clock=clock)
        return Platform(app, await serve(app))

    return make


@pytest.fixture
async def platform(make_platform: Callable[..., Awaitable[Platform]]) -> Platform:
    return await make_platform()

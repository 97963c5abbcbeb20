"""Adapter fixtures: every test using `make_service` (or `service`) runs once per adapter.

Adding an adapter is one entry in `FACTORIES`: an async function `(tmp_path, **options)`
returning a service that is already set up (the fixture tears it down).

An adapter that deviates on purpose marks the test, and it then must fail for that adapter:

    @pytest.mark.deviation("mongodb", reason="nx-27017 compares datetimes per second")
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from cryptorobot.adapters import AdapterService, MemoryService

Factory = Callable[..., Awaitable[AdapterService]]


async def memory_service(tmp_path: Path, **options: Any) -> AdapterService:
    service = MemoryService(**options)
    await service.setup(None, "test")
    return service


async def sqlite_service(tmp_path: Path, **options: Any) -> AdapterService:
    from cryptorobot.adapters import SqliteService

    service = SqliteService(path=str(tmp_path / "test.sqlite3"), **options)
    await service.setup(None, "test")
    return service


FACTORIES: dict[str, Factory] = {
    "memory": memory_service,
    "sqlite": sqlite_service,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "deviation(adapter, reason): the adapter knowingly fails this test")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        adapter = getattr(item, "callspec", None) and item.callspec.params.get("adapter")
        for marker in item.iter_markers("deviation"):
            if marker.args[0] == adapter:
                item.add_marker(pytest.mark.xfail(reason=marker.kwargs["reason"], strict=True))


@pytest.fixture(params=list(FACTORIES))
def adapter(request: pytest.FixtureRequest) -> str:
    """The name of the adapter under test."""
    return request.param


@pytest.fixture
async def make_service(adapter: str, tmp_path: Path):
    """`await make_service(**options)`: a fresh service of the adapter under test."""
    services: list[AdapterService] = []

    async def make(**options: Any) -> AdapterService:
        service = await FACTORIES[adapter](tmp_path, **options)
        services.append(service)
        return service

    yield make
    for service in services:
        await service.teardown()


@pytest.fixture
async def service(make_service) -> AdapterService:
    """A service registered as the Feathers adapter tests expect: events ["testing"],
    pagination and multi off."""
    return await make_service(events=["testing"])

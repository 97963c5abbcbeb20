"""Adapter fixtures: every test using `make_service` (or `service`) runs once per adapter.

Adding an adapter is one entry in `FACTORIES`: an async function `(tmp_path, **options)`
returning a service that is already set up (the fixture tears it down).

An adapter that deviates on purpose marks the test, and it then must fail for that adapter:

    @pytest.mark.deviation("mongodb", reason="nx-27017 compares datetimes per second")

MongoDB runs twice over: "mongodb" against nx-27017 (a MongoDB wire-protocol server on
SQLite, started once per session on a free port with a temporary data directory, see
`nx_server.py`), whose own deviations from MongoDB are marked with that name; and, when
MONGODB_URL is set, "mongodb-url" against that server, where only marks naming
"mongodb-url" (MongoDB's own behaviour) apply. Each test gets a database of its own,
dropped when its services are torn down.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import nx_server
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


def mongodb_database(tmp_path: Path) -> str:
    """One database per test (services of one test share it, as they share a SQLite file)."""
    return _MONGODB_DATABASES.setdefault(str(tmp_path), f"crtest_{uuid.uuid4().hex[:16]}")


_MONGODB_DATABASES: dict[str, str] = {}


async def _mongodb_service(url: str, tmp_path: Path, **options: Any) -> AdapterService:
    from cryptorobot.adapters import MongoService

    class DroppingMongoService(MongoService):
        """Drops the test's database when torn down."""

        async def teardown(self) -> None:
            if self.client is not None:
                await self.client.drop_database(self.options["database"])
            await super().teardown()

    options.setdefault("id", "id")  # the suite's records call their id "id"
    options["client_options"] = {"serverSelectionTimeoutMS": 5000, **options.get("client_options", {})}
    service = DroppingMongoService(url=url, database=mongodb_database(tmp_path), **options)
    await service.setup(None, "test")
    return service


async def mongodb_service(tmp_path: Path, **options: Any) -> AdapterService:
    """MongoDB as nx-27017 serves it: one server per session, started on first use."""
    return await _mongodb_service(nx_server.shared().url, tmp_path, **options)


async def mongodb_url_service(tmp_path: Path, **options: Any) -> AdapterService:
    """The MongoDB server at $MONGODB_URL (a real one): no deviation marks apply to it
    except those naming "mongodb-url" (MongoDB's own behaviour)."""
    return await _mongodb_service(os.environ["MONGODB_URL"], tmp_path, **options)


FACTORIES: dict[str, Factory] = {
    "memory": memory_service,
    "sqlite": sqlite_service,
    "mongodb": mongodb_service,
}
if os.environ.get("MONGODB_URL"):
    FACTORIES["mongodb-url"] = mongodb_url_service


@pytest.fixture(scope="session", autouse=True)
def _stop_test_servers():
    """Servers started on first use (nx-27017) stop when the session ends."""
    yield
    nx_server.stop_shared()


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

"""Property-based fuzzing of the REST API from its own `/openapi.json` (schemathesis).

A live server runs on a thread; schemathesis generates requests for every documented
operation from the document the server publishes, sends them over real HTTP and checks each
response: no server error, a documented status, JSON content, and a body that conforms to
the documented response schema. Valid (positive) and invalid (negative) cases, bounded by
`POSITIVE`/`NEGATIVE` per operation so each run stays well under a minute. Two apps:

* the sample app (memory and SQLite services with every schema kind), anonymous;
* the platform (`create_app`: health, users, api-keys, authentication, candles, exchanges; SQLite storage), with
  a signed-up user's bearer token on every request, so the generated cases get past
  authentication and reach the schemas, the owner restriction and the adapter.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cryptorobot import App
from cryptorobot.config import load_config
from cryptorobot.server import create_web_app
from schema_sample import SEED, build_app, seed

POSITIVE, NEGATIVE = 15, 10
"""Generated cases per operation, valid and invalid (16 operations: at most 400 requests)."""
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
PASSWORD = "correct horse battery"

class LiveServer:
    """An app served on 127.0.0.1 from a thread with its own event loop.

    `make_app` builds it (on that loop); `prepare`, if given, runs once it is serving.
    """

    def __init__(self, make_app: Callable[[], App], prepare: Callable[[App], Awaitable[None]] | None = None) -> None:
        self.make_app = make_app
        self.prepare = prepare
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="fuzz-server", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        app = self.make_app()
        runner = web.AppRunner(create_web_app(app))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        if self.prepare is not None:
            await self.prepare(app)
        port = runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._stop = asyncio.Event()
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()

    def start(self) -> LiveServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fuzz server did not start")
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    path = str(tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite3")
    server = LiveServer(lambda: build_app(path), seed).start()
    yield server
    server.stop()


class Member:
    """A signed-up platform user: a bearer token, their record and one API key."""

    def __init__(self, url: str) -> None:
        response = requests.post(f"{url}/users", json={"email": "fuzz@example.com", "password": PASSWORD}, timeout=10)
        assert response.status_code == 201, response.text
        self.user = response.json()
        response = requests.post(f"{url}/authentication", timeout=10, json={
            "strategy": "local", "email": "fuzz@example.com", "password": PASSWORD})
        assert response.status_code == 201, response.text
        self.headers = {"Authorization": f"Bearer {response.json()['accessToken']}"}
        response = requests.post(f"{url}/api-keys", json={"name": "fuzz"}, headers=self.headers, timeout=10)
        assert response.status_code == 201, response.text
        self.key = response.json()
        response = requests.post(f"{url}/exchanges", json={"exchange": "sim"}, headers=self.headers, timeout=10)
        assert response.status_code == 201, response.text
        self.account = response.json()


@pytest.fixture(scope="module")
def platform_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from cryptorobot.platform import create_app

    data_dir: Path = tmp_path_factory.mktemp("fuzz-platform")
    # Budgets that a few hundred generated calls do not spend: the cases must reach the
    # schemas, not 429s (which the document lists too, so they would still conform).
    settings = {**load_config("test", environ={}), "data_dir": str(data_dir), "storage": "sqlite",
                "ratelimit": {"anonymous": 100_000, "tiers": {"free": {"requests": 100_000, "connections": 1}}}}
    server = LiveServer(lambda: create_app(settings)).start()
    yield server
    server.stop()


IdsFor = Callable[[Any], list[Any]]


def _strategy(operation: Any, mode: Any, ids_for: IdsFor) -> Any:
    """Cases for `operation`; item operations also get ids of real records (`ids_for`), so
    that get/update/patch/remove reach records and not only 404s."""
    strategies = [operation.as_strategy(generation_mode=mode)]
    if "{id}" in operation.path and mode == GenerationMode.POSITIVE:
        strategies += [operation.as_strategy(generation_mode=mode, path_parameters={"id": id})
                       for id in ids_for(operation)]
    return st.one_of(*strategies)


def fuzz(url: str, *, ids_for: IdsFor, headers: dict[str, str] | None = None) -> tuple[int, dict[int, int]]:
    """Every operation of the served document, POSITIVE and NEGATIVE cases each; fails once
    with every report. Returns the number of operations and the statuses seen."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    failures: list[str] = []
    unsatisfiable: list[str] = []
    statuses: dict[int, int] = {}

    for operation in operations:
        for mode, examples in ((GenerationMode.POSITIVE, POSITIVE), (GenerationMode.NEGATIVE, NEGATIVE)):

            @given(case=_strategy(operation, mode, ids_for))
            @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            def run(case: Any) -> None:
                response = case.call_and_validate(base_url=url, checks=CHECKS, headers=headers, timeout=10)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

            try:
                run()
            except Unsatisfiable:
                # Nothing in the document can be made invalid (no parameters or body, or only
                # free-form strings): `GET /health`, `DELETE /authentication/{id}`.
                assert mode == GenerationMode.NEGATIVE, operation.label
                unsatisfiable.append(operation.label)
            except Exception as failure:  # collect them all, then fail once with every report
                failures.append(f"{operation.label} ({mode.value}): {failure}")
    total = sum(statuses.values())
    print(f"\nfuzzed {len(operations)} operations with {total} requests; statuses: {dict(sorted(statuses.items()))}"
          + (f"; no invalid case possible for {', '.join(unsatisfiable)}" if unsatisfiable else ""))
    assert not failures, "\n\n".join(failures)
    assert total >= len(operations) * 10
    return len(operations), statuses


def no_logged_errors(caplog: pytest.LogCaptureFixture) -> None:
    """Failures the responses can not show (a publisher crashing after the reply) are logged."""
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert not errors, "\n".join(caplog.text.splitlines()[:50])


def test_fuzz_every_operation_from_openapi(live_server: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    count, statuses = fuzz(live_server.url, ids_for=lambda operation: [record["_id"] for record in SEED])
    assert count == 16  # 8 per service: find, get, create+archive, update, patch x2, remove x2
    assert {200, 201, 400, 404} <= set(statuses)
    no_logged_errors(caplog)


def test_fuzz_the_platform_with_a_signed_up_user(platform_server: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    member = Member(platform_server.url)

    def ids_for(operation: Any) -> list[Any]:
        if operation.path == "/users/{id}" and operation.method.upper() != "DELETE":
            return [member.user["_id"]]  # deleting oneself would end the token: 404s only
        if operation.path == "/api-keys/{id}":
            return [member.key["_id"]]
        if operation.path == "/exchanges/{id}" and operation.method.upper() != "DELETE":
            return [member.account["_id"]]
        return []

    count, statuses = fuzz(platform_server.url, ids_for=ids_for, headers=member.headers)
    # health find; users find/get/create/patch/remove; api-keys find/get/create/remove;
    # authentication create/remove; candles find; candles/series find; exchanges
    # find/get/create+balance+check/patch/remove, exchanges/{id}/balance and /check find,
    # exchanges/catalogue find/get, exchanges/markets find,
    # exchanges/ticker find/get and one POST for its custom methods; exchanges/watchlist
    # find/get/create/remove; exchanges/replays find/get; strategies find/get/create/patch/remove,
    # strategies/types find/get; traders find/get/create (its custom methods share that POST)/patch/
    # remove, traders/{traderId}/start and /stop create, /orders, /logs and /positions find;
    # traders/pods/events find/get; trades find/get; risk/emergency-stop create;
    # strategies/grid-preview create; messages find/get/patch/remove,
    # messages/preferences find/create; events find/get/create; models find/get/create/remove,
    # models/signals find/get, models/subscriptions find/get/create/patch/remove; status find;
    # market/fear-greed, market/stats find; market/news find/get; market/series find/get/create
    assert count == 84
    assert {200, 201, 400, 404} <= set(statuses)
    # The token stayed good: the cases got past authentication, not only 401s.
    response = requests.get(f"{platform_server.url}/users", headers=member.headers, timeout=10)
    assert response.status_code == 200 and response.json()["data"][0]["_id"] == member.user["_id"]
    assert statuses[200] + statuses[201] > statuses.get(401, 0)
    no_logged_errors(caplog)

"""Property-based fuzzing of the REST API from its own `/openapi.json` (schemathesis).

A live server for the sample app (memory and SQLite services with every schema kind)
runs on a thread; schemathesis generates requests for every documented operation from
the document the server publishes, sends them over real HTTP and checks each response:
no server error, a documented status, JSON content, and a body that conforms to the
documented response schema. Valid (positive) and invalid (negative) cases, bounded by
`POSITIVE`/`NEGATIVE` per operation so the run stays well under a minute.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cryptorobot.server import create_web_app
from schema_sample import SEED, build_app, seed

POSITIVE, NEGATIVE = 15, 10
"""Generated cases per operation, valid and invalid (16 operations: at most 400 requests)."""
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


class LiveServer:
    """The sample app served on 127.0.0.1 from a thread with its own event loop."""

    def __init__(self, sqlite_path: str) -> None:
        self.sqlite_path = sqlite_path
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="fuzz-server", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        app = build_app(self.sqlite_path)
        runner = web.AppRunner(create_web_app(app))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        await seed(app)
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
    server = LiveServer(str(tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite3")).start()
    yield server
    server.stop()


def _strategy(operation: Any, mode: Any) -> Any:
    """Cases for `operation`; item operations also get the ids of the seeded records, so
    that get/update/patch/remove reach real records and not only 404s."""
    strategies = [operation.as_strategy(generation_mode=mode)]
    if "{id}" in operation.path and mode == GenerationMode.POSITIVE:
        strategies += [operation.as_strategy(generation_mode=mode, path_parameters={"id": record["_id"]})
                       for record in SEED]
    return st.one_of(*strategies)


def test_fuzz_every_operation_from_openapi(live_server: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(f"{live_server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 16  # 8 per service: find, get, create+archive, update, patch x2, remove x2
    failures: list[str] = []
    statuses: dict[int, int] = {}

    for operation in operations:
        for mode, examples in ((GenerationMode.POSITIVE, POSITIVE), (GenerationMode.NEGATIVE, NEGATIVE)):

            @given(case=_strategy(operation, mode))
            @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            def run(case: Any) -> None:
                response = case.call_and_validate(base_url=live_server.url, checks=CHECKS, timeout=10)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

            try:
                run()
            except Exception as failure:  # collect them all, then fail once with every report
                failures.append(f"{operation.label} ({mode.value}): {failure}")
    total = sum(statuses.values())
    print(f"\nfuzzed {len(operations)} operations with {total} requests; statuses: {dict(sorted(statuses.items()))}")
    assert not failures, "\n\n".join(failures)
    assert total >= len(operations) * 10
    assert {200, 201, 400, 404} <= set(statuses)

"""Interop: the official Feathers v5 JS clients against a real `cryptorobot serve` process.

`client.mjs` (run with Node) drives the server started from `tests/interop/app.py` through
`@feathersjs/rest-client` (fetch) and `@feathersjs/socketio-client`, and prints one JSON line
per check. Every check named in `EXPECTED_CHECKS` must be printed and pass, so a check the
script silently skipped fails here too. Needs `node` and `npm ci --prefix tests/interop`
(`.ci/run` does that); without them the tests skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.interop.node_checks import Run, assert_check, assert_nothing_else, needs_node, run_node_checks
from tests.server_process import ServerProcess

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "client.mjs"

_SCENARIO = [
    "create.array",
    "create.single",
    "find.paginate",
    "find.limit_skip_sort",
    "find.limit_max",
    "find.limit_zero",
    "find.in",
    "find.in_over_21_values",
    "find.nin_ne",
    "find.lt_gte",
    "find.or",
    "find.select",
    "find.value_types",
    "get",
    "patch",
    "update",
    "remove",
    "patch.multi",
    "custom_method",
    "error.not_found",
    "error.method_not_allowed",
    "error.bad_request",
    "error.multi_not_allowed",
    "nested_path",
    "route_params_and_query",
    "remove.multi",
]
_EVENTS = ["created", "patched", "updated", "removed", "nested_created"]

EXPECTED_CHECKS = [
    "socket.connect",
    *(f"rest.{name}" for name in _SCENARIO),
    *(f"socket.{name}" for name in _SCENARIO),
    *(f"socket.events.{name}" for name in _EVENTS),
    *(f"socket.events_from_rest.{name}" for name in _EVENTS),
    "socket.events.shape",
]

pytestmark = needs_node("@feathersjs/socketio-client")


@pytest.fixture(scope="module")
def interop_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    server = ServerProcess("tests.interop.app:create_app", tmp_path_factory.mktemp("interop_run"), probe="/messages")
    return run_node_checks(SCRIPT, server, timeout=180)


@pytest.mark.parametrize("name", EXPECTED_CHECKS)
def test_check(interop_run: Run, name: str) -> None:
    assert_check(interop_run, name)


def test_client_reported_nothing_else(interop_run: Run) -> None:
    assert_nothing_else(interop_run, EXPECTED_CHECKS)


def test_server_stops_cleanly_on_sigterm(interop_run: Run) -> None:
    assert interop_run.server_code == 0, (
        f"server exit code {interop_run.server_code}; output:\n{interop_run.server_output[-3000:]}"
    )


def test_server_logged_no_traceback(interop_run: Run) -> None:
    """Every failure the client provoked is a Feathers error, never an unhandled exception."""
    assert "Traceback" not in interop_run.server_output, interop_run.server_output[-5000:]

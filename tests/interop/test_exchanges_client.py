"""Interop: the official Feathers JS clients (REST and Socket.IO) on the platform's `exchanges`.

`exchanges_client.mjs` creates, finds, patches and removes accounts, calls the `balance`
custom method, receives the owner's events (none for another user) and reads `data.code`
of platform errors, against a real `cryptorobot serve` of `cryptorobot.platform:create_app`
in the test configuration. Needs `node` and `npm ci --prefix tests/interop`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.interop.node_checks import Run, assert_check, assert_nothing_else, needs_node, run_node_checks
from tests.server_process import ServerProcess

SCRIPT = Path(__file__).resolve().parent / "exchanges_client.mjs"

EXPECTED_CHECKS = [
    "setup.users",
    "socket.create_sim_with_event",
    "rest.create_live_event_on_the_socket_no_secrets",
    "rest.find_documented_query",
    "socket.find_select",
    "socket.patch_credentials_with_event",
    "socket.balance_custom_method",
    "rest.balance_custom_method",
    "socket.validation_error",
    "socket.invalid_symbol_code",
    "socket.other_user_sees_nothing",
    "socket.remove_with_event",
    "socket.no_events_for_another_user",
]

pytestmark = needs_node("@feathersjs/authentication-client")


@pytest.fixture(scope="module")
def exchanges_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    server = ServerProcess("cryptorobot.platform:create_app", tmp_path_factory.mktemp("exchanges_run"),
                           env={"CRYPTOROBOT_ENV": "test"})
    return run_node_checks(SCRIPT, server, timeout=120)


@pytest.mark.parametrize("name", EXPECTED_CHECKS)
def test_check(exchanges_run: Run, name: str) -> None:
    assert_check(exchanges_run, name)


def test_client_reported_nothing_else(exchanges_run: Run) -> None:
    assert_nothing_else(exchanges_run, EXPECTED_CHECKS)


def test_server_stops_cleanly_and_logged_no_secret(exchanges_run: Run) -> None:
    assert exchanges_run.server_code == 0, exchanges_run.server_output[-3000:]
    assert "Traceback" not in exchanges_run.server_output, exchanges_run.server_output[-5000:]
    for secret in ("interop-api-key-0123456789", "interop-secret-abcdefghijkl", "interop-secret-replaced-42"):
        assert secret not in exchanges_run.server_output

"""Interop: `@feathersjs/authentication-client` against a real `cryptorobot serve` of the platform.

`auth_client.mjs` logs in over REST and Socket.IO, and checks that after the server drops
the socket the client reconnects, re-authenticates with its stored token and its next call
succeeds without the password (feathers-wire 4.7, 7.10). Needs `node` and
`npm ci --prefix tests/interop`; without them the tests skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.interop.node_checks import Run, assert_check, assert_nothing_else, needs_node, run_node_checks
from tests.server_process import ServerProcess

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "auth_client.mjs"

EXPECTED_CHECKS = [
    "rest.sign_up",
    "rest.wrong_password",
    "rest.login",
    "rest.protected_call",
    "rest.anonymous_call",
    "rest.reauthenticate",
    "rest.logout",
    "rest.logged_out_token_is_dead",
    "socket.connect",
    "socket.sign_up",
    "socket.anonymous_call",
    "socket.wrong_password",
    "socket.login",
    "socket.protected_call",
    "socket.dropped_by_server",
    "socket.call_after_reconnect",
    "socket.server_saw_a_token_login_on_the_new_connection",
    "socket.events_after_reconnect",
    "socket.logout",
    "socket.logged_out_token_is_dead",
]

pytestmark = needs_node("@feathersjs/authentication-client")


@pytest.fixture(scope="module")
def auth_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    server = ServerProcess("tests.interop.auth_app:create_app", tmp_path_factory.mktemp("auth_run"), probe="/health",
                           env={"CRYPTOROBOT_ENV": None})
    return run_node_checks(SCRIPT, server, timeout=120)


@pytest.mark.parametrize("name", EXPECTED_CHECKS)
def test_check(auth_run: Run, name: str) -> None:
    assert_check(auth_run, name)


def test_client_reported_nothing_else(auth_run: Run) -> None:
    assert_nothing_else(auth_run, EXPECTED_CHECKS)


def test_server_stops_cleanly_and_logged_no_traceback(auth_run: Run) -> None:
    assert auth_run.server_code == 0, auth_run.server_output[-3000:]
    assert "Traceback" not in auth_run.server_output, auth_run.server_output[-5000:]

"""Interop: rate limits and the connection cap as the official Feathers JS clients see them.

`limits_client.mjs` drives a real `cryptorobot serve` of the platform (free tier: 3 calls a
minute, 1 connection): the clients rebuild the 429 as `TooManyRequests` with `data.code`, and
a socket closed for a newer one gets a reason it can show and does not reconnect. Needs
`node` and `npm ci --prefix tests/interop`; without them the tests skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.interop.node_checks import Run, assert_check, assert_nothing_else, needs_node, run_node_checks
from tests.server_process import ServerProcess

SCRIPT = Path(__file__).resolve().parent / "limits_client.mjs"

EXPECTED_CHECKS = [
    "budget.sign_up_and_login",
    "budget.rest_calls_then_429",
    "budget.socket_calls_share_it",
    "connections.first_login",
    "connections.second_login_closes_the_first",
    "connections.the_newest_goes_on",
]

pytestmark = needs_node("@feathersjs/authentication-client")


@pytest.fixture(scope="module")
def limits_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    server = ServerProcess("cryptorobot.platform:create_app", tmp_path_factory.mktemp("limits_run"),
                           env={"CRYPTOROBOT_ENV": "test", "CRYPTOROBOT_RATELIMIT__ANONYMOUS": "60",
                                "CRYPTOROBOT_RATELIMIT__TIERS__FREE__REQUESTS": "3",
                                "CRYPTOROBOT_RATELIMIT__TIERS__FREE__CONNECTIONS": "1"})
    return run_node_checks(SCRIPT, server, timeout=120)


@pytest.mark.parametrize("name", EXPECTED_CHECKS)
def test_check(limits_run: Run, name: str) -> None:
    assert_check(limits_run, name)


def test_client_reported_nothing_else(limits_run: Run) -> None:
    assert_nothing_else(limits_run, EXPECTED_CHECKS)


def test_server_stops_cleanly_and_logged_no_traceback(limits_run: Run) -> None:
    assert limits_run.server_code == 0, limits_run.server_output[-3000:]
    assert "Traceback" not in limits_run.server_output, limits_run.server_output[-5000:]

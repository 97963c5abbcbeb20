"""Interop: the official Feathers JS clients (REST and Socket.IO) on the platform's `backtests`.

`backtests_client.mjs` creates runs and follows their `patched` events in order to
`completed`, reads the results and the paginated rows, cancels a long run with the `cancel`
custom method within a second, sees a failed run's message and the codes of bad requests,
and checks that another user sees none of it; against a real `cryptorobot serve` of
`cryptorobot.platform:create_app` (test configuration, a warm pool) with stored candles.
Needs `node` and `npm ci --prefix tests/interop`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backtest_data import START, store_candles, walk
from tests.interop.node_checks import Run, assert_check, assert_nothing_else, needs_node, run_node_checks
from tests.server_process import ServerProcess

SCRIPT = Path(__file__).resolve().parent / "backtests_client.mjs"
STORED = 1_000_000

EXPECTED_CHECKS = [
    "setup.users",
    "socket.create_then_states_in_order",
    "rest.completed_results_and_pages",
    "socket.cancel_custom_method",
    "rest.failed_run_says_why",
    "rest.bad_request_has_a_code",
    "socket.other_user_sees_nothing",
]

pytestmark = needs_node("@feathersjs/authentication-client")


@pytest.fixture(scope="module")
def backtests_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    workdir = tmp_path_factory.mktemp("backtests_run")
    store_candles(workdir / "data", walk(STORED))
    server = ServerProcess("cryptorobot.platform:create_app", workdir,
                           env={"CRYPTOROBOT_ENV": "test", "CRYPTOROBOT_BACKTESTS__WARM": "true"})
    return run_node_checks(SCRIPT, server, timeout=240, args=(str(START), str(STORED)))


@pytest.mark.parametrize("name", EXPECTED_CHECKS)
def test_check(backtests_run: Run, name: str) -> None:
    assert_check(backtests_run, name)


def test_client_reported_nothing_else(backtests_run: Run) -> None:
    assert_nothing_else(backtests_run, EXPECTED_CHECKS)


def test_server_stops_cleanly(backtests_run: Run) -> None:
    assert backtests_run.server_code == 0, backtests_run.server_output[-3000:]
    assert "Traceback" not in backtests_run.server_output, backtests_run.server_output[-5000:]

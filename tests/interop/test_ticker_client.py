"""Interop: the official Feathers JS clients subscribe to live tickers of a real `cryptorobot serve`.

`ticker_client.mjs` logs two users in over Socket.IO (`@feathersjs/authentication-client`),
each subscribes to its own `sim` symbol with the custom `subscribe` method and must receive
`exchanges/ticker patched` for its symbols only; a watchlist entry brings a symbol without
subscribing, `unsubscribe` stops one, an unknown symbol is a `BadRequest` with
`data.code = "INVALID_SYMBOL"`, and the REST client reads a ticker by its id. The random
walks step every 0.1 s here. Needs `node` and `npm ci --prefix tests/interop`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.interop.node_checks import Run, assert_check, assert_nothing_else, needs_node, run_node_checks
from tests.server_process import ServerProcess

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "ticker_client.mjs"

EXPECTED_CHECKS = [
    "ticker.connect_and_login",
    "ticker.subscribe",
    "ticker.patched_for_its_symbol",
    "ticker.only_its_symbols",
    "ticker.invalid_symbol",
    "ticker.watchlist_without_subscribing",
    "ticker.unsubscribe",
    "ticker.get_over_rest",
]

pytestmark = needs_node("@feathersjs/authentication-client")


@pytest.fixture(scope="module")
def ticker_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    server = ServerProcess("cryptorobot.platform:create_app", tmp_path_factory.mktemp("ticker_run"), probe="/health",
                           env={"CRYPTOROBOT_ENV": "test", "CRYPTOROBOT_TICKERS__RANDOM_WALK__INTERVAL": "0.1",
                                "CRYPTOROBOT_TICKERS__RATE": "5"})
    return run_node_checks(SCRIPT, server, timeout=120)


@pytest.mark.parametrize("name", EXPECTED_CHECKS)
def test_check(ticker_run: Run, name: str) -> None:
    assert_check(ticker_run, name)


def test_client_reported_nothing_else(ticker_run: Run) -> None:
    assert_nothing_else(ticker_run, EXPECTED_CHECKS)


def test_server_stops_cleanly_and_logged_no_traceback(ticker_run: Run) -> None:
    assert ticker_run.server_code == 0, ticker_run.server_output[-3000:]
    assert "Traceback" not in ticker_run.server_output, ticker_run.server_output[-5000:]

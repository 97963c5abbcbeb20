"""Interop, the acceptance test of issue 11: the platform's main job on real prices, through the
official Feathers JS clients against a real `cryptorobot serve`.

Before the server starts, backtesting.py's `BTCUSD.csv` (monthly, from 2012; the
`backtesting` test dependency ships it) is imported as `sim` BTC/USDT `1M` candles with
`cryptorobot candles import`, and the replay plays 20 candles a second. `traders_client.mjs`
then signs up, logs in over Socket.IO, creates a paper account, an `sma_cross` strategy and
a trader, starts it, watches it trade, stops it, and compares what it received with
`GET /trades` and the account's balance; another user must receive nothing. Needs `node`
and `npm ci --prefix tests/interop`.
"""

from __future__ import annotations

from pathlib import Path

import backtesting
import pytest

from cryptorobot.cli import main
from tests.interop.node_checks import Run, assert_check, assert_nothing_else, needs_node, run_node_checks
from tests.server_process import ServerProcess

SCRIPT = Path(__file__).resolve().parent / "traders_client.mjs"
BTCUSD = Path(backtesting.__file__).parent / "test" / "BTCUSD.csv"

EXPECTED_CHECKS = [
    "setup.sign_up_and_log_in_over_socketio",
    "setup.paper_account_strategy_trader",
    "trader.start_running",
    "trader.ticker_patched",
    "trader.order_placed_filled_and_trades",
    "trader.stop_stopped",
    "trades.received_equal_rest_and_balance",
    "privacy.other_user_received_nothing",
]

pytestmark = needs_node("@feathersjs/authentication-client")


@pytest.fixture(scope="module")
def traders_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    workdir = tmp_path_factory.mktemp("traders_run")
    main(["candles", "import", str(BTCUSD), "--data-dir", str(workdir / "data"), "--exchange", "sim",
          "--symbol", "BTC/USDT", "--timeframe", "1M", "--floor"])
    server = ServerProcess("cryptorobot.platform:create_app", workdir, probe="/health",
                           env={"CRYPTOROBOT_ENV": "test", "CRYPTOROBOT_TICKERS__REPLAY__CANDLES_PER_SECOND": "20",
                                "CRYPTOROBOT_TICKERS__RATE": "5"})
    return run_node_checks(SCRIPT, server, timeout=150)


@pytest.mark.parametrize("name", EXPECTED_CHECKS)
def test_check(traders_run: Run, name: str) -> None:
    assert_check(traders_run, name)


def test_client_reported_nothing_else(traders_run: Run) -> None:
    assert_nothing_else(traders_run, EXPECTED_CHECKS)


def test_server_stops_cleanly_and_logged_no_traceback(traders_run: Run) -> None:
    assert traders_run.server_code == 0, traders_run.server_output[-3000:]
    assert "Traceback" not in traders_run.server_output, traders_run.server_output[-5000:]

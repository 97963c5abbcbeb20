"""A backtest worker starts without ccxt, and the engine stays ccxt-compatible without importing it."""

from __future__ import annotations

import subprocess
import sys
from importlib import import_module

import ccxt
import pytest
from ccxt.base.exchange import Exchange

from engine import errors, precision
from engine.candles import timeframe
from engine.orders import iso8601


def run(code: str) -> None:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_importing_the_backtest_engine_does_not_import_ccxt() -> None:
    run("import engine.backtest, engine.strategies, engine.metrics, sys; assert 'ccxt' not in sys.modules")


def test_the_lazy_candle_exports_still_import() -> None:
    run("import sys, engine.candles as c; assert 'ccxt' not in sys.modules; c.download_candles, c.read_candle_file, "
        "c.MongoCandleStore; assert 'ccxt' in sys.modules; from engine.candles import *")


def test_errors_become_ccxts_once_ccxt_is_imported_after_the_engine() -> None:
    run("import sys, engine.errors as e; assert 'ccxt' not in sys.modules; before = e.InvalidOrder('early'); "
        "import ccxt; error = e.InvalidOrder('no'); "
        "assert isinstance(error, ccxt.InvalidOrder) and isinstance(before, ccxt.InvalidOrder); "
        "assert issubclass(e.InsufficientBalance, ccxt.InsufficientFunds) and error.code == 'INVALID_ORDER'")


@pytest.mark.parametrize(("error", "base"), [
    (errors.InvalidSymbol, ccxt.BadSymbol), (errors.InvalidTimeframe, ccxt.BadRequest),
    (errors.InvalidOrder, ccxt.InvalidOrder), (errors.InsufficientBalance, ccxt.InsufficientFunds),
    (errors.OrderNotFound, ccxt.OrderNotFound), (errors.ExchangeNotAvailable, ccxt.ExchangeNotAvailable),
    (errors.CredentialsRefused, ccxt.AuthenticationError), (errors.ExchangeRefused, ccxt.ExchangeError)])
def test_each_trading_error_is_its_ccxt_error(error: type[errors.EngineError], base: type[Exception]) -> None:
    assert issubclass(error, base) and issubclass(error, errors.EngineError)


def test_the_engines_copies_of_ccxt_constants_equal_ccxts() -> None:
    ccxt_precision = import_module("ccxt.base.decimal_to_precision")  # (ccxt.base's function shadows the module)
    for name in ("TRUNCATE", "ROUND", "DECIMAL_PLACES", "SIGNIFICANT_DIGITS", "TICK_SIZE", "NO_PADDING"):
        assert getattr(precision, name) == getattr(ccxt_precision, name), name
    for text in ("1s", "30s", "1m", "15m", "1h", "4h", "1d", "3d", "1w", "1M", "3M", "1y"):
        assert timeframe(text).ms == Exchange.parse_timeframe(text) * 1000, text
    for stamp in (None, 0, 1_502_962_946_216, 1_700_000_000_000):
        assert iso8601(stamp) == Exchange.iso8601(stamp)

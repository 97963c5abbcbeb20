"""`engine.errors.from_ccxt_error`: what ccxt raises becomes the platform's code, with a message of our own."""

from __future__ import annotations

import asyncio

import aiohttp
import ccxt
import pytest

from engine.errors import EngineError, InvalidSymbol, from_ccxt_error

LEAKY = "binance GET https://api.binance.com/api/v3/account?timestamp=1&signature=abc&apiKey=THE-KEY {'X-MBX-APIKEY': 'THE-KEY'}"


@pytest.mark.parametrize(("failure", "code", "message"), [
    (ccxt.AuthenticationError, "CREDENTIALS_REFUSED", "binance refused the account's credentials"),
    (ccxt.PermissionDenied, "CREDENTIALS_REFUSED", "binance refused the account's credentials"),
    (ccxt.AccountSuspended, "CREDENTIALS_REFUSED", "binance refused the account's credentials"),
    (ccxt.InsufficientFunds, "INSUFFICIENT_BALANCE", "binance: not enough free funds for the order"),
    (ccxt.OrderNotFound, "ORDER_NOT_FOUND", "binance has no such order"),
    (ccxt.InvalidOrder, "INVALID_ORDER", "binance refused the order"),
    (ccxt.BadSymbol, "INVALID_SYMBOL", "binance lists no such market"),
    (ccxt.BadRequest, "EXCHANGE_ERROR", "binance refused the call"),
    (ccxt.NotSupported, "EXCHANGE_ERROR", "binance refused the call"),
    (ccxt.ExchangeError, "EXCHANGE_ERROR", "binance refused the call"),
    (ccxt.ExchangeClosedByUser, "EXCHANGE_NOT_AVAILABLE",
     "binance: the connection was closed (the account changed); try again"),
    (ccxt.RateLimitExceeded, "EXCHANGE_NOT_AVAILABLE", "binance is limiting the rate of requests"),
    (ccxt.DDoSProtection, "EXCHANGE_NOT_AVAILABLE", "binance is limiting the rate of requests"),
    (ccxt.OnMaintenance, "EXCHANGE_NOT_AVAILABLE", "binance is under maintenance"),
    (ccxt.RequestTimeout, "EXCHANGE_NOT_AVAILABLE", "binance did not answer in time"),
    (ccxt.InvalidNonce, "EXCHANGE_NOT_AVAILABLE",
     "binance refused the request's timestamp or nonce (is the server's clock right?)"),
    (ccxt.ExchangeNotAvailable, "EXCHANGE_NOT_AVAILABLE", "binance can not be reached"),
    (ccxt.NetworkError, "EXCHANGE_NOT_AVAILABLE", "binance can not be reached"),
    (ccxt.BadResponse, "EXCHANGE_NOT_AVAILABLE", "binance can not be reached"),
    (ccxt.OperationFailed, "EXCHANGE_NOT_AVAILABLE", "binance can not be reached"),
    (ccxt.BaseError, "EXCHANGE_ERROR", "binance refused the call"),
    (aiohttp.ClientConnectionError, "EXCHANGE_NOT_AVAILABLE", "binance can not be reached"),
    (asyncio.TimeoutError, "EXCHANGE_NOT_AVAILABLE", "binance can not be reached"),
    (OSError, "EXCHANGE_NOT_AVAILABLE", "binance can not be reached"),
])
def test_each_ccxt_failure_has_its_code_and_our_message(failure: type[Exception], code: str, message: str) -> None:
    error = from_ccxt_error(failure(LEAKY), "binance")
    assert (error.code, error.message) == (code, message)
    assert error.details["exchange"] == "binance" and error.details["reason"] == failure.__name__
    assert "THE-KEY" not in repr((str(error), error.details)) and "signature" not in str(error)


def test_an_engine_error_passes_unchanged() -> None:
    error = InvalidSymbol("sim lists no market 'X'", symbol="X", suggestions=[])
    assert from_ccxt_error(error, "sim") is error


def test_the_engine_errors_are_ccxts_too() -> None:
    """Code written against ccxt catches what the translation gives."""
    assert isinstance(from_ccxt_error(ccxt.AuthenticationError(), "x"), ccxt.AuthenticationError)
    assert isinstance(from_ccxt_error(ccxt.NotSupported(), "x"), ccxt.ExchangeError)
    assert isinstance(from_ccxt_error(OSError(), "x"), ccxt.ExchangeNotAvailable)
    assert all(isinstance(from_ccxt_error(kind(), "x"), EngineError) for kind in (ccxt.BaseError, KeyError))

"""The platform's machine error codes: one table, shown in the README and the OpenAPI document.

Every error the platform raises is a Feathers error (the JS clients rebuild it from its
JSON) whose `data.code` is one of `CODES`, with details beside it in `data`::

    {"name": "BadRequest", "code": 400, "className": "bad-request",
     "message": "Unknown symbol BTC/USDX on sim",
     "data": {"code": "INVALID_SYMBOL", "symbol": "BTC/USDX", "suggestions": ["BTC/USDT"]}}

Engine errors (`engine.errors`) carry their code already; `translate_engine_errors`, an app
error hook, turns them into these Feathers errors. `code_table()` is the table as Markdown
(the README's copy is checked against it; `/openapi.json` carries it in its description).
"""

from __future__ import annotations

from typing import Any

from cryptorobot import errors
from cryptorobot.hooks import HookContext
from engine.errors import EngineError

__all__ = ["CODES", "code_table", "platform_error", "translate_engine_errors"]

CODES: dict[str, tuple[type[errors.FeathersError], str]] = {
    "INVALID_EXCHANGE": (errors.BadRequest, "No such exchange: a ccxt exchange id or `sim` (see `exchanges/catalogue`)."),
    "INVALID_SYMBOL": (errors.BadRequest, "The exchange lists no such market; `suggestions` holds near symbols."),
    "INVALID_TIMEFRAME": (errors.BadRequest, "A timeframe that is neither stored nor derivable from a finer one."),
    "INVALID_ORDER": (errors.BadRequest, "An order the market refuses: type, side, amount, price or limits."),
    "INVALID_DATA": (errors.BadRequest, "Input that can not be read: a file layout, a column, a timestamp, a row."),
    "INVALID_SETTINGS": (errors.BadRequest, "A strategy type, strategy settings or backtest options refused; "
                         "`errors` holds a message per field."),
    "INSUFFICIENT_BALANCE": (errors.BadRequest, "Not enough free funds for the order."),
    "ORDER_NOT_FOUND": (errors.NotFound, "No such order on this account."),
    "ACCOUNT_INACTIVE": (errors.Conflict, "The exchange account is deactivated (`active: false`); patch it active "
                                          "to use it."),
    "CREDENTIALS_REFUSED": (errors.Unprocessable, "The exchange refused the account's credentials: wrong key or "
                                                  "secret, missing permission, or an IP not on the key's list."),
    "CREDENTIALS_UNREADABLE": (errors.Unprocessable, "The account's stored credentials can not be decrypted with the "
                                                     "server's key (was `exchanges.credentials_key` changed?); "
                                                     "patch them in again."),
    "EXCHANGE_NOT_AVAILABLE": (errors.Unavailable, "The exchange can not be reached right now: network, its 5xx "
                                                   "answers, maintenance, rate limits (`reason` says which). Try again later."),
    "EXCHANGE_ERROR": (errors.BadGateway, "The exchange refused the call for a reason of its own (`reason`: ccxt's "
                                          "error class)."),
}
"""code -> (Feathers error class, what it means)."""


def code_table() -> str:
    """`CODES` as a Markdown table (`data.code`, status, meaning): the README's and the OpenAPI document's."""
    rows = ["| `data.code` | status | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{code}` | {cls.code} {cls.__name__} | {meaning} |" for code, (cls, meaning) in CODES.items()]
    return "\n".join(rows)


def platform_error(code: str, message: str, **details: Any) -> errors.FeathersError:
    """The Feathers error for `code` (a key of `CODES`), with `details` in `data`."""
    cls, _ = CODES[code]
    return cls(message, {"code": code, **details})


def translate_engine_errors(context: HookContext) -> None:
    """An app error hook: an `EngineError` leaves as its Feathers error with `data.code`."""
    failure = context.error
    if isinstance(failure, EngineError):
        context.error = platform_error(failure.code, failure.message, **failure.details)

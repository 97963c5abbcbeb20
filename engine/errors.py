"""Errors the engine raises, each with a stable machine code.

The platform turns them into Feathers errors whose `data.code` is the `code` below and whose
other `data` keys are `details` (the code table for clients is `services/errors.py`)::

    EngineError                     (never raised itself)
    ├── InvalidSymbol          INVALID_SYMBOL          the exchange lists no such market
    ├── InvalidTimeframe       INVALID_TIMEFRAME       unknown, or neither stored nor derivable
    ├── InvalidOrder           INVALID_ORDER           bad type/side/amount/price, below limits
    │   └── ReduceOnlyRejected REDUCE_ONLY_REJECTED    a reduceOnly order that would not reduce the position
    ├── InvalidMarginSettings  INVALID_MARGIN_SETTINGS leverage out of range, a margin mode not simulated
    ├── InsufficientBalance    INSUFFICIENT_BALANCE    not enough free funds for the order
    ├── OrderNotFound          ORDER_NOT_FOUND         no such order on this account
    ├── ExchangeNotAvailable   EXCHANGE_NOT_AVAILABLE  the exchange can not be reached (network, 5xx, rate limit)
    ├── CredentialsRefused     CREDENTIALS_REFUSED     the exchange refused the account's credentials
    ├── ExchangeRefused        EXCHANGE_ERROR          the exchange refused a call for another reason
    ├── InvalidData            INVALID_DATA            input the engine can not read (a file, a column, a row)
    └── InvalidSettings        INVALID_SETTINGS        a strategy type or settings (of a strategy, of a
                                                        backtest) refused; `details["errors"]`: {field: message}

Each trading error is also the ccxt error of the same meaning (`ccxt.BadSymbol`,
`ccxt.BadRequest`, `ccxt.InvalidOrder`, `ccxt.BadRequest` (margin settings), `ccxt.InsufficientFunds`, `ccxt.OrderNotFound`,
`ccxt.ExchangeNotAvailable`, `ccxt.AuthenticationError`, `ccxt.ExchangeError`), so code
written against ccxt catches the simulated exchange's errors unchanged. The engine does not
import ccxt for that (importing it takes about a second and 50 MB, which a backtest worker
never needs): the classes get ccxt's bases when this module is imported after ccxt, or when
the first engine error is made after ccxt was imported (`ccxt_bases()`): code that catches
`ccxt.InvalidOrder` has imported ccxt, so the errors raised to it are ccxt's too.

`from_ccxt_error(failure, exchange)` goes the other way: what a real exchange answered
through ccxt, as one of these, with a message of our own. ccxt's messages are never
passed on: they carry request URLs (query strings with signatures, and on some exchanges
the API key) and the exchange's raw answer.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = [
    "CredentialsRefused", "EngineError", "ExchangeNotAvailable", "ExchangeRefused", "InsufficientBalance", "InvalidData",
    "InvalidMarginSettings", "InvalidOrder", "InvalidSettings", "InvalidSymbol", "InvalidTimeframe", "OrderNotFound",
    "ReduceOnlyRejected", "ccxt_bases", "from_ccxt_error",
]


class EngineError(Exception):
    """Base of the engine's errors: a message for people, `code` and `details` for programs."""

    code = "ENGINE_ERROR"

    def __init__(self, message: str, **details: Any) -> None:
        if _CCXT_PENDING:
            ccxt_bases()
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidSymbol(EngineError):
    code = "INVALID_SYMBOL"


class InvalidTimeframe(EngineError):
    code = "INVALID_TIMEFRAME"


class InvalidOrder(EngineError):
    code = "INVALID_ORDER"


class ReduceOnlyRejected(InvalidOrder):
    """A reduceOnly order that would not reduce its owner's position (none, the same side, or
    larger than the position)."""

    code = "REDUCE_ONLY_REJECTED"


class InvalidMarginSettings(EngineError):
    """A leverage outside the market's range, or a margin mode the simulated exchange does not model."""

    code = "INVALID_MARGIN_SETTINGS"


class InsufficientBalance(EngineError):
    code = "INSUFFICIENT_BALANCE"


class OrderNotFound(EngineError):
    code = "ORDER_NOT_FOUND"


class ExchangeNotAvailable(EngineError):
    code = "EXCHANGE_NOT_AVAILABLE"


class CredentialsRefused(EngineError):
    code = "CREDENTIALS_REFUSED"


class ExchangeRefused(EngineError):
    code = "EXCHANGE_ERROR"


class InvalidData(EngineError):
    code = "INVALID_DATA"


class InvalidSettings(EngineError):
    """Settings refused field by field: `details["errors"]` maps each field (a setting's
    `key`, or `type`, or a backtest option) to why; a service answers 400 with them."""

    code = "INVALID_SETTINGS"

    def __init__(self, errors: dict[str, str], message: str | None = None, **details: Any) -> None:
        first = next(iter(errors.items()), ("settings", "invalid"))
        super().__init__(message or f"invalid settings: {first[0]}: {first[1]}"
                         + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""), errors=dict(errors), **details)
        self.errors = dict(errors)


_CCXT_CLASSES: dict[type[EngineError], str] = {
    InvalidSymbol: "BadSymbol", InvalidTimeframe: "BadRequest", InvalidOrder: "InvalidOrder",
    InvalidMarginSettings: "BadRequest",
    InsufficientBalance: "InsufficientFunds", OrderNotFound: "OrderNotFound",
    ExchangeNotAvailable: "ExchangeNotAvailable", CredentialsRefused: "AuthenticationError",
    ExchangeRefused: "ExchangeError",
}
"""Each trading error's ccxt class (a name in `ccxt.base.errors`)."""
_CCXT_PENDING = True


def ccxt_bases() -> bool:
    """Make each trading error a subclass of its ccxt class too, if ccxt is imported (without
    importing it); True once done. Cheap to call again."""
    global _CCXT_PENDING
    if not _CCXT_PENDING:
        return True
    module = sys.modules.get("ccxt.base.errors")
    bases: list[type] = [getattr(module, name, None) for name in _CCXT_CLASSES.values()]  # type: ignore[misc]
    if not all(bases):
        return False  # ccxt is not imported (or still being imported)
    for error, base in zip(_CCXT_CLASSES, bases, strict=True):
        error.__bases__ = (EngineError, base)
    _CCXT_PENDING = False
    return True


ccxt_bases()

_NOT_AVAILABLE: tuple[tuple[str, str], ...] = (
    ("RateLimitExceeded", "is limiting the rate of requests"),
    ("DDoSProtection", "is limiting the rate of requests"),
    ("OnMaintenance", "is under maintenance"),
    ("RequestTimeout", "did not answer in time"),
    ("InvalidNonce", "refused the request's timestamp or nonce (is the server's clock right?)"),
    ("NetworkError", "can not be reached"),
)


def from_ccxt_error(failure: BaseException, exchange: str) -> EngineError:
    """The engine error for an exception a ccxt call on `exchange` raised.

    `details` always hold `exchange` and `reason` (the ccxt class name, e.g.
    `"AuthenticationError"`, or the exception's class for a failure outside ccxt). Rules:
    an `EngineError` (the simulated exchange's) is returned as it is; ccxt's
    `AuthenticationError` family becomes `CredentialsRefused`; `InsufficientFunds`,
    `OrderNotFound`, `InvalidOrder` and `BadSymbol` their trading errors; `NetworkError`
    and its family (timeouts, rate limits, maintenance, nonces), `BadResponse` and any
    exception outside ccxt (a dropped connection, a closed session) `ExchangeNotAvailable`;
    every other ccxt error `ExchangeRefused`.
    """
    if isinstance(failure, EngineError):
        return failure
    import ccxt  # (here: the engine itself never needs ccxt loaded, see the module docstring)

    details: dict[str, Any] = {"exchange": exchange, "reason": type(failure).__name__}
    if isinstance(failure, ccxt.AuthenticationError):
        return CredentialsRefused(f"{exchange} refused the account's credentials", **details)
    if isinstance(failure, ccxt.InsufficientFunds):
        return InsufficientBalance(f"{exchange}: not enough free funds for the order", **details)
    if isinstance(failure, ccxt.OrderNotFound):
        return OrderNotFound(f"{exchange} has no such order", **details)
    if isinstance(failure, ccxt.InvalidOrder):
        return InvalidOrder(f"{exchange} refused the order", **details)
    if isinstance(failure, ccxt.BadSymbol):
        return InvalidSymbol(f"{exchange} lists no such market", suggestions=[], **details)
    if isinstance(failure, ccxt.ExchangeClosedByUser):
        return ExchangeNotAvailable(f"{exchange}: the connection was closed (the account changed); try again", **details)
    if isinstance(failure, ccxt.ExchangeError):
        return ExchangeRefused(f"{exchange} refused the call", **details)
    for kind, what in _NOT_AVAILABLE:
        if isinstance(failure, getattr(ccxt, kind)):
            return ExchangeNotAvailable(f"{exchange} {what}", **details)
    if isinstance(failure, ccxt.BaseError) and not isinstance(failure, ccxt.OperationFailed):
        return ExchangeRefused(f"{exchange} refused the call", **details)
    return ExchangeNotAvailable(f"{exchange} can not be reached", **details)

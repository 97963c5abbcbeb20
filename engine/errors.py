"""Errors the engine raises, each with a stable machine code.

The platform turns them into Feathers errors whose `data.code` is the `code` below and whose
other `data` keys are `details` (the code table for clients is `services/errors.py`)::

    EngineError                     (never raised itself)
    ├── InvalidSymbol          INVALID_SYMBOL          the exchange lists no such market
    ├── InvalidTimeframe       INVALID_TIMEFRAME       unknown, or neither stored nor derivable
    ├── InvalidOrder           INVALID_ORDER           bad type/side/amount/price, below limits
    ├── InsufficientBalance    INSUFFICIENT_BALANCE    not enough free funds for the order
    ├── OrderNotFound          ORDER_NOT_FOUND         no such order on this account
    ├── ExchangeNotAvailable   EXCHANGE_NOT_AVAILABLE  the exchange can not be reached
    ├── InvalidData            INVALID_DATA            input the engine can not read (a file, a column, a row)
    └── InvalidSettings        INVALID_SETTINGS        a strategy type or settings (of a strategy, of a
                                                        backtest) refused; `details["errors"]`: {field: message}

Each trading error is also the ccxt error of the same meaning (`ccxt.BadSymbol`,
`ccxt.BadRequest`, `ccxt.InvalidOrder`, `ccxt.InsufficientFunds`, `ccxt.OrderNotFound`,
`ccxt.ExchangeNotAvailable`), so code written against ccxt catches the simulated
exchange's errors unchanged.
"""

from __future__ import annotations

from typing import Any

import ccxt

__all__ = [
    "EngineError", "ExchangeNotAvailable", "InsufficientBalance", "InvalidData", "InvalidOrder", "InvalidSettings",
    "InvalidSymbol", "InvalidTimeframe", "OrderNotFound",
]


class EngineError(Exception):
    """Base of the engine's errors: a message for people, `code` and `details` for programs."""

    code = "ENGINE_ERROR"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidSymbol(EngineError, ccxt.BadSymbol):
    code = "INVALID_SYMBOL"


class InvalidTimeframe(EngineError, ccxt.BadRequest):
    code = "INVALID_TIMEFRAME"


class InvalidOrder(EngineError, ccxt.InvalidOrder):
    code = "INVALID_ORDER"


class InsufficientBalance(EngineError, ccxt.InsufficientFunds):
    code = "INSUFFICIENT_BALANCE"


class OrderNotFound(EngineError, ccxt.OrderNotFound):
    code = "ORDER_NOT_FOUND"


class ExchangeNotAvailable(EngineError, ccxt.ExchangeNotAvailable):
    code = "EXCHANGE_NOT_AVAILABLE"


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

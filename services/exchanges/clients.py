"""Building ccxt clients the platform's way: one configuration per exchange id, no leaks.

`[exchanges.ccxt.<id>]` in the configuration holds extra constructor options for every
client of that exchange, accounts and market loads alike: a proxy (`httpsProxy`,
`socksProxy`), other endpoints (`urls.api.public = "https://..."`, `urls.test` for the
sandbox), `timeout`, `options`. They are deep-merged over the class's own description by
ccxt. Credentials and `verbose` there are ignored: credentials belong to accounts, and
ccxt's verbose mode prints requests, headers included, to stdout.

Clients are `ccxt.pro` classes where ccxt.pro has the exchange (REST and websockets in one
client, one rate limiter), `ccxt.async_support` ones otherwise, with the rate limiter on and
logging through the redacting logger (`redaction.CCXT_LOGGER`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cache
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

from .credentials import CREDENTIAL_FIELDS
from .redaction import CCXT_LOGGER, redactor

__all__ = ["SIM", "ClientFactory", "exchange_class", "is_exchange", "describe"]

SIM = "sim"
_IGNORED_OPTIONS = frozenset((*CREDENTIAL_FIELDS, "verbose", "logger"))


def is_exchange(exchange_id: Any) -> bool:
    """Whether `exchange_id` names a ccxt exchange (`ccxt.exchanges`) or `sim`."""
    return isinstance(exchange_id, str) and (exchange_id == SIM or exchange_id in ccxt.exchanges)


def exchange_class(exchange_id: str) -> Any:
    """The client class of a ccxt exchange id: ccxt.pro's where it has one."""
    if exchange_id not in ccxt.exchanges:
        raise ValueError(f"{exchange_id!r} is not a ccxt exchange id")
    return getattr(ccxt_pro, exchange_id, None) or getattr(ccxt_async, exchange_id)


@cache
def describe(exchange_id: str) -> Any:
    """An unconfigured client of `exchange_id`, only to read what its class says
    (`has`, `requiredCredentials`, `urls`, `precisionMode`, `fees`): it never opens a
    connection (ccxt makes its HTTP session on the first request), so it needs no `close`."""
    return exchange_class(exchange_id)({"logger": logging.getLogger(CCXT_LOGGER)})


def required_credentials(exchange_id: str) -> list[str]:
    """The credentials ccxt says `exchange_id` needs for private calls, in ccxt's order."""
    required = describe(exchange_id).requiredCredentials or {}
    return [name for name in CREDENTIAL_FIELDS if required.get(name)]


def has_sandbox(exchange_id: str) -> bool:
    """Whether ccxt knows a test network for `exchange_id` (`urls['test']`, what `set_sandbox_mode` switches to)."""
    return bool(describe(exchange_id).urls.get("test"))


class ClientFactory:
    """ccxt clients configured from `[exchanges.ccxt.<id>]` (see the module docstring)."""

    def __init__(self, options: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.options = {str(exchange_id): {key: value for key, value in dict(config or {}).items()
                                           if key not in _IGNORED_OPTIONS}
                        for exchange_id, config in (options or {}).items()}

    def create(self, exchange_id: str, credentials: Mapping[str, str] | None = None, *, sandbox: bool = False) -> Any:
        """A new client; its credential values are registered with the log redactor until
        `release(client)`. `sandbox=True` switches it to the exchange's test network."""
        config: dict[str, Any] = {"enableRateLimit": True, **self.options.get(exchange_id, {}),
                                  "logger": logging.getLogger(CCXT_LOGGER), "verbose": False}
        secrets = {name: value for name, value in (credentials or {}).items() if name in CREDENTIAL_FIELDS and value}
        redactor.add(secrets.values())
        try:
            client = exchange_class(exchange_id)({**config, **secrets})
            if sandbox:
                client.set_sandbox_mode(True)
        except BaseException:
            redactor.discard(secrets.values())
            raise
        return client

    @staticmethod
    async def release(client: Any) -> None:
        """Close `client` (its HTTP session and websockets) and unlist its credentials."""
        try:
            await client.close()
        finally:
            redactor.discard(value for name in CREDENTIAL_FIELDS if isinstance(value := getattr(client, name, None), str)
                             and value)

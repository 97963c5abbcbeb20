"""`ExchangeAccounts`: the exchange object of each account, shared by everything that uses it.

    accounts = accounts_of(app)                          # services.exchanges.accounts_of
    exchange = await accounts.exchange(account_id, owner=user_id)
    order = await exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 59000)

`exchange(...)` answers, for an active account:

- a live account: its ccxt client (`ccxt.pro.<id>` where ccxt.pro has the exchange,
  else `ccxt.async_support.<id>`), built on first use with the account's decrypted
  credentials, `set_sandbox_mode` when `sandbox` is set, and the exchange's markets
  already set from the `MarketStore` (so it loads none itself). One client per account:
  ccxt's rate limiter is per client. It is rebuilt when the account's credentials or
  `sandbox` change (the old one is closed in the background: a call still running on it
  fails with `EXCHANGE_NOT_AVAILABLE`, "try again"), and closed when the account is
  deactivated or removed, and at shutdown. Ask for it at each use rather than keeping it.
- a paper account (`sim`, or `paper: true` on a ccxt exchange): its `SimExchange`
  (`paper.PaperBooks`), the same calls and shapes.

Errors: `NotFound` for an unknown account (or another owner's), 409 `ACCOUNT_INACTIVE`,
422 `CREDENTIALS_UNREADABLE`, and the `MarketStore`'s (`EXCHANGE_NOT_AVAILABLE`). ccxt's
own exceptions from calls on the client are turned into the platform's errors by
`exchange_error(failure, exchange_id)` (see `engine.errors.from_ccxt_error`), which also
logs a redacted line: never pass a ccxt message on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptorobot.adapters import AdapterService
from cryptorobot.app import App
from cryptorobot.errors import FeathersError
from engine import Market, MarketCatalog
from engine.errors import EngineError, from_ccxt_error
from services.errors import platform_error

from .clients import ClientFactory
from .credentials import CredentialBox, Unreadable
from .markets import MarketStore
from .paper import PaperBooks
from .redaction import redactor

__all__ = ["ExchangeAccounts", "exchange_error"]

log = logging.getLogger("services.exchanges")


def exchange_error(failure: BaseException, exchange_id: str, account_id: Any = None) -> EngineError | FeathersError:
    """The platform error for an exception raised by a call on an exchange object
    (`FeathersError`s and engine errors pass unchanged); logs ccxt's failures redacted."""
    if isinstance(failure, (FeathersError, EngineError)):
        return failure
    error = from_ccxt_error(failure, exchange_id)
    log.warning("exchange account %s on %s: %s (%s)", account_id, exchange_id, error.code,
                redactor.scrub(f"{type(failure).__name__}: {failure}"))
    return error


@dataclass
class _Client:
    fingerprint: tuple[Any, bool]
    client: Any


class ExchangeAccounts:
    """The registry (see the module docstring). `accounts` is the `exchanges` storage
    adapter, read without hooks."""

    def __init__(self, app: App, accounts: AdapterService, box: CredentialBox, factory: ClientFactory,
                 markets: MarketStore, paper: PaperBooks) -> None:
        self.app = app
        self.accounts = accounts
        self.box = box
        self.factory = factory
        self.markets = markets
        self.paper = paper
        self._clients: dict[str, _Client] = {}
        self._building: dict[str, asyncio.Lock] = {}

    # -- accounts ----------------------------------------------------------------------------

    async def account(self, account_id: Any, *, owner: Any = None) -> dict[str, Any]:
        """The stored account (credentials sealed); `NotFound` when there is none, or
        when `owner` is given and it is someone else's."""
        query = {} if owner is None else {"userId": owner}
        return await self.accounts.get(account_id, {"query": query})

    async def exchange(self, account_id: Any, *, owner: Any = None) -> Any:
        """The exchange object of an active account: a ccxt client or a `SimExchange`."""
        return await self.exchange_of(await self.account(account_id, owner=owner))

    async def exchange_of(self, account: Mapping[str, Any]) -> Any:
        """`exchange(...)` for an account record already read."""
        if account.get("active") is False:
            raise platform_error("ACCOUNT_INACTIVE", f"Exchange account {account['_id']} is deactivated",
                                 accountId=account["_id"])
        if account.get("paper"):
            return await self.paper.open(account)
        return await self._live(account)

    async def catalog(self, account_id: Any, *, owner: Any = None) -> MarketCatalog:
        """The markets an account trades on (a sandbox account: its test network's)."""
        account = await self.account(account_id, owner=owner)
        if account.get("sandbox"):
            client = await self.exchange_of(account)
            try:
                await client.load_markets()
            except Exception as failure:
                raise exchange_error(failure, account["exchange"], account["_id"]) from None
            return MarketCatalog.from_exchange(client)
        return await self.markets.catalog(account["exchange"])

    async def market(self, account_id: Any, symbol: str, *, owner: Any = None) -> Market:
        """The market `symbol` names on the account's exchange (`InvalidSymbol` with
        `suggestions` when it lists none): how a trader or an order is validated."""
        return (await self.catalog(account_id, owner=owner)).market(symbol)

    # -- the operations of the `exchanges` service ------------------------------------------

    async def balance(self, account_id: Any, *, owner: Any = None) -> dict[str, Any]:
        """ccxt's balance structure (`free`, `used`, `total` by currency, and each currency's
        `{free, used, total}`, `timestamp`, `datetime`), without the exchange's raw `info`."""
        return await self._balance(await self.account(account_id, owner=owner))

    async def _balance(self, account: Mapping[str, Any]) -> dict[str, Any]:
        exchange = await self.exchange_of(account)
        try:
            balance = await exchange.fetch_balance()
        except Exception as failure:
            raise exchange_error(failure, account["exchange"], account["_id"]) from None
        return {key: value for key, value in balance.items() if key != "info"}

    async def check(self, account_id: Any, *, owner: Any = None) -> dict[str, Any]:
        """A live account's credentials tried with a signed call (`fetch_balance`):
        `{ok: true, ...}`, else `CREDENTIALS_REFUSED`, `EXCHANGE_NOT_AVAILABLE`, ..."""
        account = await self.account(account_id, owner=owner)
        answer = {"ok": True, "accountId": account["_id"], "exchange": account["exchange"],
                  "paper": bool(account.get("paper")), "sandbox": bool(account.get("sandbox"))}
        if account.get("paper"):
            await self.exchange_of(account)
            return {**answer, "message": "A paper account needs no credentials: the simulated exchange fills its "
                                         "orders at the exchange's prices."}
        await self._balance(account)
        return {**answer, "checkedAt": self.app.clock.now(),
                "message": f"{account['exchange']} accepted the credentials"}

    # -- live clients ------------------------------------------------------------------------

    async def _live(self, account: Mapping[str, Any]) -> Any:
        key = str(account["_id"])
        fingerprint = (account.get("sealedCredentials"), bool(account.get("sandbox")))
        current = self._clients.get(key)
        if current is not None and current.fingerprint == fingerprint:
            return current.client
        async with self._building.setdefault(key, asyncio.Lock()):
            current = self._clients.get(key)
            if current is not None and current.fingerprint == fingerprint:
                return current.client
            client = await self._build(account)
            self._clients[key] = _Client(fingerprint, client)
            if current is not None:
                self._retire(key, current.client)
            return client

    async def _build(self, account: Mapping[str, Any]) -> Any:
        exchange_id, sandbox = str(account["exchange"]), bool(account.get("sandbox"))
        try:
            credentials = self.box.open(account.get("sealedCredentials"))
        except Unreadable:
            raise platform_error("CREDENTIALS_UNREADABLE", "The account's stored credentials can not be decrypted "
                                 "with the server's key; patch them in again", accountId=account["_id"]) from None
        client = self.factory.create(exchange_id, credentials, sandbox=sandbox)
        if not sandbox:  # the test network lists markets of its own: the client loads them
            try:
                client.set_markets(await self.markets.markets(exchange_id))
            except BaseException:
                await self.factory.release(client)
                raise
        return client

    def _retire(self, key: str, client: Any) -> None:
        self.app.supervisor.spawn(self.factory.release(client), name=f"closing the ccxt client of account {key}")

    # -- life cycle --------------------------------------------------------------------------

    async def forget(self, account_id: Any) -> None:
        """Close the account's client / unload its paper book (they are made again on next use)."""
        await self.paper.unload(self._drop_client(account_id))

    async def discard(self, account_id: Any) -> None:
        """The account was removed: close its client, delete its paper journal."""
        await self.paper.delete(self._drop_client(account_id))

    def _drop_client(self, account_id: Any) -> str:
        key = str(account_id)
        current = self._clients.pop(key, None)
        if current is not None:
            self._retire(key, current.client)
        return key

    def on_price(self, exchange_id: str, symbol: str, timestamp: int, bid: float | None, ask: float | None,
                 last: float | None, continuous: bool = False) -> int:
        """A feed's price point for every loaded paper account on `exchange_id` (`PaperBooks.on_price`)."""
        return self.paper.on_price(exchange_id, symbol, timestamp, bid, ask, last, continuous)

    async def close(self) -> None:
        """Shutdown: write the paper journals, close every ccxt client and the storage."""
        clients, self._clients = [entry.client for entry in self._clients.values()], {}
        # ccxt's close waits a quarter of a second (`timeout_on_exit`): close everything at once.
        outcomes = await asyncio.gather(self.markets.close(), self.paper.close(),
                                        *(self.factory.release(client) for client in clients), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                log.error("closing the exchange accounts: %s", redactor.scrub(f"{type(outcome).__name__}: {outcome}"))

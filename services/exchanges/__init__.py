"""Exchange accounts, the exchange catalogue and the markets of every exchange.

Paths: `exchanges` (a user's accounts, with the `balance` and `check` custom methods),
`exchanges/:exchangeId/balance` and `exchanges/:exchangeId/check` (the same two over GET),
`exchanges/catalogue` (public) and `exchanges/markets` (see `service.py`).

For the rest of the platform (traders, feeds, portfolio), `accounts_of(app)` is the
registry of exchange objects (`registry.ExchangeAccounts`)::

    accounts = accounts_of(app)
    exchange = await accounts.exchange(account_id, owner=user_id)   # ccxt client, or SimExchange for paper
    market = await accounts.market(account_id, "BTCUSDT")           # engine Market of BTC/USDT, or InvalidSymbol
    market = await accounts.markets.market("binance", "BTC/USDT")   # by exchange id (MarketStore)
    fills = accounts.on_price("sim", "BTC/USDT", timestamp, bid, ask, last)  # a feed's price point, paper accounts
    accounts.paper.watched()                                        # {(exchange, symbol)} with open paper orders

Modules: `credentials` (sealing at rest), `redaction` (no secret in logs), `clients`
(ccxt clients from `[exchanges.ccxt.<id>]`), `markets` (`MarketStore`), `paper`
(`PaperBooks`: paper accounts and their journals), `registry` (`ExchangeAccounts`),
`catalogue`, `schemas`, `service` (the services and their hooks).
"""

from __future__ import annotations

from typing import Any

from cryptorobot import App
from cryptorobot.adapters import Index
from cryptorobot.storage import persisted
from hooks import authenticate, restrict_to_owner

from .catalogue import CatalogueService
from .clients import ClientFactory
from .credentials import credentials_box
from .markets import MarketStore
from .paper import PaperBooks
from .registry import ExchangeAccounts, exchange_error
from .schemas import (
    AccountCallSchema,
    CatalogueQuerySchema,
    CatalogueResultSchema,
    ExchangeCreateSchema,
    ExchangePatchSchema,
    ExchangeQuerySchema,
    ExchangeResultSchema,
    MarketQuerySchema,
    MarketResultSchema,
    NoQuerySchema,
)
from .service import (
    DEFAULT_PAPER_BALANCES,
    AccountOperation,
    ExchangesService,
    MarketsService,
    account_rules,
    after_account_change,
)

__all__ = ["ExchangeAccounts", "MarketStore", "PaperBooks", "accounts_of", "exchange_error", "register"]

SIGNED_IN: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"apiKey": []}]
EXCHANGE_CODES = ["INVALID_EXCHANGE", "INVALID_SYMBOL", "ACCOUNT_INACTIVE", "CREDENTIALS_REFUSED", "CREDENTIALS_UNREADABLE",
                  "EXCHANGE_ERROR", "EXCHANGE_NOT_AVAILABLE"]
"""The platform codes an account's operations may answer (listed in the OpenAPI document)."""


def accounts_of(app: App) -> ExchangeAccounts:
    """The app's registry of exchange objects (after `register(app)`)."""
    service: Any = app.service("exchanges").raw
    return service.accounts


def register(app: App) -> None:
    """`exchanges`, its operations, `exchanges/catalogue` and `exchanges/markets`.

    Raises RuntimeError in production without `exchanges.credentials_key`."""
    settings: dict[str, Any] = app.get("exchanges") or {}
    box = credentials_box(app.settings)
    factory = ClientFactory(settings.get("ccxt") or {})
    pages = app.get("paginate") or {"default": 25, "max": 100}
    market_pages = {"default": 25, "max": 1000, **((settings.get("markets") or {}).get("paginate") or {})}
    store = persisted(app, id="_id", paginate=pages, indexes=[Index(("userId",))])
    markets = MarketStore(persisted(app, id="_id", paginate=market_pages, multi=True, indexes=[Index(("exchange",))]),
                          factory, app.clock, max_age=float(settings.get("markets_max_age", 86400)),
                          retry_after=float(settings.get("markets_retry_after", 60)))
    journal = persisted(app, id="_id", multi=True, indexes=[Index(("accountId", "seq"), unique=True)])
    accounts = ExchangeAccounts(app, store, box, factory, markets, PaperBooks(journal, markets, app.clock))

    app.use("exchanges", ExchangesService(store, accounts), {
        "methods": ["find", "get", "create", "patch", "remove", "balance", "check"],
        "schemas": {"create": ExchangeCreateSchema, "patch": ExchangePatchSchema, "query": ExchangeQuerySchema,
                    "result": ExchangeResultSchema, "balance": AccountCallSchema, "check": AccountCallSchema},
        "docs": {"description": "Your exchange accounts: live (ccxt, credentials encrypted at rest and never "
                                "returned), sandbox, or paper (the simulated exchange at the exchange's markets and "
                                "prices). Custom methods `balance` (ccxt's balance structure) and `check` (the "
                                "credentials tried against the exchange), also at `GET /exchanges/{id}/balance` and "
                                "`GET /exchanges/{id}/check`.",
                 "security": SIGNED_IN, "codes": EXCHANGE_CODES},
    })
    signed_in, owner_only = authenticate("jwt", "api-key"), restrict_to_owner("userId")
    rules = account_rules(box, settings.get("paper_balances") or DEFAULT_PAPER_BALANCES)
    app.service("exchanges").hooks({
        "around": {"all": [signed_in]},
        # Per method, so the schema hooks (method hooks of their own) validate first.
        "before": {"find": [owner_only], "get": [owner_only], "create": [owner_only, rules],
                   "patch": [owner_only, rules], "remove": [owner_only], "balance": [owner_only],
                   "check": [owner_only]},
        "after": {"patch": [after_account_change(accounts)], "remove": [after_account_change(accounts)]},
    })

    for operation, run, what in (("balance", accounts.balance, "The account's balance in ccxt's structure."),
                                 ("check", accounts.check, "The account's credentials tried against the exchange.")):
        path = f"exchanges/:exchangeId/{operation}"
        app.use(path, AccountOperation(run), {
            "methods": ["find"], "schemas": {"query": NoQuerySchema},
            "docs": {"description": f"{what} The same as `{operation}` on `exchanges`.", "security": SIGNED_IN,
                     "codes": EXCHANGE_CODES}})
        app.service(path).hooks({"around": {"find": [signed_in]}, "before": {"find": [owner_only]}})

    app.use("exchanges/catalogue", CatalogueService(pages), {
        "methods": ["find", "get"],
        "schemas": {"query": CatalogueQuerySchema, "result": CatalogueResultSchema},
        "docs": {"description": "Every exchange ccxt supports, and `sim`: capabilities (ccxt `has`), required "
                                "credentials, sandbox support. Public.", "security": []},
    })
    app.use("exchanges/markets", MarketsService(markets), {
        "methods": ["find"],
        "schemas": {"query": MarketQuerySchema, "result": MarketResultSchema},
        "docs": {"description": "The spot and perpetual markets of one exchange (`exchange` is required), in ccxt's "
                                "market structure, loaded from the exchange once and kept in storage. An unknown "
                                "`symbol` is a 400 with `data.code` `INVALID_SYMBOL` and `suggestions`.",
                 "security": SIGNED_IN,
                 "codes": ["INVALID_EXCHANGE", "INVALID_SYMBOL", "EXCHANGE_ERROR", "EXCHANGE_NOT_AVAILABLE"]},
    })
    app.service("exchanges/markets").hooks({"around": {"find": [signed_in]}})

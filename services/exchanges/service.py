"""`exchanges`: a user's exchange accounts, and the services on the paths below it.

    POST   /exchanges                    {exchange, label?, apiKey?, secret?, password?, uid?, sandbox?, paper?,
                                          paperBalances?, active?}
    GET    /exchanges?active=true&$sort[createdAt]=-1&$limit=10
    GET    /exchanges/:id, PATCH /exchanges/:id, DELETE /exchanges/:id
    POST   /exchanges  + X-Service-Method: balance | check     {"id": <account id>}
    GET    /exchanges/:id/balance, GET /exchanges/:id/check    (the same, friendlier for curl)
    GET    /exchanges/catalogue[/:exchangeId]                  (public)
    GET    /exchanges/markets?exchange=binance&quote=USDT&$limit=10

Rules an account obeys (checked on create and on every patch, against the merged record;
a 400 `validation failed` names each field that breaks one):

- `exchange` is a ccxt exchange id or `sim`; `exchange`, `paper` and `paperBalances` are
  set at creation only.
- `sim` accounts are paper; `paper` defaults to false elsewhere; `paper` and `sandbox`
  exclude each other; `sandbox` needs a test network (ccxt `urls['test']`).
- A live account holds every credential ccxt's `requiredCredentials` names for its
  exchange (a patch can replace one, or remove an optional one with null); a paper account
  holds none and has `paperBalances` (default `exchanges.paper_balances`).
- Credentials are sealed before storage (`credentials.py`): responses and events carry
  `credentials` (the names set), `apiKeyHint` and `credentialsUpdatedAt`, never a value.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from cryptorobot.adapters import AdapterService
from cryptorobot.app import App
from cryptorobot.errors import BadRequest, MethodNotAllowed
from cryptorobot.hooks import HookContext
from cryptorobot.schemas import VALIDATION_FAILED
from services.errors import platform_error
from services.store_backed import StoreBacked

from .clients import SIM, describe, has_sandbox, required_credentials
from .credentials import CREDENTIAL_FIELDS, CredentialBox, Unreadable, api_key_hint
from .markets import MarketStore
from .registry import ExchangeAccounts
from .storage import find_all

__all__ = ["AccountOperation", "ExchangesService", "MarketsService", "account_rules", "after_account_change",
           "caller_scope"]

CREATION_ONLY = ("exchange", "paper", "paperBalances")
DEFAULT_PAPER_BALANCES = {"USDT": 10000.0}


def caller_scope(params: Mapping[str, Any]) -> Any:
    """The owner a call is scoped to (`restrict_to_owner` put it in the query); None for server code."""
    return (params.get("query") or {}).get("userId")


class ExchangesService(StoreBacked):
    """The accounts' storage adapter, the `balance` and `check` custom methods, and the life
    cycle of everything the accounts use (market records, paper journals, ccxt clients)."""

    def __init__(self, store: AdapterService, accounts: ExchangeAccounts) -> None:
        self.store = store
        self.accounts = accounts

    async def setup(self, app: App, path: str) -> None:
        await self.store.setup(app, path)
        await self.accounts.markets.setup(app, f"{path}/markets")
        paper = self.accounts.paper
        await paper.setup(app, f"{path}/paper-journal")
        app.supervise(f"{path}/paper-journal", paper.run)
        active = await find_all(self.store, {"paper": True, "active": True})
        app.supervisor.spawn(paper.restore(active), name="restoring paper accounts")

    async def teardown(self) -> None:
        await self.accounts.close()
        await self.store.teardown()

    async def balance(self, data: Any, params: dict[str, Any]) -> dict[str, Any]:
        """ccxt's balance structure of the account `data["id"]` (see `ExchangeAccounts.balance`)."""
        return await self.accounts.balance(_account_id(data), owner=caller_scope(params))

    async def check(self, data: Any, params: dict[str, Any]) -> dict[str, Any]:
        """The account's credentials tried against the exchange (see `ExchangeAccounts.check`)."""
        return await self.accounts.check(_account_id(data), owner=caller_scope(params))


def _account_id(data: Mapping[str, Any]) -> Any:
    """The `id` of a custom method's data (an object: the framework refuses lists, the schema
    anything else): one account per call."""
    return data["id"]


class AccountOperation:
    """`exchanges/:exchangeId/<operation>`: one operation of an account as a `find`."""

    def __init__(self, operation: Callable[..., Awaitable[dict[str, Any]]]) -> None:
        self.operation = operation

    async def find(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self.operation((params.get("route") or {})["exchangeId"], owner=caller_scope(params))


class MarketsService:
    """`exchanges/markets`: `find` over the stored markets of one exchange, loading them first
    when needed (see `MarketStore`). A `symbol` condition is resolved to unified symbols."""

    def __init__(self, markets: MarketStore) -> None:
        self.markets = markets

    def get_options(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        return self.markets.records.get_options(params)

    async def find(self, params: dict[str, Any]) -> Any:
        query = dict(params.get("query") or {})
        exchange = query.get("exchange")
        if not isinstance(exchange, str):
            raise BadRequest(VALIDATION_FAILED, errors={"exchange": ["Required: a ccxt exchange id or sim."]})
        catalog = await self.markets.catalog(exchange)
        if "symbol" in query:
            query["symbol"] = _resolved(query["symbol"], lambda symbol: catalog.market(symbol).symbol)
        return await self.markets.records.find({**params, "query": query})


def _resolved(condition: Any, unified: Callable[[str], str]) -> Any:
    """A `symbol` condition with exchange ids and spellings made unified symbols (equality,
    `$ne`, `$in`, `$nin`); an unknown symbol raises `InvalidSymbol`."""
    if isinstance(condition, str):
        return unified(condition)
    if isinstance(condition, dict):
        resolved: dict[str, Any] = {}
        for operator, value in condition.items():
            if operator in ("$in", "$nin"):
                resolved[operator] = [unified(item) for item in value]
            elif operator == "$ne":
                resolved[operator] = unified(value)
            else:
                resolved[operator] = value
        return resolved
    return condition


def account_rules(box: CredentialBox, paper_balances: Mapping[str, float]) -> Callable[[HookContext], Awaitable[None]]:
    """A before hook for `create` and `patch`: the rules of the module docstring, defaults,
    and the credentials sealed (the loaded data never reaches storage with a credential)."""

    async def account_rules_hook(context: HookContext) -> None:
        if isinstance(context.data, list) or (context.method == "patch" and context.id is None):
            word = "create" if context.method == "create" else "patch"
            raise MethodNotAllowed(f"Can not {word} multiple entries")  # the adapter's answer, before any work
        data: dict[str, Any] = context.data
        current: dict[str, Any] = {}
        if context.method == "patch":
            scope = caller_scope(context.params)
            current = await context.service.raw.store.get(context.id, {"query": {} if scope is None else
                                                                        {"userId": scope}})
        exchange: str = data["exchange"] if "exchange" in data else current["exchange"]
        paper = True if exchange == SIM else bool(current["paper"] if current else data.get("paper", False))
        errors = _rule_errors(data, current, exchange, paper)
        given = {name: data.pop(name) for name in CREDENTIAL_FIELDS if name in data}
        credentials: dict[str, str] = {}
        if paper:
            errors.update({name: ["A paper account takes no credentials."] for name, value in given.items()
                           if value is not None})
        elif given or not current:
            credentials = _merged_credentials(box, current, given, exchange, errors)
        if errors:
            raise BadRequest(VALIDATION_FAILED, errors=errors)
        if not current:
            name = "Simulated exchange" if exchange == SIM else describe(exchange).name
            data.setdefault("label", name if not paper or exchange == SIM else f"{name} (paper)")
            data.update(paper=paper, sandbox=bool(data.get("sandbox")), active=data.get("active", True),
                        credentials=[], apiKeyHint=None, credentialsUpdatedAt=None)
            if paper:
                data.setdefault("paperBalances", dict(paper_balances))
        if not paper and (given or not current):
            data.update(sealedCredentials=box.seal(credentials), credentials=sorted(credentials, key=_credential_order),
                        apiKeyHint=api_key_hint(credentials.get("apiKey")),
                        credentialsUpdatedAt=data.get("updatedAt") or context.app.clock.now())

    return account_rules_hook


def _rule_errors(data: Mapping[str, Any], current: Mapping[str, Any], exchange: str, paper: bool) -> dict[str, list[str]]:
    """Per-field messages for the rules on creation-only fields, `paper`, `sandbox` and `paperBalances`."""
    errors: dict[str, list[str]] = {}
    for name in CREATION_ONLY:
        if current and name in data and data[name] != current.get(name):
            errors[name] = ["Set at creation only: create another account instead."]
    if exchange == SIM and data.get("paper") is False:
        errors["paper"] = ["sim accounts are always paper."]
    if data.get("sandbox", current.get("sandbox", False)):
        if paper:
            errors["sandbox"] = ["A paper account can not use a sandbox: choose one of paper and sandbox."]
        elif not has_sandbox(exchange):
            errors["sandbox"] = [f"{exchange} has no test network (ccxt urls['test'])."]
    if not paper and "paperBalances" in data:
        errors.setdefault("paperBalances", ["Only paper accounts have paperBalances."])
    return errors


def _merged_credentials(box: CredentialBox, current: Mapping[str, Any], given: Mapping[str, str | None],
                        exchange: str, errors: dict[str, list[str]]) -> dict[str, str]:
    """A live account's credentials after a create or patch (`None` removes one); a message in
    `errors` for each required one missing. `CREDENTIALS_UNREADABLE` when the stored ones can't
    be opened and the given ones are not complete."""
    try:
        stored = box.open(current.get("sealedCredentials"))
    except Unreadable:
        stored = None
    credentials = {name: value for name, value in {**(stored or {}), **given}.items() if value is not None}
    missing = [name for name in required_credentials(exchange) if not credentials.get(name)]
    if missing and stored is None and current:
        raise platform_error("CREDENTIALS_UNREADABLE", "The account's stored credentials can not be decrypted with "
                             "the server's key; patch all of them in again", accountId=current["_id"])
    for name in missing:
        errors[name] = [f"Required by {exchange} for live trading (ccxt requiredCredentials); or create a paper account."]
    return credentials


def _credential_order(name: str) -> int:
    return CREDENTIAL_FIELDS.index(name)


def after_account_change(accounts: ExchangeAccounts) -> Callable[[HookContext], Awaitable[None]]:
    """An after hook for `patch` and `remove`: a removed account's client is closed and its
    paper journal deleted; a deactivated one, or one whose credentials or sandbox changed,
    has its client closed (made again on next use) and its paper book unloaded."""

    async def after_account_change_hook(context: HookContext) -> None:
        if context.method == "remove":
            await accounts.discard(context.id)
        elif {"sealedCredentials", "sandbox", "active"} & set(context.data):
            await accounts.forget(context.id)

    return after_account_change_hook

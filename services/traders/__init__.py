"""Traders (bots), their pods, and what they do: events, trades, orders, positions, logs.

Paths (all the caller's own; events to the owner's sockets):

* `traders` (`service.py`): CRUD, custom methods `start` and `stop` (also
  `POST /traders/:traderId/start` and `/stop`); every status change is a patch.
* `traders/pods/events`: `{traderId, podId, type, message, data, createdAt}`, types
  `started`, `stopped`, `order_placed`, `order_filled`, `order_cancelled`,
  `trade_executed`, `error`, `log`; `created` to the owner.
* `trades`: every fill of the user's traders, `{traderId, exchangeId, exchange, symbol,
  side, amount, price, cost, fee: {cost, currency}, orderId, timestamp, createdAt}`;
  every operator on its fields; `created` to the owner.
* `traders/:traderId/orders` (open and closed), `traders/:traderId/positions` (open and
  closed, average cost: `engine.position_history`), `traders/:traderId/logs`
  (HaasOnline's `{lineNumber, timestamp, severity, message}`).

`pods_of(app)` is the `PodManager` (`pods.py`) that runs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptorobot import App
from cryptorobot.adapters import AdapterService, Index
from cryptorobot.hooks import HookContext
from cryptorobot.schemas.data import SERVER_FIELDS
from cryptorobot.storage import persisted
from hooks import authenticate, restrict_to_owner
from services.exchanges import accounts_of
from services.market_data import market_data
from services.status import count_running
from services.tickers import ticker_audience

from .pods import PodManager
from .schemas import (
    EventQuerySchema,
    EventResultSchema,
    LogQuerySchema,
    LogResultSchema,
    OrderQuerySchema,
    OrderResultSchema,
    PositionQuerySchema,
    PositionResultSchema,
    TradeQuerySchema,
    TraderCallSchema,
    TraderCloneSchema,
    TraderCreateSchema,
    TradeResultSchema,
    TraderPatchSchema,
    TraderQuerySchema,
    TraderResultSchema,
)
from .service import (
    EmergencyStop,
    TraderOperation,
    TradersService,
    guard_running,
    refuse_running_removal,
    settings_changed,
    trader_rules,
)
from .storage import EVENTS_PATH, TRADERS_PATH, TRADES_PATH, Records

__all__ = ["PodManager", "pods_of", "register"]

TRADER_SERVER_FIELDS = ("exchange", "status", "error", "podId", "profit", "roi", "startingBalance", "firstStartedAt",
                        "starts", "cloned", "followUpdates",
                        "followers", "masterBotId", "startedAt", "stoppedAt", "signalToken")
"""Fields of a trader only the server writes."""
TRADER_CODES = ["TRADER_RUNNING", "TRADER_FOLLOWS", "LIMIT_REACHED", "INVALID_SETTINGS", "INVALID_SYMBOL",
                "EXCHANGE_NOT_AVAILABLE"]


def pods_of(app: App) -> PodManager:
    """The app's pod manager (after `register(app)`)."""
    service: Any = app.service(TRADERS_PATH).raw
    return service.pods


class _Traders(TradersService):
    """The traders service with the life cycle of the stores only it uses."""

    async def setup(self, app: App, path: str) -> None:
        await self.store.setup(app, path)
        await self.records.orders.setup(app, f"{path}/orders")
        await self.records.logs.setup(app, f"{path}/logs")
        app.supervisor.spawn(self.pods.resume(), name="resuming traders")

    async def teardown(self) -> None:
        for store in (self.records.orders, self.records.logs, self.store):
            await store.teardown()


class _OfTrader:
    """`traders/:traderId/<orders|logs>`: one trader's records of a store."""

    def __init__(self, store: AdapterService) -> None:
        self.store = store

    def get_options(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        return self.store.get_options(params)

    async def find(self, params: dict[str, Any]) -> Any:
        return await self.store.find(params)


class _Positions:
    def __init__(self, records: Records, pods: PodManager) -> None:
        self.records = records
        self.pods = pods

    async def find(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        trader = params.get("trader")  # the caller's own, read by the hook; server code names it in the route
        if trader is None:
            trader = await self.records.traders.get((params.get("route") or {})["traderId"])
        positions = await self.pods.positions(trader)
        status = (params.get("query") or {}).get("status")
        return [entry for entry in positions if status is None or entry["status"] == status]


def register(app: App) -> PodManager:
    """`traders` and the services below it, `trades`; after exchanges, market data and tickers."""
    pages = app.get("paginate") or {"default": 25, "max": 100}
    settings: dict[str, Any] = app.get("traders") or {}
    traders = persisted(app, id="_id", paginate=pages, indexes=[Index(("userId", "status")), Index("strategyId"),
                                                                  Index("exchangeId"), Index("signalToken")])
    orders = persisted(app, id="_id", paginate=pages, indexes=[Index(("traderId", "timestamp"))])
    logs = persisted(app, id="_id", paginate=pages, indexes=[Index(("traderId", "lineNumber"))])
    records = Records(app, traders, orders, logs, app.service("strategies").raw)
    accounts = accounts_of(app)
    pods = PodManager(app, records, accounts, market_data(app), ticker_audience(app),
                      budget=float(settings.get("time_budget", 0.5)),
                      start_timeout=float(settings.get("start_timeout", 30.0)))
    count_running(app, "pods", lambda: len(pods.runtimes))
    signed_in, owner_only = authenticate("jwt", "api-key"), restrict_to_owner("userId")
    service = _Traders(records, pods, int(settings.get("max_running", 10)))
    app.use(TRADERS_PATH, service, {
        "methods": ["find", "get", "create", "patch", "remove", "start", "stop", "clone"],
        "schemas": {"create": TraderCreateSchema, "patch": TraderPatchSchema, "query": TraderQuerySchema,
                    "result": TraderResultSchema, "start": TraderCallSchema, "stop": TraderCallSchema,
                    "clone": TraderCloneSchema,
                    "server_fields": (*SERVER_FIELDS, *TRADER_SERVER_FIELDS)},
        "docs": {"description": "Your traders (bots): a strategy run on one of your exchange accounts' markets. "
                                "Custom methods `start` and `stop` (also `POST /traders/{traderId}/start|stop`); "
                                "every status change (stopped, starting, running, stopping, error) is a `patched` "
                                "event. A running trader can not be removed (409 `TRADER_RUNNING`).",
                 "codes": TRADER_CODES},
    })
    rules = trader_rules(records, accounts)
    app.service(TRADERS_PATH).hooks({
        "around": {"all": [signed_in]},
        "before": {"find": [owner_only], "get": [owner_only], "create": [owner_only, rules],
                   "patch": [owner_only, rules], "remove": [owner_only, refuse_running_removal(records)],
                   "start": [owner_only], "stop": [owner_only], "clone": [owner_only]},
        "after": {"patch": [settings_changed(service)]},
    })
    for operation in ("start", "stop"):
        path = f"traders/:traderId/{operation}"
        app.use(path, TraderOperation(getattr(service, operation)), {
            "methods": ["create"],
            "docs": {"description": f"`{operation}` the trader (the same as the custom method on `traders`).",
                     "codes": TRADER_CODES}})
        app.service(path).hooks({"around": {"create": [signed_in]}})

    async def stop_their_traders(context: HookContext) -> None:
        """A user removed stops their traders first (none keeps trading for an account that is gone)."""
        if context.id is not None:  # the id as stored (a REST path gives it as text)
            user = await context.service.get(context.id, {"query": {"$select": ["_id"]}})
            await service.emergency_stop(user["_id"])

    app.service("users").hooks({"before": {"remove": [stop_their_traders]}})

    app.use("risk/emergency-stop", EmergencyStop(service), {
        "methods": ["create"],
        "docs": {"description": "Stops every running trader of yours and cancels their open orders; answers "
                                "`{stopped: [trader ids], cancelled: [{traderId, orderId, symbol}]}`."}})
    app.service("risk/emergency-stop").hooks({"around": {"create": [signed_in]}})

    app.use(EVENTS_PATH, persisted(app, id="_id", paginate=pages, indexes=[Index(("userId", "traderId"))]), {
        "methods": ["find", "get"], "schemas": {"query": EventQuerySchema, "result": EventResultSchema},
        "docs": {"description": "What your running traders do: `started`, `stopped`, `order_placed`, `order_filled`, "
                                "`order_cancelled`, `trade_executed`, `error`, `log`; `created` to you."}})
    app.use(TRADES_PATH, persisted(app, id="_id", paginate=pages, indexes=[
        Index(("userId", "createdAt")), Index(("userId", "symbol", "createdAt")), Index(("traderId", "timestamp"))]), {
        "methods": ["find", "get"], "schemas": {"query": TradeQuerySchema, "result": TradeResultSchema},
        "docs": {"description": "Every fill of your traders, filterable with every operator "
                                "(`?symbol=BTC/USDT&createdAt[$gte]=2024-01-01&$sort[createdAt]=-1`); `created` to "
                                "you."}})
    for path in (EVENTS_PATH, TRADES_PATH):
        app.service(path).hooks({"around": {"all": [signed_in]}, "before": {"find": [owner_only], "get": [owner_only]}})

    async def of_trader(context: HookContext) -> None:
        if not context.params.get("provider"):
            return
        trader_id = (context.params.get("route") or {}).get("traderId")
        trader = await records.traders.get(trader_id, {"query": {"userId": context.params["user"]["_id"]}})
        context.params["trader"] = trader
        context.params["query"] = {**(context.params.get("query") or {}), "traderId": str(trader["_id"])}

    for name, store, query, result in (("orders", orders, OrderQuerySchema, OrderResultSchema),
                                       ("logs", logs, LogQuerySchema, LogResultSchema)):
        path = f"traders/:traderId/{name}"
        app.use(path, _OfTrader(store), {"methods": ["find"], "schemas": {"query": query, "result": result},
                                         "docs": {"description": f"The trader's {name}, paginated and filterable."}})
        app.service(path).hooks({"around": {"find": [signed_in]}, "before": {"find": [of_trader]}})
    path = "traders/:traderId/positions"
    app.use(path, _Positions(records, pods), {
        "methods": ["find"], "schemas": {"query": PositionQuerySchema, "result": PositionResultSchema},
        "docs": {"description": "The trader's positions, open and closed, at average cost (fees included)."}})
    app.service(path).hooks({"around": {"find": [signed_in]}, "before": {"find": [of_trader]}})

    app.service("strategies").hooks({"before": {"remove": [guard_running(records, "strategyId", "strategy")],
                                                "patch": [guard_running(records, "strategyId", "strategy")]},
                                     "after": {"patch": [settings_changed(service)]}})
    app.service("exchanges").hooks({"before": {"remove": [guard_running(records, "exchangeId", "account")],
                                               "patch": [guard_running(records, "exchangeId", "account")]}})
    return pods

"""`traders`: bots, a strategy run on an exchange account's market; `start` and `stop`.

    POST /traders {"name": "BTC trend", "strategyId": ..., "exchangeId": ..., "symbol"?: "BTC/USDT",
                   "settings"?: {...overrides}}
    POST /traders  + X-Service-Method: start | stop     {"id": <trader id>}
    POST /traders/:traderId/start, POST /traders/:traderId/stop      (the same, friendlier for curl)
    GET  /traders?status=running

Rules: the strategy and the account are the caller's; `symbol` (default: the strategy's
pair) is a market of the account's exchange, stored unified; `settings` are overrides
of the strategy's, validated with them against the type's schema (400 `INVALID_SETTINGS`,
per field as `settings.<key>`). While a trader runs (`starting`, `running`, `stopping`) it
can not be removed, nor its account or strategy (409 `TRADER_RUNNING`), its `symbol` can
not change, and neither can its settings marked `canBeEdited: false` (theirs or its
strategy's: 400 `INVALID_SETTINGS`). `status`, `profit`, `roi` and the rest are the
server's: a client's patch can not set them.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from cryptorobot.errors import BadRequest, Forbidden, NotFound
from cryptorobot.hooks import HookContext
from cryptorobot.schemas import VALIDATION_FAILED
from engine.errors import InvalidSettings
from engine.strategies import strategy_type, validate_settings
from services.errors import platform_error
from services.exchanges import ExchangeAccounts
from services.exchanges.service import caller_scope
from services.messages import notify
from services.store_backed import StoreBacked
from services.strategies import invalid_settings
from services.users import ADMIN

from .pods import PodManager, effective_settings
from .storage import Records

__all__ = ["ACTIVE", "EmergencyStop", "TraderOperation", "TradersService", "guard_running", "refuse_running_removal",
           "settings_changed", "trader_rules"]

ACTIVE = ("starting", "running", "stopping")
"""Statuses of a trader that runs (or is about to, or is stopping)."""


def _scope(params: Mapping[str, Any]) -> dict[str, Any]:
    owner = caller_scope(params)
    return {"query": {} if owner is None else {"userId": owner}}


class TradersService(StoreBacked):
    """The traders' store, and `start`/`stop` driving the `PodManager`."""

    def __init__(self, records: Records, pods: PodManager, max_running: int = 10) -> None:
        self.records = records
        self.store = records.traders
        self.pods = pods
        self.max_running = max_running

    async def start(self, data: Any, params: dict[str, Any]) -> dict[str, Any]:
        """Start the trader `data["id"]`: answers it `running`, or `error` with why."""
        trader = await self.store.get(data["id"], _scope(params))
        if trader["status"] not in ACTIVE:
            running: Any = await self.store.find({"query": {"userId": trader["userId"], "status": {"$in": list(ACTIVE)},
                                                            "$limit": 0}, "paginate": {"default": 0}})
            if running["total"] >= self.max_running:
                raise platform_error("LIMIT_REACHED", f"At most {self.max_running} traders run at once per user",
                                     limit=self.max_running)
            await self.pods.start(trader, fresh=True)
        return await self.store.get(trader["_id"])

    async def stop(self, data: Any, params: dict[str, Any]) -> dict[str, Any]:
        """Stop the trader `data["id"]` (its open orders cancelled): answers it `stopped`."""
        return (await self.halt(await self.store.get(data["id"], _scope(params))))[0]

    async def halt(self, trader: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Stop `trader`: it as stopped, and the orders cancelled (ccxt's structures)."""
        cancelled: list[dict[str, Any]] = []
        if self.pods.running(trader["_id"]):
            await self.set_status(trader, "stopping")
            cancelled = await self.pods.stop(trader["_id"])
        elif trader["status"] != "stopped":
            await self.set_status(trader, "stopped")
        return await self.store.get(trader["_id"]), cancelled

    async def set_status(self, trader: dict[str, Any], status: str) -> None:
        await self.records.set_status(trader, status, error=None)

    async def emergency_stop(self, user_id: Any) -> dict[str, Any]:
        """Stop every running trader of `user_id`: what it stopped and cancelled, `{stopped:
        [trader ids], cancelled: [{traderId, orderId, symbol}]}`; the user is notified (`emergency_stop`)."""
        active: Any = await self.store.find({"query": {"userId": user_id, "status": {"$in": list(ACTIVE)}},
                                             "paginate": False})
        stopped, cancelled = [], []
        for trader in active:
            _, orders = await self.halt(trader)
            stopped.append(trader["_id"])
            cancelled += [{"traderId": str(trader["_id"]), "orderId": order["id"], "symbol": order["symbol"]}
                          for order in orders]
        await notify(self.records.app, user_id, "emergency_stop", "Emergency stop",
                     f"{len(stopped)} trader(s) stopped, {len(cancelled)} open order(s) cancelled",
                     {"stopped": [str(trader_id) for trader_id in stopped], "cancelled": cancelled})
        return {"stopped": stopped, "cancelled": cancelled}


    async def clone(self, data: Any, params: dict[str, Any]) -> dict[str, Any]:
        """A copy of the trader `data["id"]` (stopped, `cloned: true`, `masterBotId`), for the
        caller, or by an admin for `data["userId"]` (then on `data["exchangeId"]`, an account
        of theirs, with a copy of the strategy); with `followUpdates` it receives every
        settings change of its master and can not be edited itself (HaasOnline's copy trading)."""
        caller = params.get("user")
        admin = caller is None or ADMIN in (caller.get("roles") or [])
        target = data.get("userId")
        if target is not None and not admin:
            raise Forbidden("Only an administrator clones a trader for another user")
        master = await self.store.get(data["id"], {} if admin and target is not None else _scope(params))
        target = master["userId"] if target is None else target
        strategy_id, exchange_id = master["strategyId"], data.get("exchangeId") or master["exchangeId"]
        if str(target) != str(master["userId"]):
            if data.get("exchangeId") is None:
                raise BadRequest(VALIDATION_FAILED, errors={"exchangeId": ["An account of the user the clone is for."]})
            strategy = await self.records.strategies.get(master["strategyId"])
            copied = {key: strategy[key] for key in ("name", "type", "pair", "timeframe", "settings", "description")}
            strategy_id = (await self.records.app.service("strategies").create({**copied, "userId": target}))["_id"]
        clone = await self.records.app.service("traders").create({
            "name": data.get("name") or f"{master['name']} (clone)", "strategyId": strategy_id,
            "exchangeId": exchange_id, "symbol": master["symbol"], "settings": master.get("settings") or {},
            "userId": target})
        follows = bool(data.get("followUpdates"))
        clone = await self.records.app.service("traders").patch(clone["_id"], {
            "cloned": True, "masterBotId": str(master["_id"]), "followUpdates": follows})
        if follows:
            await self.records.app.service("traders").patch(master["_id"], {
                "followers": [*(master.get("followers") or []), str(clone["_id"])]})
        return clone

    async def propagate(self, trader: dict[str, Any]) -> None:
        """`trader`'s settings to its followers (and to its running pod, and theirs)."""
        await self.pods.reconfigure(trader)
        for follower_id in trader.get("followers") or []:
            try:
                follower = await self.records.app.service("traders").patch(follower_id, {
                    "settings": trader.get("settings") or {}})
            except NotFound:
                continue  # removed since
            await self.pods.reconfigure(follower)


class EmergencyStop:
    """`risk/emergency-stop`: `create` stops every running trader of the caller and cancels
    their open orders (`TradersService.emergency_stop`)."""

    def __init__(self, traders: TradersService) -> None:
        self.traders = traders

    async def create(self, data: Any, params: dict[str, Any]) -> dict[str, Any]:
        user = params.get("user")
        if user is None:
            raise NotFound("risk/emergency-stop acts for a signed-in user")
        return await self.traders.emergency_stop(user["_id"])


class TraderOperation:
    """`traders/:traderId/<start|stop>`: one operation of a trader as a `create`."""

    def __init__(self, operation: Callable[..., Awaitable[dict[str, Any]]]) -> None:
        self.operation = operation

    async def create(self, data: Any, params: dict[str, Any]) -> dict[str, Any]:
        user = params.get("user")
        if params.get("provider") and user is not None:  # the caller's own trader only
            params = {**params, "query": {"userId": user["_id"]}}
        return await self.operation({"id": (params.get("route") or {})["traderId"]}, params)


def trader_rules(records: Records, accounts: ExchangeAccounts) -> Callable[[HookContext], Awaitable[None]]:
    """A before hook for `create` and `patch` (see the module docstring)."""

    async def trader_rules_hook(context: HookContext) -> None:
        if isinstance(context.data, list) or (context.method == "patch" and context.id is None):
            raise BadRequest("One trader at a time")
        data: dict[str, Any] = context.data
        if context.method == "patch" and not context.params.get("provider"):
            return  # the server's own patches (status, profit)
        current: dict[str, Any] = {}
        if context.method == "patch":
            current = await records.traders.get(context.id, _scope(context.params))
        owner = current["userId"] if current else data["userId"]
        strategy_id = current.get("strategyId", data.get("strategyId"))
        try:
            strategy = await records.strategy(strategy_id, owner)
        except NotFound:
            raise BadRequest(VALIDATION_FAILED, errors={"strategyId": ["No such strategy of yours."]}) from None
        running = current.get("status") in ACTIVE
        if current.get("followUpdates") and ({"settings", "symbol"} & set(data)):
            raise platform_error("TRADER_FOLLOWS", "This trader follows its master's settings: change the master's",
                                 masterBotId=current.get("masterBotId"))
        if context.method == "create":
            try:
                account = await accounts.account(data["exchangeId"], owner=owner)
            except NotFound:
                raise BadRequest(VALIDATION_FAILED, errors={"exchangeId": ["No such exchange account of yours."]}) \
                    from None
            market = await accounts.markets.market(account["exchange"], data.get("symbol") or strategy["pair"])
            data.update(strategyId=str(strategy["_id"]), exchangeId=str(account["_id"]), symbol=market.symbol,
                        exchange=account["exchange"], status="stopped", error=None,
                        podId=None, profit=0.0, roi=0.0, startingBalance=None, firstStartedAt=None,
                        starts=0, cloned=False, followers=[], followUpdates=False,
                        masterBotId=None, startedAt=None, stoppedAt=None,
                        signalToken=secrets.token_urlsafe(24) if strategy["type"] == "webhook" else None)
        elif "symbol" in data:
            if running:
                raise platform_error("TRADER_RUNNING", "Stop the trader to change its symbol", traderId=context.id)
            market = await accounts.markets.market(current["exchange"], data["symbol"])
            data["symbol"] = market.symbol
        if "settings" in data:
            overrides = {**(current.get("settings") or {}), **data["settings"]}
            try:
                complete = validate_settings(strategy["type"], {**strategy["settings"], **overrides})
                if running:
                    old = validate_settings(strategy["type"], effective_settings(strategy, current))
                    strategy_type(strategy["type"]).schema.check_edit(old, complete)
            except InvalidSettings as failure:
                raise invalid_settings(failure, "settings.") from None
            data["settings"] = overrides

    return trader_rules_hook


def guard_running(records: Records, field: str, what: str) -> Callable[[HookContext], Awaitable[None]]:
    """A before hook for `remove` (and `patch`, for strategies' locked settings and an account's
    `active`) of a strategy or an account: refused while a trader running on it exists."""

    async def guard_running_hook(context: HookContext) -> None:
        if context.id is None:
            return
        running: Any = await records.traders.find({"query": {field: str(context.id), "status": {"$in": list(ACTIVE)}},
                                              "paginate": False})
        if not running:
            return
        if context.method == "remove" or (context.method == "patch" and context.data.get("active") is False):
            raise platform_error("TRADER_RUNNING", f"A running trader uses this {what}: stop it first",
                                 traderIds=[trader["_id"] for trader in running])
        if context.method == "patch" and field == "strategyId" and "settings" in context.data:
            strategy = await records.strategies.get(context.id)
            if context.data.get("type", strategy["type"]) != strategy["type"]:
                raise platform_error("TRADER_RUNNING", "A running trader uses this strategy: stop it to change its type",
                                     traderIds=[trader["_id"] for trader in running])
            schema = strategy_type(strategy["type"]).schema
            try:
                for trader in running:
                    schema.check_edit(effective_settings(strategy, trader),
                                      effective_settings({"settings": context.data["settings"]}, trader))
            except InvalidSettings as failure:
                raise invalid_settings(failure, "settings.") from None

    return guard_running_hook


def settings_changed(service: TradersService) -> Callable[[HookContext], Awaitable[None]]:
    """An after hook for `patch` of a trader (its settings to its pod and followers) and of a
    strategy (to the running traders that use it)."""

    async def settings_changed_hook(context: HookContext) -> None:
        if "settings" not in (context.data or {}) or context.result is None:
            return
        if context.path == "strategies":
            running: Any = await service.store.find({"query": {"strategyId": str(context.id),
                                                               "status": {"$in": list(ACTIVE)}}, "paginate": False})
            for trader in running:
                await service.pods.reconfigure(trader)
        else:
            await service.propagate(context.result)

    return settings_changed_hook


def refuse_running_removal(records: Records) -> Callable[[HookContext], Awaitable[None]]:
    """A before hook for `remove` of a trader: 409 `TRADER_RUNNING` while it runs."""

    async def refuse_running_removal_hook(context: HookContext) -> None:
        trader = await records.traders.get(context.id, _scope(context.params))
        if trader["status"] in ACTIVE:
            raise platform_error("TRADER_RUNNING", "Stop the trader before removing it", traderId=trader["_id"])

    return refuse_running_removal_hook

"""What pods write and read: trader status, events, trades, orders and log lines.

Events and trades are created through their services (`traders/pods/events`, `trades`), so
`created` reaches the owner's sockets; orders and log lines go straight to their stores
(read through `traders/:traderId/orders` and `.../logs`). Orders and trades are never
removed; an order record follows its order's status (open -> closed | canceled). Record
ids are derived from the exchange's ids (`<traderId>:<orderId>`, `<exchangeId>:<tradeId>`),
so writing one again after a restart is a `Conflict`, not a duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptorobot import App
from cryptorobot.adapters import AdapterService
from engine.strategies import LogLine
from services.exchanges.storage import find_all

__all__ = ["EVENTS_PATH", "TRADERS_PATH", "TRADES_PATH", "Known", "Records"]

TRADERS_PATH = "traders"
EVENTS_PATH = "traders/pods/events"
TRADES_PATH = "trades"


@dataclass
class Known:
    """What a trader's records already hold (for a pod that starts again)."""

    orders: set[str] = field(default_factory=set)
    tags: dict[str, str] = field(default_factory=dict)
    trades: set[str] = field(default_factory=set)
    lines: int = 0


class Records:
    """The stores behind the traders' services."""

    def __init__(self, app: App, traders: AdapterService, orders: AdapterService, logs: AdapterService,
                 strategies: AdapterService) -> None:
        self.app = app
        self.traders = traders
        self.orders = orders
        self.logs = logs
        self.strategies = strategies

    async def strategy(self, strategy_id: Any, user: Any) -> dict[str, Any]:
        return await self.strategies.get(strategy_id, {"query": {"userId": user}})

    async def traders_to_resume(self) -> list[dict[str, Any]]:
        return await find_all(self.traders, {"status": {"$in": ["starting", "running"]}})

    async def set_status(self, trader: dict[str, Any], status: str, *, error: str | None = None,
                         fresh_start: bool = False, balance: float | None = None) -> dict[str, Any]:
        """Patch the trader's status through the service (`traders patched` to the owner)."""
        now = self.app.clock.now()
        data: dict[str, Any] = {"status": status, "error": error}
        if fresh_start:
            starts = int(trader.get("starts") or 0) + 1
            data.update(starts=starts, podId=f"{trader['_id']}-{starts}", startedAt=now, stoppedAt=None)
            if trader.get("startingBalance") is None:
                data["startingBalance"] = balance
            if trader.get("firstStartedAt") is None:
                data["firstStartedAt"] = self.app.clock.now_ms()
        if status in ("stopped", "error"):
            data["stoppedAt"] = now
        return await self.app.service(TRADERS_PATH).patch(trader["_id"], data)

    async def set_profit(self, trader: dict[str, Any], profit: float) -> dict[str, Any]:
        base = trader.get("startingBalance") or 0.0
        roi = profit / base * 100.0 if base else 0.0
        return await self.app.service(TRADERS_PATH).patch(trader["_id"], {"profit": profit, "roi": roi})

    async def event(self, trader: dict[str, Any], type: str, message: str, data: dict[str, Any]) -> None:
        await self.app.service(EVENTS_PATH).create({
            "userId": trader["userId"], "traderId": str(trader["_id"]), "podId": trader.get("podId"), "type": type,
            "message": message, "data": data, "createdAt": self.app.clock.now()})

    async def trade(self, trader: dict[str, Any], trade: dict[str, Any], tag: str | None) -> None:
        fee = trade.get("fee") or {}
        await self.app.service(TRADES_PATH).create({
            "_id": f"{trader['exchangeId']}:{trade['id']}", "userId": trader["userId"], "traderId": str(trader["_id"]),
            "exchangeId": str(trader["exchangeId"]), "exchange": trader["exchange"], "symbol": trade["symbol"],
            "side": trade["side"], "amount": trade["amount"], "price": trade["price"], "cost": trade["cost"],
            "fee": {"cost": fee.get("cost"), "currency": fee.get("currency")}, "orderId": trade["order"],
            "clientOrderId": (trade.get("info") or {}).get("clientOrderId"), "takerOrMaker": trade.get("takerOrMaker"),
            "tag": tag, "timestamp": trade["timestamp"], "createdAt": self.app.clock.now()})

    async def order(self, trader: dict[str, Any], action: str, order: dict[str, Any], tag: str | None) -> None:
        fields = {name: order.get(name) for name in ("status", "amount", "price", "average", "filled", "cost",
                                                     "triggerPrice", "fee")}
        record_id, now = f"{trader['_id']}:{order['id']}", self.app.clock.now()
        if action == "placed":
            await self.orders.create({
                "_id": record_id, "userId": trader["userId"], "traderId": str(trader["_id"]),
                "exchangeId": str(trader["exchangeId"]), "exchange": trader["exchange"], "id": order["id"],
                "clientOrderId": order.get("clientOrderId"), "symbol": order["symbol"], "type": order["type"],
                "side": order["side"], "tag": tag, "timestamp": order.get("timestamp"), "createdAt": now,
                "updatedAt": now, **fields})
        else:
            await self.orders.patch(record_id, {**fields, "updatedAt": now})

    async def log(self, trader: dict[str, Any], number: int, line: LogLine) -> None:
        await self.logs.create({"_id": f"{trader['_id']}:{number}", "userId": trader["userId"],
                                "traderId": str(trader["_id"]), **line.to_wire(number)})

    async def known(self, trader: dict[str, Any]) -> Known:
        query = {"traderId": str(trader["_id"])}
        orders = await find_all(self.orders, {**query, "$select": ["id", "tag"]})
        trades = await self.app.service(TRADES_PATH).find({"query": {**query, "$select": ["_id"]}, "paginate": False})
        lines: Any = await self.logs.find({"query": {**query, "$limit": 0}, "paginate": {"default": 0}})
        prefix = f"{trader['exchangeId']}:"
        return Known(orders={row["id"] for row in orders},
                     tags={row["id"]: row["tag"] for row in orders if row.get("tag") is not None},
                     trades={row["_id"][len(prefix):] for row in trades}, lines=int(lines["total"]))

    async def trades_of(self, trader: dict[str, Any]) -> list[dict[str, Any]]:
        found = await self.app.service(TRADES_PATH).find({"query": {"traderId": str(trader["_id"]),
                                                                    "$sort": {"timestamp": 1, "_id": 1}},
                                                          "paginate": False})
        assert isinstance(found, list)
        return found

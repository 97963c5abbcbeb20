"""Orders and trades of the matching engine: slotted objects inside, ccxt dicts at the edge.

`Order.to_ccxt()` and `Trade.to_ccxt()` give ccxt's unified order and trade structures
(the keys `Exchange.safe_order` / `safe_trade` produce, JSON-able, absent values `None`).
They are also the engine's journal and state records: the engine's own fields, needed to
rebuild an open order, ride in `info` (ccxt's place for the exchange's raw payload)::

    order["info"] = {"owner": str | None, "sequence": int, "reserved": {"currency": str, "amount": float} | None,
                     "ownerReserved": float, "triggerKind": "trigger" | "stopLoss" | "takeProfit" | None,
                     "triggerAbove": bool | None, "triggered": bool, "cost": float | None (the quote budget of
                     an order sized by cost), "amountStep": float | None, "slippage": float (fraction),
                     "reason": str | None (why the engine cancelled it)}
    trade["info"] = {"owner": str | None, "clientOrderId": str}

Inside the engine, absent numbers are NaN (`amount` of an order sized by cost until it
fills, `price` of a market order, `trigger_price` of a plain order).
"""

from __future__ import annotations

import math
from typing import Any

from .markets import Market

__all__ = ["NAN", "Order", "Trade", "iso8601"]

NAN = math.nan


def iso8601(timestamp: int | None) -> str | None:
    """ccxt's `Exchange.iso8601` (`2017-08-17T12:42:48.000Z`; None for None). ccxt is imported
    at the first call, by the ccxt-shaped edge: a backtest never makes these records."""
    from ccxt.base.exchange import Exchange

    return Exchange.iso8601(timestamp)


def _num(value: float) -> float | None:
    return None if value != value else value


def _nan(value: Any) -> float:
    return NAN if value is None else float(value)


class Trade:
    """One fill: `amount` of base at `price`; `cost = amount * price` in quote; `fee_cost` in
    `fee_currency` at `fee_rate`; `timestamp` is the market time of the price point (ms)."""

    __slots__ = ("amount", "client_order_id", "cost", "fee_cost", "fee_currency", "fee_rate", "id", "order_id",
                 "owner", "price", "side", "symbol", "taker", "timestamp", "type")

    def __init__(self, id: str, order_id: str, client_order_id: str, symbol: str, type: str, side: str, taker: bool,
                 price: float, amount: float, cost: float, fee_cost: float, fee_currency: str, fee_rate: float,
                 timestamp: int, owner: str | None) -> None:
        self.id = id
        self.order_id = order_id
        self.client_order_id = client_order_id
        self.symbol = symbol
        self.type = type
        self.side = side
        self.taker = taker
        self.price = price
        self.amount = amount
        self.cost = cost
        self.fee_cost = fee_cost
        self.fee_currency = fee_currency
        self.fee_rate = fee_rate
        self.timestamp = timestamp
        self.owner = owner

    def to_ccxt(self) -> dict[str, Any]:
        """ccxt's trade structure."""
        fee = {"cost": self.fee_cost, "currency": self.fee_currency, "rate": self.fee_rate}
        return {
            "info": {"owner": self.owner, "clientOrderId": self.client_order_id}, "id": self.id,
            "timestamp": self.timestamp, "datetime": iso8601(self.timestamp), "symbol": self.symbol,
            "order": self.order_id, "type": self.type, "side": self.side,
            "takerOrMaker": "taker" if self.taker else "maker", "price": self.price, "amount": self.amount,
            "cost": self.cost, "fee": fee, "fees": [dict(fee)],
        }

    @classmethod
    def from_ccxt(cls, record: dict[str, Any]) -> Trade:
        """From `to_ccxt()`'s shape (a journal or state record)."""
        fee, info = record["fee"], record["info"]
        return cls(record["id"], record["order"], info["clientOrderId"], record["symbol"], record["type"], record["side"],
                   record["takerOrMaker"] == "taker", record["price"], record["amount"], record["cost"], fee["cost"],
                   fee["currency"], fee["rate"], record["timestamp"], info["owner"])


class Order:
    """One order. Fields (units: base for amounts, quote for prices and costs, ms for times):

    `id`, `client_order_id`, `symbol`, `market`, `type` (`market` | `limit`), `side`
    (`buy` | `sell`), `amount` (NaN while an order sized by `budget` waits for its fill),
    `price` (limit price, NaN for market), `trigger_price` (NaN unless a stop),
    `trigger_kind` (`trigger`, `stopLoss`, `takeProfit` or None), `trigger_above` (it triggers
    when `last >= trigger_price`, else when `last <= trigger_price`), `triggered`,
    `budget` (ccxt's `cost` param: quote to spend, fee included; NaN if sized by amount),
    `amount_step` (0.0 or the whole-unit step), `time_in_force`, `post_only`, `slippage`
    (fraction), `owner`, `status` (`open`, `closed`, `canceled`), `filled`, `cost`,
    `fee_cost`, `fee_currency`, `fee_rate`, `reduce_only` (perpetuals: it may only reduce
    the owner's position), `timestamp` (placed, market time),
    `last_trade_timestamp`, `last_update_timestamp`, `reserve_currency` and `reserved` (what
    the account ledger holds for it), `owner_reserved` (what the owner's holding holds for
    it), `reason` (why the engine cancelled it), `trades`, `sequence` (placement order).
    """

    __slots__ = ("amount", "amount_step", "budget", "client_order_id", "cost", "fee_cost", "fee_currency", "fee_rate",
                 "filled", "id", "last_trade_timestamp", "last_update_timestamp", "market", "owner", "owner_reserved",
                 "post_only", "price", "reason", "reduce_only", "reserve_currency", "reserved", "sequence", "side", "slippage",
                 "status", "symbol", "time_in_force", "timestamp", "trades", "trigger_above", "trigger_kind",
                 "trigger_price", "triggered", "type")

    def __init__(self, id: str, client_order_id: str, market: Market, type: str, side: str, amount: float,
                 price: float, timestamp: int, sequence: int, trigger_price: float = NAN,
                 trigger_kind: str | None = None, trigger_above: bool | None = None, budget: float = NAN,
                 amount_step: float = 0.0, time_in_force: str = "GTC", post_only: bool = False, slippage: float = 0.0,
                 owner: str | None = None, reduce_only: bool = False) -> None:
        self.id = id
        self.client_order_id = client_order_id
        self.market = market
        self.symbol = market.symbol
        self.type = type
        self.side = side
        self.amount = amount
        self.price = price
        self.timestamp = timestamp
        self.sequence = sequence
        self.trigger_price = trigger_price
        self.trigger_kind = trigger_kind
        self.trigger_above = trigger_above
        self.triggered = False
        self.budget = budget
        self.amount_step = amount_step
        self.time_in_force = time_in_force
        self.post_only = post_only
        self.slippage = slippage
        self.owner = owner
        self.reduce_only = reduce_only
        self.status = "open"
        self.filled = 0.0
        self.cost = 0.0
        self.fee_cost = 0.0
        self.fee_currency: str | None = None
        self.fee_rate = NAN
        self.last_trade_timestamp: int | None = None
        self.last_update_timestamp = timestamp
        self.reserve_currency: str | None = None
        self.reserved = 0.0
        self.owner_reserved = 0.0
        self.reason: str | None = None
        self.trades: list[Trade] = []

    def fill_with(self, trade: Trade) -> None:
        """Record its (whole) fill: `closed`, filled by `trade`, nothing reserved any more."""
        self.amount = self.filled = trade.amount
        self.cost = trade.cost
        self.fee_cost, self.fee_currency, self.fee_rate = trade.fee_cost, trade.fee_currency, trade.fee_rate
        self.status = "closed"
        self.last_trade_timestamp = self.last_update_timestamp = trade.timestamp
        self.reserve_currency, self.reserved, self.owner_reserved = None, 0.0, 0.0
        self.trades.append(trade)

    @property
    def is_stop(self) -> bool:
        """Whether it has a trigger price (triggered or not)."""
        return self.trigger_price == self.trigger_price

    def to_ccxt(self) -> dict[str, Any]:
        """ccxt's order structure, the engine's fields in `info` (a filled market order's `price`
        is its average, as ccxt's `safe_order` makes it)."""
        trigger = _num(self.trigger_price)
        amount = _num(self.amount)
        filled = self.filled
        fee = None if self.fee_currency is None else {"cost": self.fee_cost, "currency": self.fee_currency,
                                                      "rate": self.fee_rate}
        average = self.cost / filled if filled else None
        price = _num(self.price)
        return {
            "id": self.id, "clientOrderId": self.client_order_id, "timestamp": self.timestamp,
            "datetime": iso8601(self.timestamp), "lastTradeTimestamp": self.last_trade_timestamp,
            "lastUpdateTimestamp": self.last_update_timestamp, "status": self.status, "symbol": self.symbol,
            "type": self.type, "timeInForce": self.time_in_force, "postOnly": self.post_only,
            "reduceOnly": self.reduce_only,
            "side": self.side, "price": average if price is None and self.type == "market" else price, "average": average,
            "amount": amount, "filled": filled,
            "remaining": None if amount is None else (amount - filled if self.status == "open" else 0.0),
            "cost": self.cost, "triggerPrice": trigger, "stopPrice": trigger,
            "stopLossPrice": trigger if self.trigger_kind == "stopLoss" else None,
            "takeProfitPrice": trigger if self.trigger_kind == "takeProfit" else None,
            "fee": fee, "fees": [] if fee is None else [dict(fee)], "trades": [trade.to_ccxt() for trade in self.trades],
            "info": {
                "owner": self.owner, "sequence": self.sequence,
                "reserved": None if self.reserve_currency is None else {"currency": self.reserve_currency,
                                                                        "amount": self.reserved},
                "ownerReserved": self.owner_reserved, "triggerKind": self.trigger_kind,
                "triggerAbove": self.trigger_above, "triggered": self.triggered, "cost": _num(self.budget),
                "amountStep": self.amount_step or None, "slippage": self.slippage, "reason": self.reason,
            },
        }

    @classmethod
    def from_ccxt(cls, record: dict[str, Any], market: Market) -> Order:
        """From `to_ccxt()`'s shape (a journal or state record); `trades` are left empty."""
        info = record["info"]
        order = cls(record["id"], record["clientOrderId"], market, record["type"], record["side"],
                    _nan(record["amount"]), _nan(record["price"]), record["timestamp"], info["sequence"],
                    trigger_price=_nan(record["triggerPrice"]), trigger_kind=info["triggerKind"],
                    trigger_above=info["triggerAbove"], budget=_nan(info["cost"]),
                    amount_step=info["amountStep"] or 0.0, time_in_force=record["timeInForce"],
                    post_only=record["postOnly"], slippage=info["slippage"], owner=info["owner"],
                    reduce_only=bool(record.get("reduceOnly")))
        order.triggered = info["triggered"]
        order.status = record["status"]
        order.filled = record["filled"]
        order.cost = record["cost"]
        fee = record["fee"]
        if fee is not None:
            order.fee_cost, order.fee_currency, order.fee_rate = fee["cost"], fee["currency"], fee["rate"]
        order.last_trade_timestamp = record["lastTradeTimestamp"]
        order.last_update_timestamp = record["lastUpdateTimestamp"]
        reserved = info["reserved"]
        if reserved is not None:
            order.reserve_currency, order.reserved = reserved["currency"], reserved["amount"]
        order.owner_reserved = info["ownerReserved"]
        order.reason = info["reason"]
        return order

    def __repr__(self) -> str:
        return f"Order({self.id!r}, {self.symbol} {self.side} {self.type} {self.amount!r} @ {self.price!r}, {self.status})"

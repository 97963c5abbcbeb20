"""A trader's positions, open and closed, from its fills, at average cost (`engine.positions.Position`).

A position opens with a buy from flat and closes when sells bring it back to flat (less
than `dust` base left): the spot, long-only cycle every shipped strategy trades. Each entry::

    {"symbol", "status": "open" | "closed", "side": "long", "amount", "entryPrice",
     "exitPrice", "realizedPnl", "unrealizedPnl", "roi", "fees", "openedAt", "closedAt", "trades"}

`amount` is what is held (open) or the most held (closed); `entryPrice` the average cost
per base of what was bought, fees included; `exitPrice` the average price of the sells
(None before one); `unrealizedPnl` values what is held at `price` (0 when unknown);
`roi` is the P&L in % of what the position cost. Fees are in quote (a fee in base valued
at its fill price), as the matching engine's positions keep them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .positions import Position

__all__ = ["position_history"]


class _Cycle:
    __slots__ = ("bought_cost", "bought_amount", "closed_at", "most", "opened_at", "position", "sold_amount",
                 "sold_value", "trades")

    def __init__(self, symbol: str, base: str, opened_at: int) -> None:
        self.position = Position("", symbol, base)
        self.opened_at = opened_at
        self.closed_at: int | None = None
        self.bought_amount = self.bought_cost = self.sold_amount = self.sold_value = self.most = 0.0
        self.trades = 0

    def add(self, trade: Mapping[str, Any], quote: str) -> None:
        amount, cost, price = float(trade["amount"]), float(trade["cost"]), float(trade["price"])
        fee = trade.get("fee") or {}
        fee_cost = float(fee.get("cost") or 0.0)
        fee_in_quote = fee.get("currency", quote) == quote
        fee_value = fee_cost if fee_in_quote else fee_cost * price
        self.trades += 1
        if trade["side"] == "buy":
            received, paid = (amount, cost + fee_cost) if fee_in_quote else (amount - fee_cost, cost)
            self.position.bought(received, paid, fee_value)
            self.bought_amount += received
            self.bought_cost += paid
        else:
            given, proceeds = (amount, cost - fee_cost) if fee_in_quote else (amount + fee_cost, cost)
            self.position.sold(str(trade.get("order", "")), given, proceeds, fee_value)
            self.sold_amount += amount
            self.sold_value += cost
        self.most = max(self.most, self.position.amount)

    def to_dict(self, price: float | None) -> dict[str, Any]:
        held = self.position
        closed = self.closed_at is not None
        unrealized = held.amount * price - held.cost if price is not None and held.amount and not closed else 0.0
        pnl = held.realized_pnl + unrealized
        return {"symbol": held.symbol, "status": "closed" if closed else "open", "side": "long",
                "amount": self.most if closed else held.amount,
                "entryPrice": self.bought_cost / self.bought_amount if self.bought_amount else None,
                "exitPrice": self.sold_value / self.sold_amount if self.sold_amount else None,
                "realizedPnl": held.realized_pnl, "unrealizedPnl": unrealized,
                "roi": pnl / self.bought_cost * 100.0 if self.bought_cost else 0.0, "fees": held.fees,
                "openedAt": self.opened_at, "closedAt": self.closed_at, "trades": self.trades}


def position_history(trades: Iterable[Mapping[str, Any]], price: float | None = None, *,
                     dust: float = 1e-12) -> list[dict[str, Any]]:
    """The positions of one trader's `trades` (ccxt's trade structures of one symbol, oldest
    first), oldest first; `price` values the open one."""
    cycles: list[_Cycle] = []
    current: _Cycle | None = None
    for trade in trades:
        base, _, quote = str(trade["symbol"]).partition("/")
        quote = quote.split(":")[0]
        if current is None:
            if trade["side"] != "buy":
                continue  # a sell with nothing held by this record: not a position of ours
            current = _Cycle(str(trade["symbol"]), base, int(trade["timestamp"]))
            cycles.append(current)
        current.add(trade, quote)
        if current.position.amount <= dust:
            current.closed_at = int(trade["timestamp"])
            current = None
    return [cycle.to_dict(price) for cycle in cycles]

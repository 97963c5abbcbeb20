"""What one trader (an order's `owner`) holds on one symbol, at average cost.

Several traders may share one account: each buys into its own position and sells only
from it, so one never closes another's. A position is a small ledger of the base currency
(what the owner holds, what its open sells reserve, checked exactly like `engine.ledger`)
plus its average-cost books, in quote:

- a buy adds what it brought in (base net of a fee charged in base) and what it cost
  (quote paid, fee included) to `amount` and `cost`;
- a sell of `given` base (fee in base included) takes `cost * given / amount` out of the
  cost basis, and `realized_pnl` gains the proceeds (net of a fee in quote) minus that;
- `fees` adds up every fee, valued in quote at the fill price.

So `realized_pnl` is net of fees on both legs (backtesting.py's trade P&L is too), and
`average_cost = cost / amount` is the break-even price of what is held.
"""

from __future__ import annotations

from typing import Any

from .errors import InsufficientBalance
from .ledger import Reservations, exact

__all__ = ["Position"]


class Position:
    """`owner`'s position on `symbol` (base currency `base`)."""

    __slots__ = ("amount", "base", "cost", "fees", "owner", "realized_pnl", "reserved", "symbol")

    def __init__(self, owner: str, symbol: str, base: str) -> None:
        self.owner = owner
        self.symbol = symbol
        self.base = base
        self.amount = 0.0
        self.cost = 0.0
        self.realized_pnl = 0.0
        self.fees = 0.0
        self.reserved = Reservations()

    @property
    def average_cost(self) -> float | None:
        """Quote paid per base held, fees included (None when flat)."""
        return self.cost / self.amount if self.amount else None

    def reserve(self, order_id: str, amount: float) -> None:
        """Hold `amount` base for a sell order of this owner; `InsufficientBalance` if the owner
        holds less than that beyond its other open sells."""
        if not self.reserved.room(self.amount, amount, order_id):
            available = self.amount - self.reserved.total + self.reserved.get(order_id)
            raise InsufficientBalance(
                f"{self.owner!r} holds {available!r} {self.base} on {self.symbol} free to sell, {amount!r} needed",
                currency=self.base, needed=amount, available=available, owner=self.owner, symbol=self.symbol)
        self.reserved.hold(order_id, amount)

    def release(self, order_id: str) -> None:
        self.reserved.drop(order_id)

    def free_exact(self) -> int:
        """What the owner holds beyond its open sells, exactly (units of 2**-1074, `engine.ledger.exact`)."""
        if not self.reserved:
            return exact(self.amount)
        return exact(self.amount) - sum(exact(self.reserved.get(order_id)) for order_id in self.reserved)

    def bought(self, received: float, paid: float, fee_value: float) -> None:
        """A buy fill brought in `received` base for `paid` quote (fee included)."""
        self.amount += received
        self.cost += paid
        self.fees += fee_value

    def sold(self, order_id: str, given: float, proceeds: float, fee_value: float) -> None:
        """A sell fill of order `order_id` gave `given` base (fee included) for `proceeds` quote."""
        self.reserved.drop(order_id)
        if given >= self.amount:
            basis, self.amount, self.cost = self.cost, 0.0, 0.0
        else:
            basis = self.cost * (given / self.amount)
            self.amount -= given
            self.cost -= basis
        self.realized_pnl += proceeds - basis
        self.fees += fee_value

    def to_dict(self) -> dict[str, Any]:
        """`{owner, symbol, base, amount, cost, averageCost, realizedPnl, fees, reserved}` (JSON-able)."""
        return {"owner": self.owner, "symbol": self.symbol, "base": self.base, "amount": self.amount,
                "cost": self.cost, "averageCost": self.average_cost, "realizedPnl": self.realized_pnl,
                "fees": self.fees, "reserved": self.reserved.as_dict()}

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Position:
        """From `to_dict()`; `reserved` is left empty (the open orders reserve again)."""
        position = cls(record["owner"], record["symbol"], record["base"])
        position.amount, position.cost = record["amount"], record["cost"]
        position.realized_pnl, position.fees = record["realizedPnl"], record["fees"]
        return position

"""Balances of one account: ccxt's `free`, `used` and `total` per currency, and reservations.

An open order reserves what it may spend (its cost plus the fee it may pay, or the amount
it sells), under its order id: `used` is the sum of a currency's reservations, `free` is
`total - used`. A reservation is released on cancel and spent on fill.

Floats, kept exact where it matters (`Reservations`):

- every check that a reservation or a payment fits (`total - others - amount >= 0`) is an
  exact sign test, so `used <= total` and no total ever goes below zero, even by one ulp;
- `used` is the correctly rounded sum of the open reservations, whatever the order they
  were made and released in, so an account rebuilt from its open orders has bit-identical
  balances;
- `total` changes only by deposits and fills, one rounding each; replaying the same fills
  in the same order gives the same bits.

Exact sums are Python integers counting units of 2**-1074 (every float is a whole number of
them), kept up to date as reservations come and go: each operation costs O(1) however many
orders are open.

No method awaits: a check and the reservation it allows happen in one step, so two orders
racing for the same funds can not both get them. Keys are currency codes (any hashable
works). Perpetuals' isolated margin is one more reservation on the settle currency, held
under the position's id, and their fills settle with `rebalance` (a signed change of the
total, the order's reservation released and the margin held again, all or nothing).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator, Mapping

from .errors import InsufficientBalance

__all__ = ["Ledger", "Reservations", "exact"]

_SCALE = 1 << 1074


def exact(x: float) -> int:
    """`x` (a finite float) in units of 2**-1074: an integer, exactly."""
    numerator, denominator = x.as_integer_ratio()
    return numerator << (1075 - denominator.bit_length())


class Reservations:
    """Amounts held by open orders (by order id), summed exactly; `total` is the sum, correctly rounded."""

    __slots__ = ("_amounts", "_exact", "total")

    def __init__(self) -> None:
        self._amounts: dict[str, float] = {}
        self._exact = 0  # the exact sum, kept while two or more amounts are held
        self.total = 0.0

    def __len__(self) -> int:
        return len(self._amounts)

    def __iter__(self) -> Iterator[str]:
        return iter(self._amounts)

    def get(self, order_id: str) -> float:
        return self._amounts.get(order_id, 0.0)

    def as_dict(self) -> dict[str, float]:
        return dict(self._amounts)

    def hold(self, order_id: str, amount: float) -> None:
        """Hold `amount` for `order_id` (replacing what it held)."""
        amounts = self._amounts
        old = amounts.get(order_id)
        amounts[order_id] = amount
        count = len(amounts)
        if count == 1:
            self.total = amount
            return
        if count == 2 and old is None:
            self._exact = sum(map(exact, amounts.values()))
        else:
            self._exact += exact(amount) - (exact(old) if old is not None else 0)
        self.total = self._exact / _SCALE

    def drop(self, order_id: str) -> float:
        """Stop holding for `order_id`; returns what it held (0.0 if nothing)."""
        amounts = self._amounts
        amount = amounts.pop(order_id, None)
        if amount is None:
            return 0.0
        count = len(amounts)
        if count == 0:
            self.total = 0.0
        elif count == 1:
            self.total = next(iter(amounts.values()))
        else:
            self._exact -= exact(amount)
            self.total = self._exact / _SCALE
        return amount

    def held_exact(self, excluded: set[str]) -> int:
        """The exact sum (units of 2**-1074) of what is held for ids not in `excluded`."""
        return sum(exact(amount) for order_id, amount in self._amounts.items() if order_id not in excluded)

    def room(self, total: float, amount: float, exclude: str | None = None, kept: int = 0) -> bool:
        """Whether `total - (held, except for exclude) - kept - amount >= 0`, exactly
        (`kept` in units of 2**-1074, see `exact`)."""
        amounts = self._amounts
        held = amounts.get(exclude) if exclude is not None else None
        others = len(amounts) - (held is not None)
        if not kept and others <= 1:
            if not others:
                return amount <= total
            other = next(value for key, value in amounts.items() if key != exclude)
            return math.fsum((total, -other, -amount)) >= 0.0  # fsum is correctly rounded: its sign is exact
        held_exact = self._exact if len(amounts) >= 2 else sum(map(exact, amounts.values()))
        if held is not None:
            held_exact -= exact(held)
        return exact(total) - held_exact - kept - exact(amount) >= 0


class Ledger:
    """Totals and reservations per key (a currency code, for an account's balances).

    `Ledger({"USDT": 10000.0})`. Amounts are non-negative floats. `reserve` raises
    `InsufficientBalance` with `details={"currency", "needed", "available"}` when the free
    amount is short (`context` adds details); `transfer` answers False instead. `kept`
    (units of 2**-1074) is an amount of the key held back for others: what traders hold,
    that nobody else may spend.
    """

    __slots__ = ("_reserved", "_totals")

    def __init__(self, totals: Mapping[Hashable, float] | None = None) -> None:
        self._totals: dict[Hashable, float] = {}
        self._reserved: dict[Hashable, Reservations] = {}
        for key, amount in (totals or {}).items():
            self.credit(key, amount)

    def total(self, key: Hashable) -> float:
        return self._totals.get(key, 0.0)

    def used(self, key: Hashable) -> float:
        reserved = self._reserved.get(key)
        return reserved.total if reserved is not None else 0.0

    def free(self, key: Hashable) -> float:
        return self._totals.get(key, 0.0) - self.used(key)

    def reserved(self, order_id: str, key: Hashable) -> float:
        """What order `order_id` holds reserved of `key` (0.0 if nothing)."""
        reserved = self._reserved.get(key)
        return reserved.get(order_id) if reserved is not None else 0.0

    def totals(self) -> dict[Hashable, float]:
        """`{key: total}` for every key that has had one, in first-seen order."""
        return dict(self._totals)

    def credit(self, key: Hashable, amount: float) -> None:
        """Add `amount` (>= 0) to the total of `key`: a deposit, or what a fill brings in."""
        if not amount >= 0.0 or amount == math.inf:
            raise ValueError(f"a credit must be a finite non-negative amount, not {amount!r}")
        self._totals[key] = self._totals.get(key, 0.0) + amount

    def reserve(self, order_id: str, key: Hashable, amount: float, kept: int = 0,
                context: Mapping[str, object] | None = None) -> None:
        """Reserve `amount` of `key` for `order_id` (replacing what it held), if it is free
        beyond `kept`; `context` adds details to the error."""
        reserved = self._reserved.get(key)
        if reserved is None:
            reserved = self._reserved[key] = Reservations()
        if not reserved.room(self._totals.get(key, 0.0), amount, order_id, kept):
            available = self.free(key) + reserved.get(order_id) - kept / _SCALE
            details = {"currency": key, **(context or {}), "needed": amount, "available": available}
            raise InsufficientBalance(f"insufficient {details['currency']}: {amount!r} needed, {available!r} available",
                                      **details)
        reserved.hold(order_id, amount)

    def release(self, order_id: str, key: Hashable) -> float:
        """Release what `order_id` holds of `key`; returns the amount (0.0 if none)."""
        reserved = self._reserved.get(key)
        return reserved.drop(order_id) if reserved is not None else 0.0

    def transfer(self, order_id: str | None, pay_key: Hashable, pay: float, get_key: Hashable, get: float,
                 kept: int = 0) -> bool:
        """A fill: pay `pay` of `pay_key` (from `order_id`'s reservation, released, plus the free
        amount beyond `kept`) and receive `get` of `get_key`. Returns False, changing nothing, if
        it does not fit.

        A payment within its own reservation is not checked again, and `total - pay` is rounded:
        after several fills of orders that reserved a total exactly, the rounding could leave the
        total an ulp below what the other open orders still reserve (and the last of them would
        take it below zero). The total is then kept at their correctly rounded sum: at most an
        ulp more than the exact difference, never a negative `free` or `total`."""
        reserved = self._reserved.get(pay_key)
        total = self._totals.get(pay_key, 0.0)
        if reserved is None:
            if pay > total or (kept and exact(total) - kept - exact(pay) < 0):
                return False
        elif (order_id is None or pay > reserved.get(order_id)) and not reserved.room(total, pay, order_id, kept):
            return False  # (within its own reservation a payment always fits)
        left = total - pay
        if reserved is not None and order_id is not None:
            reserved.drop(order_id)
            if left < reserved.total:  # see below
                left = reserved.total
        self._totals[pay_key] = left
        self._totals[get_key] = self._totals.get(get_key, 0.0) + get
        return True

    def rebalance(self, key: Hashable, change: float, drop: str | None, holds: Mapping[str, float]) -> bool:
        """A perpetual's settlement on `key` (its settle currency): add `change` (P&L, fees,
        funding: any sign) to the total, release `drop`'s reservation (an order's, or None),
        and hold `holds` (`{position id: margin}`, 0.0 releasing). All or nothing: False,
        changing nothing, unless the new total is >= 0 and covers every reservation, exactly."""
        total = self._totals.get(key, 0.0) + change
        reserved = self._reserved.get(key)
        if reserved is None:
            reserved = self._reserved[key] = Reservations()
        excluded = set(holds) if drop is None else {*holds, drop}
        if exact(total) - reserved.held_exact(excluded) - sum(map(exact, holds.values())) < 0:
            return False
        self._totals[key] = total
        if drop is not None:
            reserved.drop(drop)
        for holder, amount in holds.items():
            if amount > 0.0:
                reserved.hold(holder, amount)
            else:
                reserved.drop(holder)
        return True

    def balances(self) -> dict[Hashable, tuple[float, float, float]]:
        """`{key: (free, used, total)}` for every key."""
        result = {}
        for key, total in self._totals.items():
            used = self.used(key)
            result[key] = (total - used, used, total)
        return result

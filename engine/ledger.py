"""Balances of one account: ccxt's `free`, `used` and `total` per currency, and reservations.

An open order reserves what it may spend (its cost plus the fee it may pay, or the amount
it sells), under its order id: `used` is the sum of a currency's reservations, `free` is
`total - used`. A reservation is released on cancel and spent on fill.

Floats, kept exact where it matters:

- every check that a reservation or a payment fits (`total - others - amount >= 0`) is an
  exact sign test (`math.fsum` is correctly rounded), so `used <= total` and no total ever
  goes below zero, even by one ulp;
- `used` is the correctly rounded sum of the open reservations, whatever the order they
  were made and released in, so an account rebuilt from its open orders has bit-identical
  balances;
- `total` changes only by deposits and fills, one rounding each; replaying the same fills
  in the same order gives the same bits.

No method awaits: a check and the reservation it allows happen in one step, so two orders
racing for the same funds can not both get them. Keys are currency codes (any hashable
works). Margin (issue 18) fits as one more reservation on the settle currency.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping

from .errors import InsufficientBalance

__all__ = ["Ledger", "fits"]


def fits(total: float, reserved: Mapping[str, float], amount: float, exclude: str | None = None,
         kept: Iterable[float] = ()) -> bool:
    """Whether `total - sum(reserved except exclude) - sum(kept) - amount >= 0`, exactly."""
    if not kept and (not reserved or (exclude is not None and len(reserved) == 1 and exclude in reserved)):
        return amount <= total
    terms = [total, -amount]
    terms += [-value for key, value in reserved.items() if key != exclude]
    terms += [-value for value in kept]
    return math.fsum(terms) >= 0.0


class Ledger:
    """Totals and reservations per key (a currency code, for an account's balances).

    `Ledger({"USDT": 10000.0})`. Amounts are non-negative floats. `reserve` raises
    `InsufficientBalance` with `details={"currency", "needed", "available"}` when the free
    amount is short (`context` adds details); `transfer` answers False instead.
    """

    __slots__ = ("_reserved", "_totals", "_used")

    def __init__(self, totals: Mapping[Hashable, float] | None = None) -> None:
        self._totals: dict[Hashable, float] = {}
        self._reserved: dict[Hashable, dict[str, float]] = {}
        self._used: dict[Hashable, float] = {}
        for key, amount in (totals or {}).items():
            self.credit(key, amount)

    def total(self, key: Hashable) -> float:
        return self._totals.get(key, 0.0)

    def used(self, key: Hashable) -> float:
        return self._used.get(key, 0.0)

    def free(self, key: Hashable) -> float:
        return self._totals.get(key, 0.0) - self._used.get(key, 0.0)

    def reserved(self, order_id: str, key: Hashable) -> float:
        """What order `order_id` holds reserved of `key` (0.0 if nothing)."""
        return self._reserved.get(key, {}).get(order_id, 0.0)

    def totals(self) -> dict[Hashable, float]:
        """`{key: total}` for every key that has had one, in first-seen order."""
        return dict(self._totals)

    def credit(self, key: Hashable, amount: float) -> None:
        """Add `amount` (>= 0) to the total of `key`: a deposit, or what a fill brings in."""
        if not amount >= 0.0 or amount == math.inf:
            raise ValueError(f"a credit must be a finite non-negative amount, not {amount!r}")
        self._totals[key] = self._totals.get(key, 0.0) + amount

    def reserve(self, order_id: str, key: Hashable, amount: float, kept: Iterable[float] = (),
                **context: object) -> None:
        """Reserve `amount` of `key` for `order_id` (replacing what it held), if it is free
        beyond `kept` (terms of `key` held back for others, e.g. what traders hold)."""
        reserved = self._reserved.setdefault(key, {})
        kept = list(kept)
        if not fits(self._totals.get(key, 0.0), reserved, amount, exclude=order_id, kept=kept):
            raise self._short(key, amount, reserved.get(order_id, 0.0) - math.fsum(kept), context)
        reserved[order_id] = amount
        self._resum(key, reserved)

    def release(self, order_id: str, key: Hashable) -> float:
        """Release what `order_id` holds of `key`; returns the amount (0.0 if none)."""
        reserved = self._reserved.get(key)
        if not reserved or order_id not in reserved:
            return 0.0
        amount = reserved.pop(order_id)
        self._resum(key, reserved)
        return amount

    def transfer(self, order_id: str | None, pay_key: Hashable, pay: float, get_key: Hashable, get: float,
                 kept: Iterable[float] = ()) -> bool:
        """A fill: pay `pay` of `pay_key` (from `order_id`'s reservation, released, plus the free
        amount beyond `kept`) and receive `get` of `get_key`. Returns False, changing nothing, if
        it does not fit."""
        reserved = self._reserved.get(pay_key)
        total = self._totals.get(pay_key, 0.0)
        if reserved and order_id in reserved and pay <= reserved[order_id]:
            pass  # within its own reservation: fits, since all reservations fit in the total
        elif not fits(total, reserved or {}, pay, exclude=order_id, kept=list(kept)):
            return False
        self._totals[pay_key] = total - pay
        self._totals[get_key] = self._totals.get(get_key, 0.0) + get
        if reserved and order_id in reserved:
            del reserved[order_id]
            self._resum(pay_key, reserved)
        return True

    def _resum(self, key: Hashable, reserved: dict[str, float]) -> None:
        count = len(reserved)
        self._used[key] = 0.0 if not count else next(iter(reserved.values())) if count == 1 else math.fsum(
            reserved.values())

    def _short(self, key: Hashable, needed: float, held: float, context: Mapping[str, object]) -> InsufficientBalance:
        available = self.free(key) + held
        details = {"currency": key, **context, "needed": needed, "available": available}
        return InsufficientBalance(f"insufficient {details['currency']}: {needed!r} needed, {available!r} available",
                                   **details)

    def balances(self) -> dict[Hashable, tuple[float, float, float]]:
        """`{key: (free, used, total)}` for every key."""
        return {key: (total - self._used.get(key, 0.0), self._used.get(key, 0.0), total)
                for key, total in self._totals.items()}

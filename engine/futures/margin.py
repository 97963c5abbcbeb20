"""Margin arithmetic of linear (USDⓈ-margined) perpetuals, isolated margin, one position per side.

Units: `contracts` in base (contract size 1), prices in quote per base, money in the settle
currency (the quote: USDT). `side` is +1 for a long, -1 for a short.

- notional = contracts * price;
- initial margin = notional at the entry price / leverage (what opening reserves);
- maintenance margin = notional at the mark price * maintenance margin rate (MMR);
- unrealized P&L = side * contracts * (mark - entry);
- a position is liquidated when its margin balance (isolated margin + unrealized P&L)
  falls to its maintenance margin, which happens exactly when the mark price reaches the
  liquidation price.

Liquidation price (Binance USDⓈ-M futures, "How to Calculate Liquidation Price of USDⓈ-M
Contracts", https://www.binance.com/en/support/faq/b3c689c1f50a44cabb3a84e663b81d93), for
isolated margin and one position, with the maintenance amount `cum` of the first tier (0)::

    LP = (WB + cum - side * contracts * entry) / (contracts * MMR - side * contracts)

`WB` being the position's isolated margin (wallet balance of an isolated position). So
`LP = (entry * contracts - WB) / (contracts * (1 - MMR))` for a long and
`LP = (entry * contracts + WB) / (contracts * (1 + MMR))` for a short. A long's LP at or
below zero means it can not be liquidated (margin of 100% or more).
"""

from __future__ import annotations

__all__ = ["initial_margin", "liquidation_price", "maintenance_margin", "unrealized_pnl"]


def initial_margin(contracts: float, price: float, leverage: float) -> float:
    """`contracts * price / leverage` (>= 0)."""
    return abs(contracts) * price / leverage


def maintenance_margin(contracts: float, mark: float, rate: float) -> float:
    """`|contracts| * mark * rate` (>= 0)."""
    return abs(contracts) * mark * rate


def unrealized_pnl(contracts: float, entry: float, mark: float) -> float:
    """`contracts * (mark - entry)` with `contracts` signed (negative: short)."""
    return contracts * (mark - entry)


def liquidation_price(contracts: float, entry: float, margin: float, rate: float) -> float:
    """The mark price at which a position of signed `contracts` entered at `entry` with isolated
    `margin` and maintenance margin rate `rate` is liquidated (Binance's formula, module
    docstring); 0.0 for a long that can not be (its margin covers the whole notional), NaN flat."""
    if not contracts:
        return float("nan")
    size = abs(contracts)
    if contracts > 0:
        return max((entry * size - margin) / (size * (1.0 - rate)), 0.0)
    return (entry * size + margin) / (size * (1.0 + rate))

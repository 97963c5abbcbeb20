"""Spot grids: HaasOnline's spot grid settings, the grid's levels, and the orders it places.

A grid splits a price range `[lowerLimit, upperLimit]` into `gridCount` intervals (HaasOnline:
"the amount of grids the price range is split into"), so it has `gridCount + 1` price levels
`L_0 < ... < L_N`: evenly spaced by a constant difference (`Arithmetic`) or a constant ratio
(`Geometric`), rounded to the market's price precision (ccxt ROUND).

Each interval `k` (grid `k`) trades one `amount` of base between its two levels: a limit
buy at `L_k` while it holds nothing, a limit sell at `L_{k+1}` while it holds the amount.
At a price `p` (the last price when the grid starts):

- grids with `L_k < p` are buy grids: a limit buy at `L_k`, below the price;
- grids with `L_k >= p` are sell grids: a limit sell at `L_{k+1}`, above the price. They need
  the base they sell: with `tradeToFillGrid` a market buy of `amount x (sell grids)` comes
  first and the sells are placed when it fills; without it, a strategy holds no base when it
  starts (a trader's position starts empty), so sell grids stay idle until a buy below
  fills and moves up.

So no order is at or through the price (none would fill at once as a taker), and the level
nearest above the price is left empty. A price outside `[lowerLimit, upperLimit]` places
nothing: the grid waits (`GridPlan.waiting`) and the strategy starts it at the first
closed candle inside the range (our rule; HaasOnline does not document one).

The amount per grid (the same for every grid, so a sell sells what the buy below bought):
with `investmentAsset` `Quote`, the investment buys one amount at the lower level of every
grid, fees included: `investmentAmount / (sum(L_0..L_{N-1}) * (1 + fee rate))`; with `Base`,
`investmentAmount / gridCount`. Truncated to the market's amount precision (ccxt TRUNCATE).
An amount below the market's minimum amount, or an order below its minimum cost, is refused
(`InvalidSettings` on `investmentAmount`).

A limit of 0 (the defaults) is set from the price the grid starts at: `rangePercent`
below it (the lower limit) or above it (the upper limit), so a grid created with no
settings at all runs on any market.

`preview_grid(settings, price, market)` answers what a grid would place at `price`
(`strategies/grid-preview`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidSettings
from ..indicators import rsi
from ..markets import Market
from .settings import Setting, SettingsSchema

__all__ = ["GRID_SCHEMA", "GridOrder", "GridPlan", "condition", "grid_levels", "plan_grid", "preview_grid"]

MAX_VALUE = 1e15
"""The largest price or investment a grid takes (beyond it, ccxt's decimal rounding fails)."""
RSI_PERIOD = 14
"""The RSI of the start and stop conditions (HaasOnline: the main interval, 14 periods)."""
CONDITIONS = ("Price", "RSI")
SIDES = ("Above value", "Below value")


def _checks(values: dict[str, Any]) -> Mapping[str, str]:
    errors: dict[str, str] = {}
    lower, upper = values["lowerLimit"], values["upperLimit"]
    if lower > 0 and upper > 0 and lower >= upper:
        errors["lowerLimit"] = f"must be below the upper limit ({upper})"
    if not values["investmentAmount"] > 0:
        errors["investmentAmount"] = "must be more than 0"
    loss, profit = values["stopLossPrice"], values["takeProfitPrice"]
    if loss and profit and loss >= profit:
        errors["stopLossPrice"] = f"must be below the take-profit price ({profit})"
    for which in ("start", "stop"):
        kind, value = values[f"{which}Condition"], values[f"{which}Value"]
        if kind == "Price" and not value > 0:
            errors[f"{which}Value"] = f"must be a price above 0 with a Price {which} condition"
        if kind == "RSI" and not 0 < value < 100:
            errors[f"{which}Value"] = f"must be between 0 and 100 with an RSI {which} condition"
    return errors


_RANGE, _MODE, _INVEST, _ADVANCED = "Price range", "Grid mode & quantity", "Investment amount", "Advanced Settings"

GRID_SCHEMA = SettingsSchema((
    Setting.number("lowerLimit", "Lower limit", 0.0, min=0.0, max=MAX_VALUE, group=_RANGE, can_be_edited=False,
                   description="Lower price limit; 0: `rangePercent` below the price the grid starts at."),
    Setting.number("upperLimit", "Upper limit", 0.0, min=0.0, max=MAX_VALUE, group=_RANGE, can_be_edited=False,
                   description="Upper price limit; 0: `rangePercent` above the price the grid starts at."),
    Setting.number("rangePercent", "Range %", 10.0, min=0.01, max=99.0, group=_RANGE, can_be_edited=False,
                   description="How far from the start price a limit of 0 is set, in percent."),
    Setting.option("gridMode", "Grid mode", "Arithmetic", ("Arithmetic", "Geometric"), group=_MODE,
                   can_be_edited=False,
                   description="Arithmetic: levels a constant price difference apart; Geometric: a constant "
                               "percentage apart."),
    Setting.number("gridCount", "Grid count", 10, integer=True, min=1, max=1000, group=_MODE, can_be_edited=False,
                   description="The number of grids (intervals) the price range is split into."),
    Setting.option("investmentAsset", "Asset", "Quote", ("Base", "Quote"), group=_INVEST, can_be_edited=False,
                   description="The currency of the investment amount: Base (BTC on BTC/USDT) or Quote (USDT)."),
    Setting.number("investmentAmount", "Amount", 1000.0, min=0.0, max=MAX_VALUE, group=_INVEST, can_be_edited=False,
                   description="Total amount invested in the grid range, split among the grids."),
    Setting("tradeToFillGrid", "Trade to fill grids?", "boolean", False, group=_ADVANCED, can_be_edited=False,
            description="Buy at market, when the grid starts, the base its sell grids (above the price) need."),
    Setting.option("startCondition", "Start condition", "Instant", ("Instant", *CONDITIONS), group=_ADVANCED,
                   can_be_edited=False,
                   description="Instant: at the first closed candle; Price or RSI (14): at the first close where "
                               "the price or RSI is above or below the start value."),
    Setting.option("startType", "Start type", "Above value", SIDES, group=_ADVANCED, can_be_edited=False,
                   description="Start when above or below the start value."),
    Setting.number("startValue", "Start value", 0.0, min=0.0, group=_ADVANCED, can_be_edited=False,
                   description="The price or RSI of a Price or RSI start condition."),
    Setting.option("stopCondition", "Stop condition", "Manual", ("Manual", *CONDITIONS), group=_ADVANCED,
                   description="Manual: never stops by itself; Price or RSI (14): cancels the grid's orders at the "
                               "first close where the price or RSI is above or below the stop value."),
    Setting.option("stopType", "Stop type", "Above value", SIDES, group=_ADVANCED,
                   description="Stop when above or below the stop value."),
    Setting.number("stopValue", "Stop value", 0.0, min=0.0, group=_ADVANCED,
                   description="The price or RSI of a Price or RSI stop condition."),
    Setting.number("stopLossPrice", "Stop-loss price", 0.0, min=0.0, max=MAX_VALUE, group=_ADVANCED,
                   description="Also stop at the first close at or below this price (0: off)."),
    Setting.number("takeProfitPrice", "Take-profit price", 0.0, min=0.0, max=MAX_VALUE, group=_ADVANCED,
                   description="Also stop at the first close at or above this price (0: off)."),
    Setting("stopExit", "Stop exits", "boolean", False, group=_ADVANCED,
            description="When the grid stops, also sell everything it holds at market."),
), _checks)


def uses_rsi(settings: Mapping[str, Any]) -> bool:
    return "RSI" in (settings["startCondition"], settings["stopCondition"])


def condition(settings: Mapping[str, Any], which: str, close: np.ndarray, rsi_values: np.ndarray | None) -> np.ndarray:
    """Bool array (n,): where the `which` (`start` or `stop`) condition holds at a close.
    `Instant` holds everywhere, `Manual` nowhere; NaN (RSI warm-up) never holds. The stop
    also holds at or beyond `stopLossPrice` and `takeProfitPrice` (when not 0)."""
    kind = settings[f"{which}Condition"]
    if which == "stop" and (settings["stopLossPrice"] or settings["takeProfitPrice"]):
        beyond = condition({**settings, "stopLossPrice": 0.0, "takeProfitPrice": 0.0}, which, close, rsi_values)
        if settings["stopLossPrice"]:
            beyond |= close <= settings["stopLossPrice"]
        if settings["takeProfitPrice"]:
            beyond |= close >= settings["takeProfitPrice"]
        return beyond
    if kind == "Instant":
        return np.ones(len(close), bool)
    if kind == "Manual":
        return np.zeros(len(close), bool)
    values = close if kind == "Price" else rsi_values if rsi_values is not None else rsi(close, RSI_PERIOD)
    threshold = settings[f"{which}Value"]
    with np.errstate(invalid="ignore"):
        return np.asarray(values > threshold if settings[f"{which}Type"] == "Above value" else values < threshold)


def grid_range(settings: Mapping[str, Any], price: float) -> tuple[float, float]:
    """`(lower, upper)` of a grid starting at `price` (limits of 0 set from `rangePercent`)."""
    share = settings["rangePercent"] / 100.0
    return settings["lowerLimit"] or price * (1.0 - share), settings["upperLimit"] or price * (1.0 + share)


def grid_levels(lower: float, upper: float, count: int, mode: str = "Arithmetic") -> list[float]:
    """The `count + 1` levels from `lower` to `upper` (exactly both ends), a constant difference
    (`Arithmetic`) or ratio (`Geometric`) apart; unrounded."""
    if mode == "Geometric":
        ratio = upper / lower
        levels = [lower * ratio ** (k / count) for k in range(count + 1)]
    else:
        levels = [lower + (upper - lower) * k / count for k in range(count + 1)]
    levels[0], levels[-1] = lower, upper
    return levels


@dataclass(frozen=True, slots=True)
class GridOrder:
    """One order of a grid: a `limit` at `price` for grid `grid`, or the `market` buy that fills
    the sell grids (`price` and `grid` None); `amount` in base."""

    side: str
    type: str
    price: float | None
    amount: float
    grid: int | None

    def to_wire(self) -> dict[str, Any]:
        return {"side": self.side, "type": self.type, "price": self.price, "amount": self.amount, "grid": self.grid}


@dataclass(frozen=True)
class GridPlan:
    """What a grid does at `price`: its rounded `levels`, the base `amount` per grid, the grids
    that buy (`buys`, indices k: a buy at `levels[k]`) and those that sell (`sells`: a sell at
    `levels[k + 1]`, placed only when `fill` > 0 bought their base); `waiting` says why nothing
    is placed (the price outside the range), else None."""

    price: float
    lower: float
    upper: float
    levels: tuple[float, ...]
    amount: float
    buys: tuple[int, ...]
    sells: tuple[int, ...]
    fill: float
    waiting: str | None

    def orders(self) -> list[GridOrder]:
        """The orders placed at start, in order: the market buy that fills the sell grids, the
        buys from the nearest level down, then the sells from the nearest level up."""
        if self.waiting is not None:
            return []
        orders = [GridOrder("buy", "market", None, self.fill, None)] if self.fill else []
        orders += [GridOrder("buy", "limit", self.levels[k], self.amount, k) for k in reversed(self.buys)]
        if self.fill:
            orders += [GridOrder("sell", "limit", self.levels[k + 1], self.amount, k) for k in self.sells]
        return orders

    def to_wire(self) -> dict[str, Any]:
        """`{price, lower, upper, levels, amountPerGrid, orders: [{side, type, price, amount, grid}],
        idleGrids, waiting}` (`idleGrids`: sell grids without base to sell)."""
        return {"price": self.price, "lower": self.lower, "upper": self.upper, "levels": list(self.levels),
                "amountPerGrid": self.amount, "orders": [order.to_wire() for order in self.orders()],
                "idleGrids": 0 if self.fill or self.waiting else len(self.sells), "waiting": self.waiting}


def plan_grid(settings: Mapping[str, Any], price: float, market: Market, *, fee_rate: float,
              min_amount: float | None = None) -> GridPlan:
    """The grid of complete `settings` (`GRID_SCHEMA.validate`) at the last price `price` on
    `market` (see the module docstring). `fee_rate` sizes quote investments; `min_amount`
    (default the market's) is the least amount per grid. Raises `InvalidSettings` when the
    levels collapse at the market's precision or the amount per grid is too small."""
    try:
        return _plan(settings, price, market, fee_rate, min_amount)
    except ArithmeticError:  # decimal rounding of an amount or price beyond its precision's digits
        raise InvalidSettings({"investmentAmount": f"amounts or prices beyond what {market.symbol}'s precision can "
                                                   f"express"}) from None


def _plan(settings: Mapping[str, Any], price: float, market: Market, fee_rate: float,
          min_amount: float | None) -> GridPlan:
    lower, upper = grid_range(settings, price)
    count = settings["gridCount"]
    levels = tuple(market.price_to_precision(level) for level in grid_levels(lower, upper, count, settings["gridMode"]))
    if any(not b > a for a, b in itertools.pairwise(levels)) or not levels[0] > 0:
        raise InvalidSettings({"gridCount": f"{count} grids from {lower} to {upper} put levels closer than the price "
                                            f"precision of {market.symbol}"})
    investment = settings["investmentAmount"]
    if settings["investmentAsset"] == "Base":
        raw = investment / count
    else:
        raw = investment / (math.fsum(levels[:-1]) * (1.0 + fee_rate))
    amount = market.amount_to_precision(raw)
    least = market.min_amount if min_amount is None else min_amount
    if not (amount > 0 and amount >= least):
        raise InvalidSettings({"investmentAmount": f"{investment} {settings['investmentAsset'].lower()} over {count} "
                                                   f"grids is {raw:.8g} {market.base} a grid, below the minimum "
                                                   f"amount {least} of {market.symbol}"})
    if amount > market.max_amount:
        raise InvalidSettings({"investmentAmount": f"{amount} {market.base} a grid is above the maximum amount "
                                                   f"{market.max_amount} of {market.symbol}"})
    if amount * levels[0] < market.min_cost:
        raise InvalidSettings({"investmentAmount": f"a grid's order costs {amount * levels[0]:.8g} {market.quote} at "
                                                   f"{levels[0]}, below the minimum cost {market.min_cost} of "
                                                   f"{market.symbol}"})
    waiting = None
    if not lower <= price <= upper:
        waiting = f"the price {price} is outside the range {lower} to {upper}: the grid waits for a close inside it"
    buys = tuple(k for k in range(count) if levels[k] < price)
    sells = tuple(k for k in range(count) if levels[k] >= price)
    fill = market.amount_to_precision(amount * len(sells)) if settings["tradeToFillGrid"] and sells else 0.0
    return GridPlan(price, lower, upper, levels, amount, buys, sells, fill, waiting)


def preview_grid(settings: Mapping[str, Any] | None, price: float, market: Market) -> dict[str, Any]:
    """What a spot grid with `settings` (defaults filled in) would place at the last price
    `price` on `market`, creating nothing: `GridPlan.to_wire()` plus `symbol`. Amounts are sized
    with the market's larger fee rate. `InvalidSettings` for refused settings or price."""
    values = GRID_SCHEMA.validate(settings)
    if isinstance(price, bool) or not isinstance(price, int | float) or not 0 < price <= MAX_VALUE:
        raise InvalidSettings({"price": f"must be a positive number up to {MAX_VALUE:g}"})
    plan = plan_grid(values, float(price), market, fee_rate=max(market.maker, market.taker))
    return {"symbol": market.symbol, **plan.to_wire()}

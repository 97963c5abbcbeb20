"""`spot_dollar_cost_averaging`: HaasOnline's spot DCA bot (long), driven by its own fills.

A cycle:

1. the base order: a market buy for `orderSize` quote (fee included), at start (`on_start`)
   and, with `restart`, again as soon as a take-profit fills;
2. when it fills at the base entry price `E`, `safetyOrders` limit buys below it: safety
   order `i` (1-based) at `E * (1 - D_i / 100)` for `safetyOrderSize * volumeScale**(i-1)`
   quote, where the deviations step by `priceDeviation`, each step `stepScale` times the
   one before: `D_1 = priceDeviation`, `D_i = D_{i-1} + priceDeviation * stepScale**(i-1)`
   (3Commas' and HaasOnline's "price deviation from the base entry", "volume scale",
   "step scale"); and one take-profit for the whole position: a limit sell of everything
   held at `average cost * (1 + takeProfit / 100)` (`ctx.average_cost`, fees included);
3. each safety fill lowers the average cost: the take-profit is cancelled and placed again
   for the whole position at the new average;
4. the take-profit's fill ends the cycle: the safety orders still open are cancelled.

Every step is a fill, so the strategy needs no candle at all (`wakes` is false everywhere):
in a backtest the loop visits only the bars that reach one of its orders. Each callback reads
what it needs from the fill and `ctx` (the position, its average cost, the open orders), so
a restarted pod goes on where it was; `on_start` places no base order while the strategy
holds a position or has open orders.

`direction` is HaasOnline's setting; spot DCA buys (`Buy`): selling short comes with futures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ...candles import Candles
from ..base import Bar, Strategy
from ..context import Context, Fill
from ..grid import MAX_VALUE
from ..intents import Intent, Intents, buy, cancel, sell
from ..registry import register
from ..settings import Setting, SettingsSchema

__all__ = ["SpotDollarCostAveraging", "safety_ladder"]

_PRICE, _SIZE, _SAFETY, _EXIT = "Price Settings", "Order size", "Safety settings", "Take profit"


def safety_ladder(settings: Mapping[str, Any]) -> list[tuple[float, float]]:
    """`[(deviation %, quote size)]` of each safety order, nearest first."""
    deviation, size, ladder = 0.0, settings["safetyOrderSize"], []
    step = settings["priceDeviation"]
    for i in range(settings["safetyOrders"]):
        deviation += step * settings["stepScale"] ** i
        ladder.append((deviation, size * settings["volumeScale"] ** i))
    return ladder


def _checks(values: dict[str, Any]) -> Mapping[str, str]:
    errors = {key: "must be more than 0" for key in ("orderSize", "safetyOrderSize") if not values[key] > 0}
    ladder = safety_ladder(values)
    if ladder and not ladder[-1][0] < 100:
        errors["priceDeviation"] = (f"the last safety order would be {ladder[-1][0]:.4g}% below the base entry: "
                                    "fewer safety orders, a smaller deviation or step scale")
    return errors


SCHEMA = SettingsSchema((
    Setting.option("direction", "Direction", "Buy", ("Buy",), group=_PRICE, can_be_edited=False,
                   description="Trading direction: Buy (spot averages down, then sells the whole position)."),
    Setting.number("priceDeviation", "Price Deviation %", 2.0, min=0.01, max=99.0, group=_PRICE, can_be_edited=False,
                   description="Gap between each order: the first safety order is this far below the base entry."),
    Setting.number("orderSize", "Order size", 100.0, min=0.0, max=MAX_VALUE, group=_SIZE, can_be_edited=False,
                   description="Quote spent by the base order (fee included)."),
    Setting.number("safetyOrderSize", "Safety order size", 100.0, min=0.0, max=MAX_VALUE, group=_SIZE, can_be_edited=False,
                   description="Quote of the first safety order."),
    Setting.number("safetyOrders", "Safety orders", 5, integer=True, min=0, max=100, group=_SAFETY, can_be_edited=False,
                   description="How many safety orders are placed below the base entry."),
    Setting.number("volumeScale", "Volume scale", 1.5, min=0.1, max=10.0, group=_SAFETY, can_be_edited=False,
                   description="Each safety order is this many times the size of the one before."),
    Setting.number("stepScale", "Step scale", 1.0, min=0.1, max=10.0, group=_SAFETY, can_be_edited=False,
                   description="Each gap between safety orders is this many times the gap before."),
    Setting.number("takeProfit", "Take profit %", 1.5, min=0.01, max=1000.0, group=_EXIT,
                   description="The whole position is sold this far above its average cost (fees included)."),
    Setting("restart", "Restart", "boolean", True, group=_EXIT,
            description="Start a new cycle (a new base order) as soon as the take-profit fills."),
), _checks)


@register
class SpotDollarCostAveraging(Strategy):
    """HaasOnline's spot DCA bot, long (see the module docstring)."""

    type = "spot_dollar_cost_averaging"
    name = "Spot dollar cost averaging"
    description = ("Buys, then buys more at set deviations below the first entry to lower the average price, and "
                   "sells the whole position at a take-profit above the average.")
    schema = SCHEMA

    def window(self) -> int:
        return 1

    def wakes(self, candles: Candles, indicators: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.zeros(len(candles), bool)

    def on_candle(self, ctx: Context, bar: Bar) -> Intents:
        return None

    def base_order(self) -> Intent:
        return buy(cost=self.settings["orderSize"], tag="base")

    def on_start(self, ctx: Context) -> Intents:
        if ctx.open_orders or (ctx.position > 0 and ctx.position >= ctx.min_amount):
            ctx.log("a cycle is in progress: it goes on", "info")
            return None
        return (self.base_order(),)

    def on_fill(self, ctx: Context, fill: Fill) -> Intents:
        if fill.tag == "base":
            return [*self._safety_orders(ctx, fill.price), self._take_profit(ctx)]
        if fill.tag is not None and fill.tag.startswith("safety"):
            return (cancel(tag="tp"), self._take_profit(ctx))
        if fill.tag == "tp":
            ctx.log(f"take-profit filled at {fill.price}: cycle closed", "info")
            return (cancel(), self.base_order()) if self.settings["restart"] else (cancel(),)
        return None

    def _take_profit(self, ctx: Context) -> Intent:
        average = ctx.average_cost or 0.0
        return sell(price=ctx.market.price_to_precision(average * (1 + self.settings["takeProfit"] / 100)), tag="tp")

    def _safety_orders(self, ctx: Context, entry: float) -> list[Intent]:
        market = ctx.market
        orders: list[Intent] = []
        for i, (deviation, size) in enumerate(safety_ladder(self.settings), start=1):
            try:
                price = market.price_to_precision(entry * (1 - deviation / 100))
                amount = market.amount_to_precision(size / (price * (1 + ctx.fee_rate)))
            except (ArithmeticError, ValueError):  # beyond the precision's digits, or a price rounded to 0
                price = amount = 0.0
            if not (price > 0 and amount >= ctx.min_amount and amount > 0):
                ctx.log(f"safety order {i} skipped: {size:g} {market.quote} at {price} is below the minimum amount",
                        "warning")
                continue
            orders.append(buy(amount, price=price, tag=f"safety{i}"))
        return orders

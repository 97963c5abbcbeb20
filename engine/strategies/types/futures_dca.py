"""`futures_dca`: HaasOnline's futures dollar cost averaging bot, long or short, with leverage,
driven by its own fills.

A cycle (`direction` Long buys to open and sells to close, Short the other way round):

1. the base order: a market order of `orderSize` quote (in contracts at the last price) at
   the first closed candle (`wakes` is true there only) and, with `restart`, again as soon
   as a take-profit fills;
2. when it fills at `E`, `safetyOrders` limit orders that add to the position at
   `E * (1 -/+ D_i / 100)` (below for a long, above for a short), of
   `safetyOrderSize * volumeScale**(i-1)` quote, with `D_1 = priceDeviation` and
   `D_i = D_{i-1} + priceDeviation * stepScale**(i-1)` (the same ladder as the spot DCA,
   3Commas' and HaasOnline's deviation, volume scale and step scale); and a reduce-only
   take-profit for the whole position at `entry * (1 +/- takeProfit / 100)`;
3. each safety fill moves the entry price (`ctx.average_cost`, the position's average
   entry): the take-profit is cancelled and placed again for the whole position;
4. the take-profit's fill ends the cycle: the safety orders still open are cancelled. A
   liquidation (a fill without a tag) ends the bot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..context import Context, Fill
from ..first_candle import FirstCandleStrategy
from ..intents import Intent, Intents, Place, buy, cancel, sell
from ..registry import register
from ..settings import Setting, SettingsSchema

__all__ = ["FuturesDollarCostAveraging", "dca_ladder"]

_ORDERS, _SAFETY, _EXIT = "Orders", "Safety orders", "Take profit"


def dca_ladder(settings: Mapping[str, Any]) -> list[tuple[float, float]]:
    """`[(deviation %, quote size)]` of each safety order, nearest first."""
    deviation, ladder = 0.0, []
    for i in range(settings["safetyOrders"]):
        deviation += settings["priceDeviation"] * settings["stepScale"] ** i
        ladder.append((deviation, settings["safetyOrderSize"] * settings["volumeScale"] ** i))
    return ladder


def _check(values: dict[str, Any]) -> Mapping[str, str]:
    ladder = dca_ladder(values)
    if values["direction"] == "Long" and ladder and not ladder[-1][0] < 100:
        return {"priceDeviation": f"the last safety order of a long would be {ladder[-1][0]:g}% below the entry"}
    return {}


@register
class FuturesDollarCostAveraging(FirstCandleStrategy):
    """HaasOnline's futures DCA (module docstring)."""

    type = "futures_dca"
    name = "Futures DCA"
    description = ("Dollar cost averaging on a perpetual, long or short, with leverage: a base order, safety orders "
                   "that average the entry, and a reduce-only take-profit for the whole position.")
    schema = SettingsSchema((
        Setting.option("direction", "Direction", "Long", ("Long", "Short"), group=_ORDERS, can_be_edited=False),
        Setting.number("orderSize", "Base order size", 100.0, min=0.0, group=_ORDERS, can_be_edited=False,
                       description="Notional of the base order, in the quote (settle) currency."),
        Setting.number("leverage", "Leverage", 1.0, min=1.0, max=125.0, group=_ORDERS, can_be_edited=False,
                       description="Leverage of the position (isolated margin)."),
        Setting.number("safetyOrders", "Safety orders", 5, integer=True, min=0, max=50, group=_SAFETY),
        Setting.number("safetyOrderSize", "Safety order size", 100.0, min=0.0, group=_SAFETY,
                       description="Notional of the first safety order (quote)."),
        Setting.number("priceDeviation", "Price deviation %", 1.0, min=0.01, max=99.0, group=_SAFETY,
                       description="Distance of the first safety order from the base entry, in percent."),
        Setting.number("volumeScale", "Volume scale", 1.5, min=0.1, max=10.0, group=_SAFETY),
        Setting.number("stepScale", "Step scale", 1.0, min=0.1, max=10.0, group=_SAFETY),
        Setting.number("takeProfit", "Take profit %", 1.5, min=0.01, max=1000.0, group=_EXIT,
                       description="Distance of the take-profit from the position's entry price, in percent."),
        Setting("restart", "Restart", "boolean", True, group=_EXIT,
                description="Start a new cycle when the take-profit fills."),
    ), check=_check)

    def __init__(self, settings: Mapping[str, object] | None = None) -> None:
        super().__init__(settings)
        self.long = self.settings["direction"] == "Long"

    def start(self, ctx: Context, price: float) -> Intents:
        return self._base(ctx, price)

    def _base(self, ctx: Context, price: float) -> Intents:
        amount = ctx.market.amount_to_precision(self.settings["orderSize"] / price)
        if not (amount > 0.0 and amount >= ctx.min_amount):
            self.stopped = True
            ctx.log(f"base order of {self.settings['orderSize']} is below the minimum amount at {price}", "error")
            return None
        return ((buy if self.long else sell)(amount, tag="base"),)

    def on_fill(self, ctx: Context, fill: Fill) -> Intents:
        if self.stopped:
            return None
        if fill.tag == "base":
            market, add, sign = ctx.market, (buy if self.long else sell), (-1.0 if self.long else 1.0)
            intents: list[Intent] = []
            for i, (deviation, size) in enumerate(dca_ladder(self.settings), start=1):
                level = market.price_to_precision(fill.price * (1 + sign * deviation / 100))
                amount = market.amount_to_precision(size / level)
                if level > 0 and amount > 0.0 and amount >= ctx.min_amount:
                    intents.append(add(amount, price=level, tag=f"safety:{i}"))
            return [*intents, self._take_profit(ctx)]
        if fill.tag is not None and fill.tag.startswith("safety:"):
            return cancel(tag="tp"), self._take_profit(ctx)
        if fill.tag == "tp":
            ctx.log(f"take-profit filled at {fill.price}: cycle ends", "info")
            if self.settings["restart"]:
                return cancel(), *(self._base(ctx, fill.price) or ())
            self.stopped = True
            return (cancel(),)
        self.stopped = True
        ctx.log(f"position closed outside the bot at {fill.price} (liquidation): the bot stops", "error")
        return (cancel(),)

    def _take_profit(self, ctx: Context) -> Place:
        entry = ctx.average_cost or ctx.price
        target = entry * (1 + (1 if self.long else -1) * self.settings["takeProfit"] / 100)
        size = ctx.market.amount_to_precision(abs(ctx.position))
        return (sell if self.long else buy)(size, price=ctx.market.price_to_precision(target), tag="tp",
                                            reduce_only=True)

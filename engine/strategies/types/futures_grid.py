"""`futures_grid`: HaasOnline's futures grid bot on a perpetual: long, short or neutral, with
leverage and the `maxWin`/`maxLoss` safeties, living in the matching engine between candles.

- Start: at the first closed candle (`wakes` is true there only; the loop also calls
  `on_candle` where funding is paid, and it does nothing then). The range is
  `[lowerLimit, upperLimit]`, or where a limit is 0, the start price -/+ `rangePercent`;
  `grids` + 1 levels are spread evenly over it (rounded to the price tick). Each level
  below the price gets a limit buy (directions `Long` and `Neutral`), each level above a
  limit sell (`Short` and `Neutral`), of `orderSize` quote at that level (in contracts,
  to the amount precision; a level too small for the minimum amount is skipped).
- Running: each fill places its counter order one level away, for the same contracts: a
  buy filled at `L_k` becomes a sell at `L_{k+1}`, a sell filled at `L_k` a buy at
  `L_{k-1}`. In a `Long` grid the sells are reduce-only (they take profit on the long), in
  a `Short` grid the buys; a `Neutral` grid's orders are plain (its net position is
  whatever its fills leave). The tag carries the order's level and its counter level
  (`fgrid:<level>:<counter>`), so a fill needs nothing but itself.
- `maxWin` / `maxLoss` (percent of the settle currency free at the start; 0: off): after
  every fill the grid's P&L since it started (the position's realized P&L, funding and
  fees: `ctx.position_pnl`, plus the unrealized P&L `contracts * (p - entry)`) is a line
  in the price `p`; the prices where it reaches `+maxWin` and `-maxLoss` get reduce-only
  stop-market orders for the whole position (`takeProfit` and `stopLoss`, tagged `maxWin`
  and `maxLoss`), replaced at each fill. When one fills, or when a fill already reaches a
  limit, the grid stops: every order is cancelled and what is left is closed at market.
  A liquidation (a fill without a tag) stops it as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..context import Context, Fill
from ..first_candle import FirstCandleStrategy
from ..intents import Intent, Intents, Place, buy, cancel, sell
from ..registry import register
from ..settings import Setting, SettingsSchema

__all__ = ["FuturesGrid", "grid_levels"]

TAG = "fgrid"
DIRECTIONS = ("Long", "Short", "Neutral")
_RANGE, _ORDERS, _SAFETY = "Range", "Orders", "Safety"


def grid_levels(settings: Mapping[str, Any], price: float) -> list[float]:
    """The `grids + 1` levels of a grid started at `price` (unrounded)."""
    lower = settings["lowerLimit"] or price * (1 - settings["rangePercent"] / 100)
    upper = settings["upperLimit"] or price * (1 + settings["rangePercent"] / 100)
    return np.linspace(lower, upper, settings["grids"] + 1).tolist()


def _check(values: dict[str, Any]) -> Mapping[str, str]:
    if values["lowerLimit"] and values["upperLimit"] and not values["lowerLimit"] < values["upperLimit"]:
        return {"upperLimit": "must be above the lower limit"}
    return {}


def _tag(level: float, counter: float) -> str:
    return f"{TAG}:{level!r}:{counter!r}"


def _parse(tag: str | None) -> tuple[float, float] | None:
    if tag is None or not tag.startswith(TAG + ":"):
        return None
    _, level, counter = tag.split(":")
    return float(level), float(counter)


@register
class FuturesGrid(FirstCandleStrategy):
    """HaasOnline's futures grid (module docstring)."""

    type = "futures_grid"
    name = "Futures grid"
    description = ("A grid of limit orders on a perpetual, long, short or neutral, with leverage: each fill is "
                   "answered by the opposite order one level away; maxWin and maxLoss close it all.")
    schema = SettingsSchema((
        Setting.option("direction", "Direction", "Neutral", DIRECTIONS, group=_RANGE, can_be_edited=False,
                       description="Long buys below the price, Short sells above it, Neutral does both."),
        Setting.number("lowerLimit", "Lower limit", 0.0, min=0.0, group=_RANGE, can_be_edited=False,
                       description="The lowest level (0: the start price minus the range percent)."),
        Setting.number("upperLimit", "Upper limit", 0.0, min=0.0, group=_RANGE, can_be_edited=False,
                       description="The highest level (0: the start price plus the range percent)."),
        Setting.number("rangePercent", "Range %", 10.0, min=0.1, max=90.0, group=_RANGE, can_be_edited=False,
                       description="Where a limit is 0: its distance from the start price, in percent."),
        Setting.number("grids", "Grids", 10, integer=True, min=1, max=500, group=_RANGE, can_be_edited=False,
                       description="Intervals between the lower and the upper limit."),
        Setting.number("orderSize", "Order size", 100.0, min=0.0, group=_ORDERS, can_be_edited=False,
                       description="Notional of each grid order, in the quote (settle) currency."),
        Setting.number("leverage", "Leverage", 1.0, min=1.0, max=125.0, group=_ORDERS, can_be_edited=False,
                       description="Leverage of the position (isolated margin)."),
        Setting.number("maxWin", "Max win %", 0.0, min=0.0, max=10_000.0, group=_SAFETY,
                       description="Stop and close when the grid has gained this percent of the funds free at its "
                                   "start (0: off)."),
        Setting.number("maxLoss", "Max loss %", 0.0, min=0.0, max=100.0, group=_SAFETY,
                       description="Stop and close when the grid has lost this percent of the funds free at its "
                                   "start (0: off)."),
    ), check=_check)

    def __init__(self, settings: Mapping[str, object] | None = None) -> None:
        super().__init__(settings)
        self.reference = 0.0  # funds free at the start (what maxWin / maxLoss are percentages of)
        self.base_pnl = 0.0  # ctx.position_pnl at the start

    def start(self, ctx: Context, price: float) -> Intents:
        self.reference, self.base_pnl = ctx.available, ctx.position_pnl
        market, direction, size = ctx.market, self.settings["direction"], self.settings["orderSize"]
        levels = [market.price_to_precision(level) for level in grid_levels(self.settings, price)]
        intents: list[Intent] = []
        for k, level in enumerate(levels):
            amount = market.amount_to_precision(size / level)
            if not (amount > 0.0 and amount >= ctx.min_amount):
                continue
            if level < price and direction != "Short" and k + 1 < len(levels):
                intents.append(buy(amount, price=level, tag=_tag(level, levels[k + 1])))
            elif level > price and direction != "Long" and k > 0:
                intents.append(sell(amount, price=level, tag=_tag(level, levels[k - 1])))
        ctx.log(f"futures grid ({direction}) started at {price}: {len(intents)} orders from {levels[0]} to "
                f"{levels[-1]}", "info")
        return intents

    def on_fill(self, ctx: Context, fill: Fill) -> Intents:
        if self.stopped:
            return None
        if fill.tag in ("maxWin", "maxLoss"):
            return self._stop(ctx, f"{fill.tag} reached at {fill.price}")
        grid = _parse(fill.tag)
        if grid is None:
            self.stopped = True
            ctx.log(f"position closed outside the grid at {fill.price} (liquidation): the grid stops", "error")
            return (cancel(),)
        level, counter = grid
        direction = self.settings["direction"]
        reduce = (direction == "Long" and fill.side == "buy") or (direction == "Short" and fill.side == "sell")
        place = sell if fill.side == "buy" else buy
        intents: list[Intent] = [place(fill.amount, price=counter, tag=_tag(counter, level), reduce_only=reduce)]
        return intents + self._safeties(ctx)

    def _safeties(self, ctx: Context) -> list[Intent]:
        """The maxWin / maxLoss stops for the position now (module docstring), or the stop."""
        win, loss = self.settings["maxWin"] * self.reference / 100, self.settings["maxLoss"] * self.reference / 100
        if not (win or loss):
            return []
        contracts, entry, realized = ctx.position, ctx.average_cost, ctx.position_pnl - self.base_pnl
        price = ctx.price
        gain = realized + (contracts * (price - entry) if contracts and entry is not None else 0.0)
        if (win and gain >= win) or (loss and gain <= -loss):
            return list(self._stop(ctx, f"{'maxWin' if gain > 0 else 'maxLoss'} reached at {price} ({gain:+g})"))
        intents: list[Intent] = [cancel(tag="maxWin"), cancel(tag="maxLoss")]
        if not contracts or entry is None:
            return intents
        size = ctx.market.amount_to_precision(abs(contracts))
        close = sell if contracts > 0 else buy
        for tag, target, kind in (("maxWin", win, "takeProfit"), ("maxLoss", -loss, "stopLoss")):
            level = entry + (target - realized) / contracts
            if target and level > 0 and size > 0:
                intents.append(close(size, trigger_price=ctx.market.price_to_precision(level), kind=kind, tag=tag,
                                     reduce_only=True))
        return intents

    def _stop(self, ctx: Context, why: str) -> tuple[Intent, ...]:
        self.stopped = True
        ctx.log(f"the grid stops: {why}", "info")
        contracts = ctx.position
        size = ctx.market.amount_to_precision(abs(contracts))
        if not size:
            return (cancel(),)
        closing: Place = (sell if contracts > 0 else buy)(size, reduce_only=True)
        return cancel(), closing

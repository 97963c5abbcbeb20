"""`spot_grid`: HaasOnline's spot grid bot, living in the matching engine between candles.

Settings, levels and sizing: `engine.strategies.grid` (`GRID_SCHEMA`, `plan_grid`).

- Start: at the first closed candle where the start condition holds, the stop condition
  does not, and the close is inside the range (a limit of 0 is always inside: it is set
  from that close). `wakes` is true where that becomes so (its rising edge), so the loop
  calls Python there and nowhere else but where the candle reached one of the grid's orders.
  The grid is planned at that close (`plan_grid`): limit buys below it, and with
  `tradeToFillGrid` a market buy whose fill places the sells above the price.
- Running: each fill places the opposite order of its grid (`on_fill`): a buy filled at
  `L_k` becomes a sell of what it bought at `L_{k+1}`, a sell filled at `L_{k+1}` a buy of the
  same amount at `L_k`. The order's tag carries its grid and both levels
  (`grid:<k>:<buy level>:<sell level>`), so a fill needs nothing but itself and a restarted
  pod goes on from its open orders.
- Stop: at the first close where the stop condition holds, or the close is at or beyond
  `stopLossPrice` or `takeProfitPrice` (its rising edge in `wakes`), every open order of the
  grid is cancelled, and with `stopExit` what it holds is sold at market.
  A stopped grid does not start again (HaasOnline deactivates the bot; a pod restarted after
  the stop would, at the next start edge: its trader is expected to be stopped by then).

Conditions are judged on closed candles (a stop at 50 000 acts at the first close beyond it,
not intrabar). The base bought by the fill-up market buy for sell levels the price passed
before it filled stays held (a warning is logged).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ...candles import Candles
from ...errors import InvalidSettings
from ...indicators import live_window, rsi
from ..base import Bar, Strategy
from ..context import Context, Fill
from ..grid import GRID_SCHEMA, RSI_PERIOD, GridPlan, condition, uses_rsi
from ..grid import plan_grid as _plan
from ..intents import Intent, Intents, buy, cancel, sell
from ..registry import register

__all__ = ["SpotGrid"]

TAG = "grid"
FILL_TAG = "grid-fill"


def grid_tag(grid: int, low: float, high: float) -> str:
    """The tag of grid `grid`'s orders: its index and its two levels."""
    return f"{TAG}:{grid}:{low!r}:{high!r}"


def parse_tag(tag: str | None) -> tuple[int, float, float] | None:
    """`(grid, buy level, sell level)` of a grid order's tag, None for another tag."""
    if tag is None or not tag.startswith(TAG + ":"):
        return None
    _, grid, low, high = tag.split(":")
    return int(grid), float(low), float(high)


def rising(values: np.ndarray) -> np.ndarray:
    """Where a bool array becomes true (true at index 0 if it starts true)."""
    edge = values.copy()
    edge[1:] &= ~values[:-1]
    return edge


@register
class SpotGrid(Strategy):
    """HaasOnline's spot grid (see the module docstring and `engine.strategies.grid`)."""

    type = "spot_grid"
    name = "Spot grid"
    description = ("Buys low and sells high inside a price range: limit buys on the grid levels below the price, "
                   "and each fill answered by the opposite order one level away.")
    schema = GRID_SCHEMA

    def __init__(self, settings: Mapping[str, object] | None = None) -> None:
        super().__init__(settings)
        self.started = False
        self.stopped = False
        self.plan: GridPlan | None = None

    def window(self) -> int:
        return live_window(rsi, period=RSI_PERIOD) + 1 if uses_rsi(self.settings) else 2

    def indicators(self, candles: Candles) -> dict[str, np.ndarray]:
        settings, close = self.settings, candles.close
        values = {"rsi": rsi(close, RSI_PERIOD)} if uses_rsi(settings) else {}
        stop = condition(settings, "stop", close, values.get("rsi"))
        eligible = condition(settings, "start", close, values.get("rsi")) & ~stop
        if settings["lowerLimit"]:
            eligible &= close >= settings["lowerLimit"]
        if settings["upperLimit"]:
            eligible &= close <= settings["upperLimit"]
        return {**values, "start": rising(eligible), "stop": rising(stop)}

    def wakes(self, candles: Candles, indicators: Mapping[str, np.ndarray]) -> np.ndarray:
        return indicators["start"] | indicators["stop"]

    def on_candle(self, ctx: Context, bar: Bar) -> Intents:
        start, stop = bar["start"], bar["stop"]
        if self.stopped or not (start or stop):  # a bar that only reached an order: its fills did the work
            return None
        running = self.started or any(parse_tag(order.tag) or order.tag == FILL_TAG for order in ctx.open_orders)
        if stop and running:
            self.stopped = True
            ctx.log(f"stop condition met at {bar.close}: the grid's orders are cancelled", "info")
            return (cancel(), sell()) if self.settings["stopExit"] else (cancel(),)
        if start and not running:
            return self._start(ctx, bar.close)
        return None

    def _start(self, ctx: Context, close: float) -> Intents:
        price = ctx.price if ctx.price == ctx.price else close  # the last price: no order may cross it
        try:
            plan = _plan(self.settings, price, ctx.market, fee_rate=ctx.fee_rate, min_amount=ctx.min_amount)
        except InvalidSettings as refusal:
            self.stopped = True
            ctx.log(f"the grid can not start: {refusal.message}", "error")
            return None
        if plan.waiting is not None:
            return None
        self.started, self.plan = True, plan
        levels = plan.levels
        ctx.log(f"grid started at {price}: {len(levels) - 1} grids from {levels[0]} to {levels[-1]}, "
                f"{plan.amount} a grid", "info")
        intents: list[Intent] = [buy(plan.fill, tag=FILL_TAG)] if plan.fill else []
        intents += [buy(plan.amount, price=levels[k], tag=grid_tag(k, levels[k], levels[k + 1]))
                    for k in reversed(plan.buys)]
        return intents

    def on_fill(self, ctx: Context, fill: Fill) -> Intents:
        if fill.tag == FILL_TAG:
            return self._fill_sells(ctx)
        grid = parse_tag(fill.tag)
        if grid is None or self.stopped:
            return None
        _, low, high = grid
        if fill.side == "sell":
            return (buy(fill.amount, price=low, tag=fill.tag),)
        got = fill.amount - fill.fee if fill.fee_currency == ctx.market.base else fill.amount
        amount = _sellable(ctx, got)
        if not (amount > 0 and amount >= ctx.min_amount):
            ctx.log(f"grid sell at {high} skipped: {amount!r} {ctx.market.base} free to sell", "warning")
            return None
        return (sell(amount, price=high, tag=fill.tag),)

    def _fill_sells(self, ctx: Context) -> Intents:
        plan = self.plan
        if plan is None or self.stopped:
            return None
        levels, price = plan.levels, ctx.price
        placed = [k for k in plan.sells if levels[k + 1] > price]
        if len(placed) < len(plan.sells):
            ctx.log(f"{len(plan.sells) - len(placed)} sell levels were passed before the fill-up buy filled at "
                    f"{price}: their base stays held", "warning")
        free, intents = _free(ctx), []
        for k in placed:
            amount = ctx.market.amount_to_precision(min(plan.amount, free))
            free -= amount
            if not (amount > 0 and amount >= ctx.min_amount):
                ctx.log(f"grid sell at {levels[k + 1]} skipped: {amount!r} {ctx.market.base} free to sell", "warning")
                continue
            intents.append(sell(amount, price=levels[k + 1], tag=grid_tag(k, levels[k], levels[k + 1])))
        return intents


def _free(ctx: Context) -> float:
    """Base the strategy holds beyond what its open sells reserve."""
    return ctx.position - sum(order.amount or 0.0 for order in ctx.open_orders if order.side == "sell")


def _sellable(ctx: Context, amount: float) -> float:
    """`amount`, or what is free to sell if a float sum of the fills left a hair less."""
    return ctx.market.amount_to_precision(min(amount, _free(ctx)))

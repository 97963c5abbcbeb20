"""`StrategyRunner`: how a pod drives a strategy, one closed candle and one fill at a time.

The backtest loop (`engine.backtest`) drives the same callbacks over a whole series at
once; this class is the per-candle form of the same rule, and the backtest's `live` mode
runs it bar by bar to prove the two agree. A pod::

    runner = StrategyRunner(create_strategy("sma_cross", settings), ctx)   # ctx: a Context
    execute(runner.start())
    # at each closed candle, with the latest runner.window candles (more are fine):
    execute(runner.candle(candles, touched=touches(levels, candle.low, candle.high)))
    # at each fill of the trader's orders, as the exchange reports it:
    execute(runner.fill(fill))

where `execute` carries out the requests in order: `OrderRequest` ->
`await exchange.create_order(*request.ccxt_args({"clientOrderId": ..., "owner": ...}))`
(`owner` only on paper accounts), `CancelRequest` -> `await exchange.cancel_order(id,
symbol)`, and `levels = order_levels(ctx.open_orders)` is taken right after the previous
candle's requests were carried out.

The wake rule (the same in the backtest loop): `on_candle` is called at a closed candle
when the strategy's `wakes` array is true at it, or when the candle reached a level of
the strategy's open orders as they were at the previous close (`touched`; a market order
waiting for its price point always counts) and the type is not `wakes_only`. `wakes` is computed over the candles given,
so a window of `window` candles gives the full series' value at the last one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..candles import Candles
from .base import Bar, Strategy
from .context import Context, Fill, OpenOrder
from .intents import Request, resolve

__all__ = ["StrategyRunner", "order_levels", "touches"]


class StrategyRunner:
    """One strategy and its context, driven event by event (see the module docstring)."""

    def __init__(self, strategy: Strategy, context: Context) -> None:
        self.strategy = strategy
        self.context = context
        self.window = strategy.window()

    def start(self) -> list[Request]:
        """The requests of `on_start`."""
        return resolve(self.strategy.on_start(self.context), self.context)

    def candle(self, candles: Candles, *, touched: bool = False) -> list[Request]:
        """A candle closed: `candles` are the latest closed candles, oldest first, the new one
        last. Returns the requests of `on_candle`, or none when the wake rule leaves it out."""
        indicators = self.strategy.indicators(candles)
        last = len(candles) - 1
        strategy = self.strategy
        if last < 0 or not ((touched and not strategy.wakes_only) or strategy.wakes(candles, indicators)[last]):
            return []
        return resolve(strategy.on_candle(self.context, Bar(candles, indicators, last)), self.context)

    def fill(self, fill: Fill) -> list[Request]:
        """One of the strategy's orders filled: the requests of `on_fill`."""
        return resolve(self.strategy.on_fill(self.context, fill), self.context)


def order_levels(orders: Iterable[OpenOrder]) -> tuple[float, float]:
    """`(down, up)` of open orders, as the matching engine's `levels`: a price `p` reaches one
    of them when `p <= down` (the highest buy limit, the highest stop triggering downwards)
    or `p >= up` (the lowest sell limit, the lowest stop triggering upwards); `(inf, -inf)`
    while a market order waits for its point, `(-inf, inf)` with nothing open."""
    down, up = -math.inf, math.inf
    for order in orders:
        if order.trigger_above is not None:
            assert order.trigger_price is not None
            if order.trigger_above:
                up = min(up, order.trigger_price)
            else:
                down = max(down, order.trigger_price)
        elif order.price is None:
            return math.inf, -math.inf
        elif order.side == "buy":
            down = max(down, order.price)
        else:
            up = min(up, order.price)
    return down, up


def touches(levels: tuple[float, float], low: float, high: float) -> bool:
    """Whether a candle from `low` to `high` reached `levels` (`order_levels`)."""
    return low <= levels[0] or high >= levels[1]

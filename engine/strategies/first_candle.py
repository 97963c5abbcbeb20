"""`FirstCandleStrategy`: the base of bots that start once, at the first closed candle, and
then live on their fills (the futures grid and DCA): `wakes` is true at the first bar only,
`on_candle` calls `start(ctx, price)` there (the last price, else the candle's close) and
does nothing at any other bar it is called at (bars where funding is paid, every bar in a
check run, each candle of a pod)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..candles import Candles
from .base import Bar, Strategy
from .context import Context
from .intents import Intents

__all__ = ["FirstCandleStrategy"]


class FirstCandleStrategy(Strategy):
    """Subclasses implement `start`; `stopped` set by them ends the bot for good. The futures
    bots built on it trade perpetuals only."""

    perpetual = True

    started = False
    stopped = False

    def window(self) -> int:
        return 1

    def wakes(self, candles: Candles, indicators: Mapping[str, np.ndarray]) -> np.ndarray:
        wakes = np.zeros(len(candles), bool)
        wakes[:1] = True
        return wakes

    def on_candle(self, ctx: Context, bar: Bar) -> Intents:
        if self.started or self.stopped:
            return None
        self.started = True
        return self.start(ctx, ctx.price if ctx.price == ctx.price else bar.close)

    def start(self, ctx: Context, price: float) -> Intents:
        """The bot's first orders at `price`."""
        raise NotImplementedError

"""A seeded random walk: live-looking prices for a `sim` symbol that has no stored candles.

The walk is geometric: every `interval` seconds the price is multiplied by
`exp(sigma * z)`, `z` standard normal, with `sigma = volatility * sqrt(interval / year)`
(`volatility` annualised, 0.8 by default, about Bitcoin's). The normal draws come from
numpy's PCG64 seeded with `(seed, crc32(symbol))`, so a seed gives every symbol its own
path, the same on every run and machine. Points are gaps (`continuous` False: nothing is
known between two steps), have `bid == ask == last`, are rounded by `round_price` (e.g. a
market's `price_to_precision`; the walk itself goes on unrounded) and carry the clock's
time as market time: a random walk is a live market with no history.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import AsyncIterator, Callable

import numpy as np

from .events import PricePoint
from .pacing import FeedClock, Pacer, RealTime

__all__ = ["RandomWalk"]

YEAR_SECONDS = 365 * 86_400


class RandomWalk:
    """The seeded walk of `symbol` from `start_price`; see the module documentation.

    `step()` advances it one step and returns the (rounded) price; `events()` yields the
    current price, then a point per step every `interval` seconds of `clock`. `steps` and
    `level` are its state: the walk carries on from them when `events()` is iterated again
    (a restarted feed).
    """

    def __init__(self, symbol: str, start_price: float, *, seed: int = 0, interval: float = 1.0,
                 volatility: float = 0.8, round_price: Callable[[float], float] | None = None,
                 clock: FeedClock | None = None) -> None:
        if not 0 < start_price < float("inf"):
            raise ValueError(f"a random walk starts at a positive price, not {start_price!r}")
        if not interval > 0 or not volatility >= 0:
            raise ValueError("a random walk needs a positive interval and a volatility >= 0")
        self.symbol = symbol
        self.interval = float(interval)
        self.sigma = volatility * math.sqrt(interval / YEAR_SECONDS)
        self.round_price = round_price or (lambda price: price)
        self.clock: FeedClock = clock or RealTime()
        self.level = float(start_price)
        self.steps = 0
        self._normal = np.random.default_rng([seed, zlib.crc32(symbol.encode())]).standard_normal

    @property
    def price(self) -> float:
        """The current price, rounded."""
        return self.round_price(self.level)

    def step(self) -> float:
        """Advance one step; the new (rounded) price."""
        self.level *= math.exp(self.sigma * float(self._normal()))
        self.steps += 1
        return self.price

    async def events(self) -> AsyncIterator[PricePoint]:
        """The current price at once, then a point per step every `interval` seconds, forever."""
        pacer = Pacer(self.clock, self.interval)
        price = self.price
        while True:
            await pacer.wait()
            yield PricePoint(self.symbol, self.clock.now_ms(), price, price, price)
            price = self.step()

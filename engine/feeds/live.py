"""A live exchange's ticker stream (ccxt.pro), reconnecting with exponential backoff.

`LiveTicker(exchange, symbol)` turns a ccxt exchange's ticker updates into `PricePoint`s:
`watch_ticker(symbol, params)` where the exchange streams tickers (`has["watchTicker"]`),
otherwise `fetch_ticker` every `poll_interval` seconds. One `LiveTicker` is one upstream
subscription; whoever runs it shares its points with every listener (the platform runs one
per (exchange, symbol)). Several `LiveTicker`s may share one exchange instance (ccxt
multiplexes their subscriptions over its connections and keeps one rate limiter).

Points: `last` (else `close`, else the mid of bid and ask), `bid` and `ask` (each else
`last`), the exchange's `timestamp` (else the clock's time) and the whole ticker in
`ticker`. A ticker with no price at all is skipped.

Drops: any error of a call (ccxt's `NetworkError` when the exchange closes the connection
or a ping times out, an `ExchangeError`, ...) is a `FeedDropped`; the call is tried again
after `min`, `2 min`, `4 min`, ... seconds, at most `max` (the `backoff`), on the injected
clock; the first success after failures is a `FeedRecovered`, then points flow again.
Cancellation is never caught. Note for Binance: ccxt's `watch_ticker` subscribes to the
mini-ticker stream (no bid or ask) unless `params={"name": "ticker"}`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from .events import FeedDropped, FeedRecovered, PricePoint
from .pacing import FeedClock, RealTime

__all__ = ["LiveTicker", "point_from_ticker"]


def _price(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < float("inf") else None


def point_from_ticker(symbol: str, ticker: Mapping[str, Any], now_ms: int) -> PricePoint | None:
    """A ccxt ticker as a price point (see the module documentation); None without a price."""
    bid, ask = _price(ticker.get("bid")), _price(ticker.get("ask"))
    last = _price(ticker.get("last")) or _price(ticker.get("close"))
    if last is None and bid is not None and ask is not None:
        last = (bid + ask) / 2
    if last is None:
        return None
    timestamp = ticker.get("timestamp")
    return PricePoint(symbol, int(timestamp) if isinstance(timestamp, (int, float)) else now_ms, bid or last,
                      ask or last, last, False, dict(ticker))


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class LiveTicker:
    """The ticker stream of `symbol` on a ccxt exchange; see the module documentation.

    `params` go to `watch_ticker`/`fetch_ticker`; `backoff` is `(min, max)` seconds;
    `poll_interval` the seconds between two `fetch_ticker` calls where nothing streams.
    """

    def __init__(self, exchange: Any, symbol: str, *, params: Mapping[str, Any] | None = None,
                 backoff: Sequence[float] = (1.0, 60.0), poll_interval: float = 5.0,
                 clock: FeedClock | None = None) -> None:
        low, high = (float(value) for value in backoff)
        if not 0 <= low <= high or not poll_interval > 0:
            raise ValueError("backoff must be (min, max) with 0 <= min <= max, and poll_interval positive")
        self.exchange = exchange
        self.symbol = symbol
        self.params = dict(params or {})
        self.backoff = (low, high)
        self.poll_interval = float(poll_interval)
        self.clock: FeedClock = clock or RealTime()
        self.streams = bool((getattr(exchange, "has", None) or {}).get("watchTicker"))
        """True: `watch_ticker`; False: `fetch_ticker` polled."""
        self._polled = False

    async def _next_ticker(self) -> Mapping[str, Any]:
        if self.streams:
            return await self.exchange.watch_ticker(self.symbol, self.params)
        if self._polled:
            await self.clock.sleep(self.poll_interval)
        self._polled = True
        return await self.exchange.fetch_ticker(self.symbol, self.params)

    async def events(self) -> AsyncIterator[PricePoint | FeedDropped | FeedRecovered]:
        """Points as they arrive, with a `FeedDropped` per failed call and a `FeedRecovered`
        when it works again; never ends by itself."""
        failures, down_since = 0, 0
        low, high = self.backoff
        while True:
            try:
                ticker = await self._next_ticker()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                now = self.clock.now_ms()
                if not failures:
                    down_since = now
                failures += 1
                delay = min(high, low * 2 ** min(failures - 1, 64))
                yield FeedDropped(self.symbol, _describe(error), failures, delay, now)
                self._polled = False
                await self.clock.sleep(delay)
                continue
            now = self.clock.now_ms()
            if failures:
                yield FeedRecovered(self.symbol, failures, now - down_since, now)
                failures = 0
            point = point_from_ticker(self.symbol, ticker, now)
            if point is not None:
                yield point

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

Drops (`reconnect.reconnecting`, shared with `LiveCandles`): any error of a call (ccxt's
`NetworkError` when the exchange closes the connection or a ping times out, an
`ExchangeError`, ...) is a `FeedDropped`; the call is tried again after `min`, `2 min`,
`4 min`, ... seconds, at most `max` (the `backoff`), on the injected clock; the first
success after failures is a `FeedRecovered`, then points flow again.
Cancellation is never caught. Note for Binance: ccxt's `watch_ticker` subscribes to the
mini-ticker stream (no bid or ask) unless `params={"name": "ticker"}`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from .events import FeedDropped, FeedRecovered, PricePoint
from .pacing import FeedClock, RealTime
from .reconnect import reconnecting, valid_backoff

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


class LiveTicker:
    """The ticker stream of `symbol` on a ccxt exchange; see the module documentation.

    `params` go to `watch_ticker`/`fetch_ticker`; `backoff` is `(min, max)` seconds;
    `poll_interval` the seconds between two `fetch_ticker` calls where nothing streams.
    """

    def __init__(self, exchange: Any, symbol: str, *, params: Mapping[str, Any] | None = None,
                 backoff: Sequence[float] = (1.0, 60.0), poll_interval: float = 5.0,
                 clock: FeedClock | None = None) -> None:
        if not poll_interval > 0:
            raise ValueError("poll_interval must be positive")
        self.exchange = exchange
        self.symbol = symbol
        self.params = dict(params or {})
        self.backoff = valid_backoff(backoff)
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
        async for event in reconnecting(self._next_ticker, self.symbol, self.backoff, self.clock):
            if isinstance(event, (FeedDropped, FeedRecovered)):
                if isinstance(event, FeedDropped):
                    self._polled = False  # the retry is the backoff's wait, not a poll interval more
                yield event
                continue
            point = point_from_ticker(self.symbol, event, self.clock.now_ms())
            if point is not None:
                yield point

"""An exchange's candle stream (ccxt.pro `watch_ohlcv`): its closed candles, never the forming one.

`LiveCandles(exchange, symbol, timeframe)` calls `watch_ohlcv(symbol, timeframe)` again and
again and hands on each candle once it is closed, as a `CandleClosed`, by
`engine.candles.OhlcvCloser`'s rule: the exchange updates the forming candle in place, and
a row is closed once a row of a later period arrived on the same connection. The first
candle is the exchange's whole candle even when the stream starts in the middle of it.

Drops and recoveries are reported (`FeedDropped`, `FeedRecovered`) and retried with
exponential backoff on the injected clock (`reconnect.reconnecting`, as `LiveTicker`). A
drop forgets the candle forming then (its end was not seen): unless a row of its own period
comes back after the reconnection, it is never handed on, and the periods without rows
stay a gap. Nothing is filled in.

Only for exchanges that stream candles (`has["watchOHLCV"]`) in that timeframe
(`exchange.timeframes`): `supports(exchange, timeframe)`; others build candles from their
ticker points (`CandleAggregator`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from ..candles import OhlcvCloser
from ..candles.timeframes import timeframe as parse_timeframe
from .events import CandleClosed, FeedDropped, FeedRecovered
from .pacing import FeedClock, RealTime
from .reconnect import reconnecting, valid_backoff

__all__ = ["LiveCandles"]


class LiveCandles:
    """The closed `timeframe` candles of `symbol` on a ccxt.pro exchange; see the module documentation.

    `params` go to `watch_ohlcv`; `backoff` is `(min, max)` seconds. ValueError when the
    exchange does not stream candles of that timeframe (`supports`).
    """

    def __init__(self, exchange: Any, symbol: str, timeframe: str, *, params: Mapping[str, Any] | None = None,
                 backoff: Sequence[float] = (1.0, 60.0), clock: FeedClock | None = None) -> None:
        parse_timeframe(timeframe)
        if not self.supports(exchange, timeframe):
            raise ValueError(f"{getattr(exchange, 'id', exchange)} streams no {timeframe} candles")
        self.exchange = exchange
        self.symbol = symbol
        self.timeframe = timeframe
        self.params = dict(params or {})
        self.backoff = valid_backoff(backoff)
        self.clock: FeedClock = clock or RealTime()

    @staticmethod
    def supports(exchange: Any, timeframe: str) -> bool:
        """Whether `exchange` (a ccxt client) streams `timeframe` candles through `watch_ohlcv`."""
        has = getattr(exchange, "has", None) or {}
        return bool(has.get("watchOHLCV")) and timeframe in (getattr(exchange, "timeframes", None) or {})

    async def _next_rows(self) -> list[list[float]]:
        rows: list[list[float]] = await self.exchange.watch_ohlcv(self.symbol, self.timeframe, None, None,
                                                                  self.params)
        return rows

    async def events(self) -> AsyncIterator[CandleClosed | FeedDropped | FeedRecovered]:
        """Closed candles as the stream shows them closed, with the drops and recoveries; never
        ends by itself."""
        closer = OhlcvCloser(self.timeframe)
        async for event in reconnecting(self._next_rows, self.symbol, self.backoff, self.clock):
            if isinstance(event, (FeedDropped, FeedRecovered)):
                if isinstance(event, FeedDropped):
                    closer.interrupt()
                yield event
                continue
            for candle in closer.add(event):
                yield CandleClosed(self.symbol, self.timeframe, candle)

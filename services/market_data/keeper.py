"""Live candles kept: the closed candles of running live feeds, written to the candle store.

While the feed of a real exchange's market runs (someone watches it, or a trader or a paper
account runs on it), the keeper stores that market's closed candles of every timeframe in
`[tickers] store_timeframes`, so that backtests and signal models find them in `candles`:

* from the exchange's candle stream (`engine.feeds.LiveCandles`, ccxt.pro `watch_ohlcv`)
  where it streams that timeframe: the supervised task
  `feeds/<exchange>/<symbol>/candles/<timeframe>`, started and stopped with the feed;
* otherwise from the feed's ticker points (`engine.feeds.CandleAggregator`: `last` prices,
  volume unknown, null). The period the feed starts in is left out (its first points were
  not seen). Such candles are approximations (the extremes between two tickers are not
  seen), so they never replace a stored candle (the stream's, or a download's): they only
  fill periods that have none.

Only closed candles are stored, never the one forming. A drop of a stream forgets the
candle forming then; the periods it missed stay a gap, which the store reports (`GET
/candles` `gaps`, `candles/series` `missing`) and nothing fills (`cryptorobot candles
download` fetches the exchange's own candles for them).

Writes are upserts (the same candle twice changes nothing) and never run on the event loop:
closed candles are queued, and one background write at a time takes everything queued and
writes it in a worker thread, one store write per series. Each write is announced as the
app event `CANDLES_STORED`, a `StoredCandles` (the series, the opens of the first and last
candle written, the store's `WriteReport`). `sim` markets are not kept: their candles come
from the store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from cryptorobot import App, Supervised
from engine.candles import Candle, Candles, CandleStore, SeriesKey, WriteReport
from engine.feeds import CandleAggregator, CandleClosed, FeedDropped, LiveCandles, PricePoint

__all__ = ["CANDLES_STORED", "CandleKeeper", "StoredCandles"]

log = logging.getLogger("cryptorobot.market_data")

CANDLES_STORED = "candles-stored"
"""The app event of each write of live candles (a `StoredCandles`)."""

Market = tuple[str, str]
"""(exchange, symbol)."""


@dataclass(frozen=True)
class StoredCandles:
    """Live candles of `key` written to the store: opens (ms) of the `first` and `last`, and
    what the write did (`report.inserted`, `replaced`, `unchanged`)."""

    key: SeriesKey
    first: int
    last: int
    report: WriteReport


class CandleKeeper:
    """Stores the closed candles of running live feeds; see the module documentation.

    `timeframes`: the timeframes to keep (none: the keeper does nothing); `backoff`: `(min,
    max)` seconds between attempts to get a dropped candle stream back.
    """

    def __init__(self, app: App, store: CandleStore, timeframes: Sequence[str], backoff: tuple[float, float]) -> None:
        self.app = app
        self.store = store
        self.timeframes = tuple(timeframes)
        self.backoff = backoff
        self._streams: dict[Market, list[Supervised]] = {}
        self._built: dict[Market, dict[str, CandleAggregator]] = {}
        self._queued: dict[tuple[SeriesKey, bool], list[Candle]] = {}
        self._writing: asyncio.Task[None] | None = None

    # -- feeds -------------------------------------------------------------------------------

    def start(self, exchange: str, symbol: str, client: Any) -> None:
        """Keep the candles of a feed that started (`client`: the exchange's ccxt client);
        nothing when they are kept already."""
        market = (exchange, symbol)
        if not self.timeframes or market in self._streams:
            return
        streams, built = [], {}
        for text in self.timeframes:
            if LiveCandles.supports(client, text):
                feed = LiveCandles(client, symbol, text, backoff=self.backoff, clock=self.app.clock)
                streams.append(self.app.supervise(f"feeds/{exchange}/{symbol}/candles/{text}",
                                                  partial(self._run, exchange, feed), backoff=self.backoff))
            else:
                aggregator = built[text] = CandleAggregator(text)
                aggregator.interrupt()  # joined mid-stream: the first period is incomplete
        self._streams[market], self._built[market] = streams, built

    async def stop(self, exchange: str, symbol: str) -> None:
        """Stop keeping a feed's candles (the feed stopped). What was closed is still written."""
        market = (exchange, symbol)
        self._built.pop(market, None)
        for stream in self._streams.pop(market, []):
            await stream.stop()

    def on_point(self, exchange: str, symbol: str, point: PricePoint) -> None:
        """A price point of a running feed: builds the candles its exchange does not stream."""
        for text, aggregator in self._built.get((exchange, symbol), {}).items():
            closed = aggregator.add_point(point)
            if closed:
                self._queue(SeriesKey(exchange, symbol, text), closed, exact=False)

    def on_dropped(self, exchange: str, symbol: str) -> None:
        """A feed's ticker stream dropped: the candles built from it lost points."""
        for aggregator in self._built.get((exchange, symbol), {}).values():
            aggregator.interrupt()

    async def _run(self, exchange: str, feed: LiveCandles) -> None:
        key = SeriesKey(exchange, feed.symbol, feed.timeframe)
        async for event in feed.events():
            if isinstance(event, CandleClosed):
                self._queue(key, [event.candle], exact=True)
            elif isinstance(event, FeedDropped):
                if event.attempt == 1:
                    log.warning("the %s candle stream dropped (%s): the candle forming is not kept", key, event.error)
            else:
                log.info("the %s candle stream is back after %d failed attempts", key, event.attempts)

    # -- writing -----------------------------------------------------------------------------

    def _queue(self, key: SeriesKey, candles: list[Candle], *, exact: bool) -> None:
        self._queued.setdefault((key, exact), []).extend(candles)
        if self._writing is None or self._writing.done():
            self._writing = self.app.supervisor.spawn(self._write_queued(), name="market-data/live-candle-writes")

    async def _write_queued(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, {}
            for stored in await asyncio.to_thread(self._write, batch):
                self.app.emit(CANDLES_STORED, stored)

    def _write(self, batch: dict[tuple[SeriesKey, bool], list[Candle]]) -> list[StoredCandles]:
        """Write each series' candles (in a worker thread); what was written."""
        written = []
        for (key, exact), candles in batch.items():
            try:
                series = _series(key.timeframe, candles)
                if not exact:  # approximations fill periods without a candle, and replace none
                    stored = self.store.read(key, int(series.timestamp[0]), int(series.timestamp[-1]) + 1)
                    series = series[~np.isin(series.timestamp, stored.timestamp)]
                if len(series):
                    report = self.store.write(key, series)
                    written.append(StoredCandles(key, int(series.timestamp[0]), int(series.timestamp[-1]), report))
            except Exception:
                log.exception("storing the live %s candles failed: %d candles lost", key, len(candles))
        return written

    async def close(self) -> None:
        """Stop every candle stream and write what is queued (before the store closes)."""
        for exchange, symbol in list(self._streams):
            await self.stop(exchange, symbol)
        if self._writing is not None:
            await asyncio.wait([self._writing])
        await self._write_queued()


def _series(text: str, candles: list[Candle]) -> Candles:
    """Candles in time order, one per open (the latest wins)."""
    by_open = {candle.timestamp: candle for candle in candles}
    return Candles.from_ohlcv(text, [by_open[at] for at in sorted(by_open)])

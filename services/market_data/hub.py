"""The market-data hub: one feed per (exchange, symbol), shared by every listener, supervised.

The hub runs the engine's feeds (`engine.feeds`) for the platform: a replay or a random walk
for `sim` symbols, the exchange's ticker stream for the others (`sources.MarketSources`).

* One feed per `MarketKey(exchange, symbol)`, however many listen: it runs under the app's
  supervisor as `feeds/<exchange>/<symbol>` (restarted with backoff after a crash, which
  resumes where it was; cancelled within the deadline at teardown).
* Reference counted: `acquire(key)` starts the feed if it is not running, `release(key)`
  lets it stop once `tickers.linger` seconds passed with no reference left (a reconnecting
  client finds it warm). Stored `sim` series are replayed from startup and never stopped
  (`tickers.replay.autostart`; otherwise on first use like the others).
* Every price point is handed, in this order, to the in-process listeners (`listen`), to the
  candle aggregators of their timeframes, and to the latest ticker of the key (ccxt's shape,
  `tickers[id]`, the `exchanges/ticker` store), which is then passed to `on_ticker` (the
  delivery to sockets).
* The closed candles of running live feeds are kept in the candle store (`keeper`,
  `[tickers] store_timeframes`): started with the feed, stopped with it.
* Replay positions are saved every `tickers.replay.save_interval` seconds, when a replay
  ends, and at teardown after the feeds stopped (`ReplayPositions`); drops and recoveries of
  live feeds are reported (`incidents`).

Listening from Python (traders, paper accounts)::

    hub = market_data(app)
    listener = await hub.listen("sim", "BTC/USDT", on_point=paper.on_point, on_candle=strategy.on_candle,
                                timeframe="1h", warmup=200)
    listener.warmup          # Candles: the 200 closed 1h candles before now (a replay: as played)
    await listener.close()   # or `async with await hub.listen(...)`

Callbacks are synchronous and run on the feed's task, in market order; one that raises is
logged (its first failure with the traceback) and the feed goes on.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from typing import Any, NamedTuple

from cryptorobot import App, Supervised
from cryptorobot.clock import Timer
from engine.candles import Candle, Candles, SeriesKey, resample, timeframe
from engine.errors import ExchangeNotAvailable, InvalidTimeframe
from engine.feeds import (
    TICKER_FIELDS,
    CandleAggregator,
    CandleClosed,
    FeedDropped,
    FeedRecovered,
    PricePoint,
    ReplayMarket,
    ReplayPosition,
    RollingTicker,
)

from .incidents import report
from .keeper import CandleKeeper
from .replays import ReplayPositions, replay_record
from .settings import MarketDataSettings
from .sources import SIM, FeedSource, MarketSources

__all__ = ["Listener", "MarketDataHub", "MarketKey"]

log = logging.getLogger("cryptorobot.market_data")

PointCallback = Callable[[PricePoint], Any]
CandleCallback = Callable[[Candle], Any]


class MarketKey(NamedTuple):
    """One market of one exchange: a ccxt exchange id (or `sim`) and a unified symbol."""

    exchange: str
    symbol: str

    @property
    def id(self) -> str:
        """`"<exchange>:<symbol>"`: the ticker's and the replay's record id."""
        return f"{self.exchange}:{self.symbol}"

    @classmethod
    def parse(cls, id: str) -> MarketKey:
        """From `"<exchange>:<symbol>"` (the symbol may hold colons: `binance:BTC/USDT:USDT`);
        ValueError without a colon."""
        exchange, colon, symbol = id.partition(":")
        if not colon or not exchange or not symbol:
            raise ValueError(f"{id!r} is not <exchange>:<symbol>")
        return cls(exchange, symbol)


class Listener:
    """One in-process listener of a feed (see `MarketDataHub.listen`); `close()` stops it."""

    def __init__(self, hub: MarketDataHub, key: MarketKey, on_point: PointCallback | None,
                 on_candle: CandleCallback | None, timeframe: str | None) -> None:
        self.hub = hub
        self.key = key
        self.on_point = on_point
        self.on_candle = on_candle
        self.timeframe = timeframe
        """The timeframe of the candles `on_candle` receives."""
        self.warmup: Candles = Candles.empty(timeframe or "1m")
        """The closed candles before the listener started (see `listen`)."""
        self.failures = 0
        """Callbacks that raised."""
        self.closed = False

    def _call(self, callback: Callable[[Any], Any], value: Any) -> None:
        try:
            callback(value)
        except Exception:
            self.failures += 1
            if self.failures == 1:
                log.exception("a listener of %s failed (later failures are counted, not logged)", self.key.id)

    async def close(self) -> None:
        """Stop listening (the feed stops when nobody else listens, after the linger)."""
        if not self.closed:
            self.closed = True
            self.hub._detach(self)

    async def __aenter__(self) -> Listener:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


class _CandleGroup:
    """The listeners of one timeframe's candles, and the aggregator that builds them (None:
    the feed's own candles)."""

    __slots__ = ("aggregator", "by_points", "listeners")

    def __init__(self, aggregator: CandleAggregator | None, by_points: bool) -> None:
        self.aggregator = aggregator
        self.by_points = by_points
        self.listeners: list[Listener] = []


class _Feed:
    __slots__ = ("candles", "handle", "key", "linger", "loaded", "pinned", "points", "priced", "refs", "rolling",
                 "source")

    def __init__(self, key: MarketKey) -> None:
        self.key = key
        self.source: FeedSource | None = None
        self.rolling: RollingTicker | None = RollingTicker(key.symbol) if key.exchange == SIM else None
        self.refs = 0
        self.pinned = False
        self.linger: Timer | None = None
        self.handle: Supervised | None = None
        self.points: list[Listener] = []
        self.candles: dict[str, _CandleGroup] = {}
        self.loaded = asyncio.Event()
        self.priced = asyncio.Event()

    @property
    def name(self) -> str:
        return f"feeds/{self.key.exchange}/{self.key.symbol}"

    @property
    def running(self) -> bool:
        return self.handle is not None and not self.handle.done


class MarketDataHub:
    """Feeds by market, their listeners and latest tickers; see the module documentation."""

    def __init__(self, app: App, settings: MarketDataSettings, sources: MarketSources,
                 positions: ReplayPositions) -> None:
        self.app = app
        self.settings = settings
        self.sources = sources
        self.positions = positions
        self.keeper = CandleKeeper(app, sources.store, settings.store_timeframes, settings.backoff)
        """Stores the closed candles of the running live feeds."""
        self.tickers: dict[str, dict[str, Any]] = {}
        """The latest ticker of every running feed, by `MarketKey.id` (the `exchanges/ticker` store)."""
        self.on_ticker: Callable[[MarketKey, dict[str, Any]], Any] | None = None
        """Called with each new ticker (the delivery to sockets)."""
        self._feeds: dict[MarketKey, _Feed] = {}
        self._saved: dict[str, ReplayPosition] = {}
        self._saver: Supervised | None = None
        self.started = asyncio.Event()
        """Set once `start` has run (the stored replays are known and started)."""

    # -- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Find the stored `sim` series, load the saved replay positions, start the replays
        (with `autostart`) and the periodic save."""
        try:
            replayed = await self.sources.load_sim_series()
        except Exception:  # a candle store that can not be read costs the replays, not the server
            log.exception("the stored sim series can not be listed: no replay markets")
            replayed = []
        self._saved = await self.positions.load()
        if self.settings.replay_autostart:
            for series in replayed:
                feed = self._feed(MarketKey(SIM, series.symbol))
                feed.pinned = True
                self._start(feed)
        self.started.set()

    async def close(self) -> None:
        """Stop every feed, save the replay positions, close the exchange clients."""
        if self._saver is not None:
            await self._saver.stop()
        for feed in self._feeds.values():
            if feed.linger is not None:
                feed.linger.cancel()
            if feed.handle is not None:
                await feed.handle.stop()
        await self.keeper.close()
        await self.save_positions()
        await self.sources.close()

    async def save_positions(self) -> None:
        """Save the state of every replay that changed since its last save."""
        for feed in list(self._feeds.values()):
            if isinstance(feed.source, ReplayMarket):
                try:
                    await self.positions.save(feed.key.id, replay_record(feed.key.exchange, feed.source))
                except Exception:
                    log.exception("saving the position of replay %s failed", feed.key.id)

    async def _save_every_interval(self) -> None:
        while True:
            await self.app.clock.sleep(self.settings.replay_save_interval)
            await self.save_positions()

    # -- markets ------------------------------------------------------------------------------

    async def key(self, exchange: str, symbol: str) -> MarketKey:
        """The key of a listed market, its symbol in unified form (`btc-usdt` -> `BTC/USDT`).
        400 for an unknown exchange; `InvalidSymbol`; `ExchangeNotAvailable`."""
        market = await self.sources.market(exchange, symbol)
        return MarketKey(exchange, market.symbol)

    def ticker(self, key: MarketKey) -> dict[str, Any] | None:
        """The latest ticker of `key` (ccxt's shape plus `_id`, `exchange`, `updatedAt`), None
        while its feed is not running or has no price yet."""
        return self.tickers.get(key.id)

    async def first_ticker(self, key: MarketKey) -> dict[str, Any]:
        """The latest ticker of `key`, starting its feed (kept running for the linger) and
        waiting for its first price when needed; `ExchangeNotAvailable` after
        `tickers.first_price_timeout` seconds without one."""
        current = self.ticker(key)
        if current is not None:
            return current
        feed = self._feed(key)
        self.acquire(key)
        try:
            await asyncio.wait_for(feed.priced.wait(), self.settings.first_price_timeout)
        except TimeoutError:
            raise ExchangeNotAvailable(f"No price for {key.symbol} on {key.exchange} yet", exchange=key.exchange,
                                       symbol=key.symbol) from None
        finally:
            self.release(key)
        return self.tickers[key.id]

    # -- references ---------------------------------------------------------------------------

    def acquire(self, key: MarketKey) -> None:
        """One more reference to `key`'s feed: started now if it is not running."""
        feed = self._feed(key)
        feed.refs += 1
        if feed.linger is not None:
            feed.linger.cancel()
            feed.linger = None
        if not feed.running:
            self._start(feed)

    def release(self, key: MarketKey) -> None:
        """One reference less; with none left the feed stops after `tickers.linger` seconds."""
        feed = self._feeds[key]
        feed.refs -= 1
        if feed.refs <= 0 and not feed.pinned and feed.linger is None:
            feed.linger = self.app.clock.call_later(self.settings.linger, self._idle, feed)

    def references(self, key: MarketKey) -> int:
        feed = self._feeds.get(key)
        return 0 if feed is None else feed.refs

    def running(self, key: MarketKey) -> bool:
        feed = self._feeds.get(key)
        return feed is not None and feed.running

    def _idle(self, feed: _Feed) -> None:
        feed.linger = None
        if feed.refs <= 0 and not feed.pinned and feed.handle is not None:
            self.app.supervisor.spawn(self._stop(feed), name=f"stopping {feed.name}")

    async def _stop(self, feed: _Feed) -> None:
        handle, feed.handle = feed.handle, None
        if handle is not None:
            await handle.stop()
        if feed.handle is None:  # not started again meanwhile
            self.tickers.pop(feed.key.id, None)
            feed.priced.clear()
            await self.keeper.stop(*feed.key)

    def _feed(self, key: MarketKey) -> _Feed:
        feed = self._feeds.get(key)
        if feed is None:
            feed = self._feeds[key] = _Feed(key)
        return feed

    def _start(self, feed: _Feed) -> None:
        feed.handle = self.app.supervise(feed.name, lambda: self._run(feed), backoff=self.settings.backoff)

    # -- running a feed -----------------------------------------------------------------------

    async def _run(self, feed: _Feed) -> None:
        key = feed.key
        if feed.source is None:
            feed.source = await self.sources.open_feed(key.exchange, key.symbol, self._saved.get(key.id))
        feed.loaded.set()
        if key.exchange != SIM:
            self.keeper.start(key.exchange, key.symbol, self.sources.client(key.exchange))
        if isinstance(feed.source, ReplayMarket) and (self._saver is None or self._saver.done):
            self._saver = self.app.supervise("market-data/replay-positions", self._save_every_interval)
        points, closed = self._on_point, self._on_candle
        async for event in feed.source.events():
            if type(event) is PricePoint:
                points(feed, event)
            elif isinstance(event, CandleClosed):
                closed(feed, event)
            elif isinstance(event, (FeedDropped, FeedRecovered)):
                if isinstance(event, FeedDropped):
                    self._interrupted(feed)
                report(self.app, key.exchange, event)
        if isinstance(feed.source, ReplayMarket):  # a `stop` replay ended
            await self.positions.save(key.id, replay_record(key.exchange, feed.source))

    def _interrupted(self, feed: _Feed) -> None:
        """The feed's stream dropped: candles built from its points lost some."""
        for group in feed.candles.values():
            if group.by_points and group.aggregator is not None:
                group.aggregator.interrupt()
        self.keeper.on_dropped(*feed.key)

    def _on_point(self, feed: _Feed, point: PricePoint) -> None:
        for listener in feed.points:
            listener._call(listener.on_point, point)  # type: ignore[arg-type]
        self.keeper.on_point(feed.key.exchange, feed.key.symbol, point)
        for group in feed.candles.values():
            if group.by_points and group.aggregator is not None:
                for candle in group.aggregator.add_point(point):
                    for listener in group.listeners:
                        listener._call(listener.on_candle, candle)  # type: ignore[arg-type]
        key = feed.key
        if point.ticker is not None:
            ticker = point.ticker
            record = {name: ticker.get(name) for name in TICKER_FIELDS}
            record["symbol"] = key.symbol
        else:
            assert feed.rolling is not None
            record = feed.rolling.update(point)
        record["_id"] = key.id
        record["exchange"] = key.exchange
        record["updatedAt"] = self.app.clock.now()
        self.tickers[key.id] = record
        feed.priced.set()
        if self.on_ticker is not None:
            self.on_ticker(key, record)

    def _on_candle(self, feed: _Feed, closed: CandleClosed) -> None:
        candle = closed.candle
        if feed.rolling is not None:
            feed.rolling.add_volume(candle.timestamp, candle.volume)
        for group in feed.candles.values():
            if group.by_points:
                continue
            built = [candle] if group.aggregator is None else group.aggregator.add_candle(candle, closed.timeframe)
            for each in built:
                for listener in group.listeners:
                    listener._call(listener.on_candle, each)  # type: ignore[arg-type]

    # -- listeners ------------------------------------------------------------------------------

    async def listen(self, exchange: str, symbol: str, *, on_point: PointCallback | None = None,
                     on_candle: CandleCallback | None = None, timeframe: str | None = None,
                     warmup: int = 0) -> Listener:
        """Listen to a market's feed, starting it if needed (one feed however many listen).

        `on_point(PricePoint)`: every price point (for `SimExchange.on_price(p.symbol,
        p.timestamp, p.bid, p.ask, p.last, p.continuous)`). `on_candle(Candle)`: every closed
        `timeframe` candle; a replay's own timeframe by default (and any coarser one it
        builds), required for other feeds (built from their points; volume unknown). The
        first candle handed on is always complete.
        `warmup`: how many closed candles before now to put in `listener.warmup`: for a
        replay, the candles it played before its current candle (resampled to `timeframe`),
        so a trader started mid-replay is warmed with the history before that point; for
        other feeds the candles stored for the market (`cryptorobot candles download`)
        before the current period.
        Raises what `key` raises, `InvalidTimeframe`, ValueError (`on_candle` without a
        timeframe on a feed that has none), `ExchangeNotAvailable` when the feed can not
        be started within `tickers.first_price_timeout` seconds.
        """
        key = await self.key(exchange, symbol)
        stored = Candles.empty(timeframe or "1m")
        if warmup and timeframe and not (key.exchange == SIM and key.symbol in self.sources.replayed):
            stored = await self._stored_history(key, timeframe, warmup)
        listener = Listener(self, key, on_point, on_candle, timeframe)
        feed = self._feed(key)
        self.acquire(key)
        try:
            await asyncio.wait_for(feed.loaded.wait(), self.settings.first_price_timeout)
            self._attach(feed, listener, stored, warmup)
        except TimeoutError:
            self.release(key)
            raise ExchangeNotAvailable(f"The {key.exchange} {key.symbol} feed did not start", exchange=key.exchange,
                                       symbol=key.symbol) from None
        except BaseException:
            self.release(key)
            raise
        return listener

    async def _stored_history(self, key: MarketKey, text: str, count: int) -> Candles:
        frame = timeframe(text)
        before = frame.floor_one(self.app.clock.now_ms())
        candles = await asyncio.to_thread(self.sources.store.load, SeriesKey(key.exchange, key.symbol, text), None,
                                          before)
        return candles[-count:]

    def _attach(self, feed: _Feed, listener: Listener, stored: Candles, warmup: int) -> None:
        """Register `listener` (synchronously: no point can slip between its warm-up and its first callback)."""
        source = feed.source
        if listener.on_candle is not None:
            if isinstance(source, ReplayMarket):
                native = source.frame.text
                text = listener.timeframe = listener.timeframe or native
                if not source.frame.builds(timeframe(text)) and text != native:
                    raise InvalidTimeframe(f"The {feed.key.symbol} replay plays {native} candles, which do not build "
                                           f"{text} candles", timeframe=text, source=native)
                group = feed.candles.get(text)
                if group is None:
                    group = feed.candles[text] = _CandleGroup(None if text == native else _seeded(source, text), False)
                listener.warmup = _replay_warmup(source, text, warmup)
            else:
                if listener.timeframe is None:
                    raise ValueError(f"on_candle on the {feed.key.id} feed needs a timeframe")
                text = listener.timeframe
                frame = timeframe(text)
                group = feed.candles.get(text)
                if group is None:
                    point = self.ticker(feed.key)
                    now = point["timestamp"] if point and point.get("timestamp") else self.app.clock.now_ms()
                    group = feed.candles[text] = _CandleGroup(CandleAggregator(text, frame.next_open(now)), True)
                listener.warmup = stored
            group.listeners.append(listener)
        elif isinstance(source, ReplayMarket) and warmup:
            listener.timeframe = listener.timeframe or source.frame.text
            listener.warmup = _replay_warmup(source, listener.timeframe, warmup)
        elif warmup:
            listener.warmup = stored
        if listener.on_point is not None:
            feed.points.append(listener)

    def _detach(self, listener: Listener) -> None:
        feed = self._feeds[listener.key]
        if listener in feed.points:
            feed.points.remove(listener)
        for text, group in list(feed.candles.items()):
            if listener in group.listeners:
                group.listeners.remove(listener)
                if not group.listeners:
                    del feed.candles[text]
        self.release(listener.key)


def _ratio(source: ReplayMarket, text: str) -> int:
    """Most candles of the replay's timeframe in one `text` candle."""
    frame = timeframe(text)
    longest = frame.ms * 31 // 28 if frame.calendar else frame.ms
    return max(1, math.ceil(longest / source.frame.ms))


def _current_period(source: ReplayMarket, text: str) -> int | None:
    """The open of the `text` period holding the replay's next candle (None once ended)."""
    upcoming = source.next_open
    return None if upcoming is None else timeframe(text).floor_one(upcoming)


def _replay_warmup(source: ReplayMarket, text: str, count: int) -> Candles:
    """The last `count` complete `text` candles the replay played before its current period."""
    if count <= 0:
        return Candles.empty(text)
    if text == source.frame.text:
        return source.played(count)
    played = source.played((count + 1) * _ratio(source, text))
    return resample(played.slice(None, _current_period(source, text)), text)[-count:]


def _seeded(source: ReplayMarket, text: str) -> CandleAggregator:
    """An aggregator of `text` candles from the replay's, holding what the current period
    already played, so that its first candle is complete."""
    period = _current_period(source, text)
    aggregator = CandleAggregator(text, period)
    if period is not None:
        for candle in source.played(_ratio(source, text)).slice(period, None):
            aggregator.add_candle(candle, source.frame.text)
    return aggregator

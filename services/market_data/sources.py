"""Where markets and prices come from, per exchange.

* `sim`: the built-in markets (`engine.sim_markets.sim_catalog`) plus a market for every
  symbol with stored `sim` candles (`spot_market` at its last close). A symbol with stored
  candles is a replay of its finest stored timeframe; any other is a seeded random walk.
* Any ccxt exchange: one public client per exchange id (ccxt.pro where it exists, else
  ccxt's async client), shared by every feed of that exchange and closed at shutdown; its
  markets come from `load_markets` (public REST) the first time a symbol of it is asked
  for, and are kept for the process's life. Until `exchanges/markets` keeps markets in
  storage, an exchange that can not be reached answers `EXCHANGE_NOT_AVAILABLE`.

Unknown exchange ids are a 400 validation error; unknown symbols `INVALID_SYMBOL` with
the nearest listed symbols (`MarketCatalog`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

from cryptorobot.errors import BadRequest
from cryptorobot.schemas import VALIDATION_FAILED
from engine.candles import CandleStore, SeriesInfo, SeriesKey, timeframe
from engine.errors import ExchangeNotAvailable
from engine.feeds import FeedClock, LiveTicker, RandomWalk, ReplayMarket, ReplayPosition
from engine.markets import Market, MarketCatalog
from engine.sim_markets import sim_catalog, spot_market

from .settings import MarketDataSettings

__all__ = ["SIM", "FeedSource", "MarketSources"]

log = logging.getLogger("cryptorobot.market_data")

SIM = "sim"
EXCHANGES = frozenset(ccxt.exchanges) | {SIM}
FeedSource = ReplayMarket | RandomWalk | LiveTicker


class MarketSources:
    """Markets and feeds by exchange; see the module documentation."""

    def __init__(self, settings: MarketDataSettings, store: CandleStore, clock: FeedClock) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.sim = sim_catalog()
        self.replayed: dict[str, SeriesKey] = {}
        """`sim` symbol -> the stored series its replay plays."""
        self._catalogs: dict[str, MarketCatalog] = {SIM: self.sim}
        self._loading: dict[str, asyncio.Future[MarketCatalog]] = {}
        self._clients: dict[str, Any] = {}

    # -- sim --------------------------------------------------------------------------------

    async def load_sim_series(self) -> list[SeriesKey]:
        """Find the stored `sim` series (one per symbol: the finest timeframe) and list their
        markets; the series to replay."""
        found = await asyncio.to_thread(self.store.series, SIM)
        finest: dict[str, SeriesInfo] = {}
        for info in found:
            current = finest.get(info.key.symbol)
            if current is None or timeframe(info.key.timeframe).ms < timeframe(current.key.timeframe).ms:
                finest[info.key.symbol] = info
        for symbol, info in sorted(finest.items()):
            key = info.key
            if symbol not in self.sim:
                last = await asyncio.to_thread(self.store.read, key, info.last)
                if "/" not in symbol or not len(last):
                    log.warning("stored sim series %s is not replayed: its symbol is not BASE/QUOTE", key)
                    continue
                self.sim.add(spot_market(symbol, float(last.close[-1])))
            self.replayed[symbol] = key
        return list(self.replayed.values())

    # -- markets ----------------------------------------------------------------------------

    async def market(self, exchange: str, symbol: str) -> Market:
        """The market `symbol` names on `exchange` (unified symbol, exchange id, or a spelling
        only one market matches). 400 for an unknown exchange, `InvalidSymbol`,
        `ExchangeNotAvailable` when the exchange's markets can not be loaded."""
        if exchange not in EXCHANGES:
            raise BadRequest(VALIDATION_FAILED, errors={"exchange": [
                f"Unknown exchange {exchange!r}: a ccxt exchange id or `sim`."]})
        if not isinstance(symbol, str) or not symbol:
            raise BadRequest(VALIDATION_FAILED, errors={"symbol": ["A symbol such as BTC/USDT is required."]})
        return (await self.catalog(exchange)).market(symbol)

    async def catalog(self, exchange: str) -> MarketCatalog:
        """`exchange`'s markets, loaded once (concurrent callers share the load)."""
        catalog = self._catalogs.get(exchange)
        if catalog is not None:
            return catalog
        loading = self._loading.get(exchange)
        if loading is None:
            loading = self._loading[exchange] = asyncio.ensure_future(self._load(exchange))
        try:
            return await asyncio.shield(loading)
        finally:
            if loading.done():
                self._loading.pop(exchange, None)

    async def _load(self, exchange: str) -> MarketCatalog:
        client = self.client(exchange)
        try:
            await client.load_markets()
        except Exception as error:
            log.warning("loading the markets of %s failed: %s", exchange, error)
            raise ExchangeNotAvailable(f"The markets of {exchange} can not be loaded: {type(error).__name__}",
                                       exchange=exchange) from error
        catalog = self._catalogs[exchange] = MarketCatalog.from_exchange(client)
        return catalog

    def client(self, exchange: str) -> Any:
        """The shared public ccxt client of `exchange` (ccxt.pro when it streams)."""
        client = self._clients.get(exchange)
        if client is None:
            cls = getattr(ccxt_pro if exchange in ccxt_pro.exchanges else ccxt_async, exchange)
            client = self._clients[exchange] = cls({"enableRateLimit": True, **self.settings.ccxt.get(exchange, {})})
        return client

    # -- feeds ------------------------------------------------------------------------------

    async def open_feed(self, exchange: str, symbol: str, position: ReplayPosition | None) -> FeedSource:
        """The feed of a listed symbol: a replay (its stored candles read in a thread, from
        `position` or the configured start), a random walk, or the exchange's live ticker."""
        settings = self.settings
        if exchange != SIM:
            return LiveTicker(self.client(exchange), symbol, params=settings.watch_params.get(exchange),
                              backoff=settings.backoff, poll_interval=settings.poll_interval, clock=self.clock)
        key = self.replayed.get(symbol)
        if key is not None:
            candles = await asyncio.to_thread(self.store.read, key)
            if len(candles):
                start = None if settings.replay_start is None else ReplayPosition(settings.replay_start)
                return ReplayMarket(symbol, candles, speed=settings.replay_speed, end=settings.replay_end,
                                    position=position or start, clock=self.clock)
            log.warning("stored series %s is empty now: %s gets a random walk", key, symbol)
        market = self.sim.market(symbol)
        return RandomWalk(symbol, float(market.info.get("referencePrice") or 1.0), seed=settings.walk_seed,
                          interval=settings.walk_interval, volatility=settings.walk_volatility,
                          round_price=market.price_to_precision, clock=self.clock)

    async def close(self) -> None:
        """Close every ccxt client."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            try:
                await client.close()
            except Exception:
                log.exception("closing the %s client failed", client.id)

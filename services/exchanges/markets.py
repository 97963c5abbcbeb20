"""The markets of every exchange: loaded through ccxt once, kept in storage, validated against.

`MarketStore` is the one place the platform learns an exchange's markets:

- `sim`: its built-in list (`engine.sim_catalog()`);
- a ccxt exchange: `load_markets` on a public client of that exchange (no credentials,
  public endpoints, configured by `[exchanges.ccxt.<id>]`), shared by every caller.

What is loaded is written to storage (the `storage` setting: memory, the SQLite file or
MongoDB; one record per market) and read back after a restart, so a server without network
still knows the markets it has seen. Stored markets older than `exchanges.markets_max_age`
seconds are loaded again on the next use; when that fails, the stored ones go on serving
and the network is tried again after `exchanges.markets_retry_after` seconds. With nothing
stored and no network, callers get `ExchangeNotAvailable`.

Only what the engine trades is listed: spot markets and perpetual swaps with an amount and
a price precision (`MarketCatalog.from_ccxt`'s rule); dated futures and options are left
out. Symbols are ccxt's unified ones (`BTC/USDT`, `BTC/USDT:USDT`); `market()` also takes
the exchange's own id (`BTCUSDT`) or another spelling (`btc-usdt`) where only one market
matches, and raises `InvalidSymbol` with the listed symbols nearest to the one asked for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from cryptorobot.adapters import AdapterService
from cryptorobot.app import App
from engine import Market, MarketCatalog, sim_catalog
from engine.clock import Clock
from engine.errors import EngineError, ExchangeNotAvailable, from_ccxt_error
from services.errors import platform_error

from .clients import SIM, ClientFactory, describe, is_exchange
from .redaction import redactor
from .storage import create_many, find_all

__all__ = ["MarketStore"]

log = logging.getLogger("services.exchanges.markets")

STORED_ONLY = ("_id", "exchange", "loadedAt")
"""Fields a stored market has beyond ccxt's market structure."""


@dataclass
class _Loaded:
    markets: dict[str, dict[str, Any]]
    catalog: MarketCatalog
    loaded_at: int


class MarketStore:
    """Markets by exchange id (see the module docstring).

    `records` is the storage adapter (one record per market: ccxt's market structure plus
    `_id` = `"<exchange>:<symbol>"`, `exchange` and `loadedAt`, epoch ms); `max_age` and
    `retry_after` are seconds.
    """

    def __init__(self, records: AdapterService, factory: ClientFactory, clock: Clock, *, max_age: float = 86400.0,
                 retry_after: float = 60.0) -> None:
        self.records = records
        self.factory = factory
        self.clock = clock
        self.max_age_ms = int(max_age * 1000)
        self.retry_after_ms = int(retry_after * 1000)
        self._loaded: dict[str, _Loaded] = {}
        self._failed_at: dict[str, int] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._public: dict[str, Any] = {}

    async def setup(self, app: App, path: str) -> None:
        await self.records.setup(app, path)

    async def close(self) -> None:
        """Close the public clients, then the storage."""
        clients, self._public = list(self._public.values()), {}
        await asyncio.gather(*(self.factory.release(client) for client in clients), return_exceptions=True)
        await self.records.teardown()

    # -- what callers use ------------------------------------------------------------------

    async def markets(self, exchange_id: str) -> dict[str, dict[str, Any]]:
        """ccxt market structures by unified symbol (loaded or read back as needed)."""
        return (await self._ensure(exchange_id)).markets

    async def catalog(self, exchange_id: str) -> MarketCatalog:
        """The exchange's `MarketCatalog` (shared: callers must not `add` to it)."""
        return (await self._ensure(exchange_id)).catalog

    async def market(self, exchange_id: str, symbol: str) -> Market:
        """The market `symbol` names on the exchange; `InvalidSymbol` (with `suggestions`) when
        it lists none, `ExchangeNotAvailable` when its markets are unknown and can't be loaded,
        a 400 `INVALID_EXCHANGE` for an exchange id that is neither ccxt's nor `sim`."""
        return (await self.catalog(exchange_id)).market(symbol)

    async def refresh(self, exchange_id: str) -> None:
        """Load the exchange's markets again now (raises when that fails)."""
        async with self._lock(exchange_id):
            self._loaded[exchange_id] = await self._load(exchange_id)

    # -- loading -----------------------------------------------------------------------------

    def _lock(self, exchange_id: str) -> asyncio.Lock:
        return self._locks.setdefault(exchange_id, asyncio.Lock())

    def _fresh(self, loaded: _Loaded | None) -> bool:
        return loaded is not None and self.clock.now_ms() - loaded.loaded_at < self.max_age_ms

    async def _ensure(self, exchange_id: str) -> _Loaded:
        loaded = self._loaded.get(exchange_id)
        if self._fresh(loaded):
            assert loaded is not None
            return loaded
        if not is_exchange(exchange_id):
            raise platform_error("INVALID_EXCHANGE", f"No exchange {exchange_id!r}: use a ccxt exchange id or sim",
                                 exchange=exchange_id)
        async with self._lock(exchange_id):
            loaded = self._loaded.get(exchange_id) or await self._stored(exchange_id)
            if loaded is not None:
                self._loaded[exchange_id] = loaded
            if self._fresh(loaded):
                assert loaded is not None
                return loaded
            failed_at = self._failed_at.get(exchange_id)
            if loaded is not None and failed_at is not None and self.clock.now_ms() - failed_at < self.retry_after_ms:
                return loaded
            try:
                self._loaded[exchange_id] = await self._load(exchange_id)
            except ExchangeNotAvailable:
                self._failed_at[exchange_id] = self.clock.now_ms()
                if loaded is None:
                    raise
                log.warning("loading the markets of %s failed; serving the %d stored ones", exchange_id,
                            len(loaded.markets))
                return loaded
            self._failed_at.pop(exchange_id, None)
            return self._loaded[exchange_id]

    async def _stored(self, exchange_id: str) -> _Loaded | None:
        rows = await find_all(self.records, {"exchange": exchange_id})
        if not rows:
            return None
        markets = {row["symbol"]: {key: value for key, value in row.items() if key not in STORED_ONLY} for row in rows}
        return _Loaded(markets, _catalog(exchange_id, markets), min(row["loadedAt"] for row in rows))

    async def _load(self, exchange_id: str) -> _Loaded:
        """From the exchange (or the built-in list), written to storage."""
        if exchange_id == SIM:
            catalog = sim_catalog()
            markets = catalog.to_ccxt()
        else:
            raw = await self._fetch(exchange_id)
            catalog = _catalog(exchange_id, raw)
            markets = {symbol: raw[symbol] for symbol in catalog.symbols}
        now = self.clock.now_ms()
        rows = [{**market, "_id": f"{exchange_id}:{symbol}", "exchange": exchange_id, "loadedAt": now}
                for symbol, market in markets.items()]
        await self.records.remove(None, {"query": {"exchange": exchange_id, "$select": ["_id"]}})
        if rows:
            await create_many(self.records, rows)
        log.info("loaded %d markets of %s", len(rows), exchange_id)
        return _Loaded(markets, catalog, now)

    async def _fetch(self, exchange_id: str) -> dict[str, dict[str, Any]]:
        client = self._public.get(exchange_id)
        if client is None:
            client = self._public[exchange_id] = self.factory.create(exchange_id)
        try:
            return dict(await client.load_markets(reload=True))
        except Exception as failure:
            error: EngineError = from_ccxt_error(failure, exchange_id)
            log.warning("loading the markets of %s failed: %s", exchange_id,
                        redactor.scrub(f"{type(failure).__name__}: {failure}"))
            if isinstance(error, ExchangeNotAvailable):
                raise error from None
            raise ExchangeNotAvailable(f"{exchange_id} did not give its markets", **error.details) from None


def _catalog(exchange_id: str, markets: Mapping[str, Mapping[str, Any]]) -> MarketCatalog:
    """The engine's catalogue of ccxt markets, read with the exchange's precision mode and fee side."""
    if exchange_id == SIM:
        return MarketCatalog.from_ccxt(markets, SIM)
    client = describe(exchange_id)
    return MarketCatalog.from_exchange(SimpleNamespace(id=exchange_id, markets=markets,
                                                       precisionMode=client.precisionMode, fees=client.fees))

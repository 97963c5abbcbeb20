"""`exchanges/catalogue`: every exchange ccxt supports, plus `sim`, as ccxt's classes describe them.

No network: each entry is read from an unconfigured client of the exchange's class
(`clients.describe`). The list is built once, on the first request, in a worker thread
(about 0.15 s for ccxt's ~100 exchanges once ccxt is imported; see bench/README.md), then
served from memory with every query operator and pagination of the memory adapter.

    {"id": "binance", "name": "Binance", "countries": ["JP", "MT"], "url": "https://www.binance.com",
     "certified": true, "pro": true, "live": true, "sandbox": true,
     "requiredCredentials": ["apiKey", "secret"], "timeframes": ["1s", "1m", ...], "rateLimit": 50,
     "has": {"fetchOHLCV": true, "watchTicker": true, "createStopOrder": true, ...},
     "capabilities": ["cancelOrder", "createOrder", ...]}
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import ccxt
import ccxt.pro as ccxt_pro

from cryptorobot.adapters import MemoryService
from engine import SimExchange

from .clients import SIM, describe, has_sandbox, required_credentials

__all__ = ["CatalogueService", "build_catalogue"]


def _capabilities(has: Mapping[str, Any]) -> list[str]:
    return sorted(name for name, value in has.items() if value is True or value == "emulated")


def _url(urls: Mapping[str, Any]) -> str | None:
    www = urls.get("www")
    if isinstance(www, list):
        www = www[0] if www else None
    return www if isinstance(www, str) else None


def _entry(exchange_id: str) -> dict[str, Any]:
    client = describe(exchange_id)
    has = dict(client.has)
    return {
        "id": exchange_id, "name": client.name, "countries": list(client.countries or []), "url": _url(client.urls or {}),
        "certified": bool(client.certified), "pro": exchange_id in ccxt_pro.exchanges, "live": True, "has": has,
        "capabilities": _capabilities(has), "requiredCredentials": required_credentials(exchange_id),
        "sandbox": has_sandbox(exchange_id), "timeframes": list(client.timeframes or {}),
        "rateLimit": client.rateLimit,
    }


def _sim_entry() -> dict[str, Any]:
    has = dict(SimExchange().has)
    return {"id": SIM, "name": "Simulated exchange", "countries": [], "url": None, "certified": False, "pro": False,
            "live": False, "has": has, "capabilities": _capabilities(has), "requiredCredentials": [], "sandbox": False,
            "timeframes": None, "rateLimit": 0}


def build_catalogue() -> list[dict[str, Any]]:
    """Every entry, `sim` first, then ccxt's exchanges in `ccxt.exchanges` order (blocking: run it in a thread)."""
    return [_sim_entry(), *(_entry(exchange_id) for exchange_id in ccxt.exchanges)]


class CatalogueService:
    """`find` and `get` (by exchange id) over the catalogue, built on first use."""

    def __init__(self, paginate: Mapping[str, Any]) -> None:
        self.records = MemoryService(id="id", paginate=dict(paginate))
        self._built: asyncio.Future[None] | None = None

    def get_options(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        return self.records.get_options(params)

    async def _ready(self) -> MemoryService:
        if self._built is None or self._built.get_loop() is not asyncio.get_running_loop():
            self._built = asyncio.ensure_future(self._build())
        built = self._built
        try:
            await asyncio.shield(built)
        except Exception:
            if built.done() and self._built is built:
                self._built = None  # a failed build is tried again by the next call
            raise
        return self.records

    async def _build(self) -> None:
        entries = await asyncio.to_thread(build_catalogue)
        self.records.store.clear()
        self.records.store.update((entry["id"], entry) for entry in entries)

    async def find(self, params: dict[str, Any]) -> Any:
        return await (await self._ready()).find(params)

    async def get(self, id: str, params: dict[str, Any]) -> dict[str, Any]:
        return await (await self._ready()).get(id, params)

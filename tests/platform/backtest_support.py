"""Helpers for the backtests tests: stored candles, a create call, waiting for a run's end."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np

from engine.candles import Candles, SeriesKey, SqliteCandleStore

HOUR_MS = 3_600_000
START = 1_704_067_200_000
"""2024-01-01T00:00:00Z."""
YEAR_HOURS = 8_760
SMA = {"fastPeriod": 10, "slowPeriod": 30}
FINAL = ("completed", "failed", "cancelled")


def walk(bars: int, seed: int = 7, start: int = START, step: int = HOUR_MS) -> Candles:
    """Hourly candles of a seeded random walk around 100 (opens at the last close)."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, bars)))
    opening = np.concatenate(([100.0], close[:-1]))
    spread = np.abs(rng.normal(0, 0.003, bars))
    return Candles("1h", start + step * np.arange(bars, dtype=np.int64), opening,
                   np.maximum(opening, close) * (1 + spread), np.minimum(opening, close) * (1 - spread), close,
                   np.ones(bars))


def store_candles(data_dir: Path, candles: Candles, exchange: str = "sim", symbol: str = "BTC/USDT") -> None:
    """Write `candles` where the platform reads them (`<data_dir>/candles.db`)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    store = SqliteCandleStore(data_dir / "candles.db")
    try:
        store.write(SeriesKey(exchange, symbol, candles.timeframe), candles)
    finally:
        store.close()


def request(bars: int = 500, **changes: Any) -> dict[str, Any]:
    """A create body over the first `bars` hours of the stored walk."""
    return {"type": "sma_cross", "settings": SMA, "exchange": "sim", "symbol": "BTC/USDT", "timeframe": "1h",
            "start": START, "end": START + bars * HOUR_MS, "initialCash": 10_000, **changes}


async def finished(app: Any, id: Any, timeout: float = 30.0) -> dict[str, Any]:
    """The record once its run has ended (server side: `backtests patched` with a final state)."""
    arrived: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    def listener(record: dict[str, Any], *_: Any) -> None:
        if str(record["_id"]) == str(id) and record["state"] in FINAL and not arrived.done():
            arrived.set_result(record)

    service = app.service("backtests")
    service.on("patched", listener)
    try:
        current = await service.get(id)
        if current["state"] in FINAL:
            return current
        return await asyncio.wait_for(arrived, timeout)
    finally:
        service.off("patched", listener)


async def socket_run(socket: Any, id: Any, timeout: float = 30.0, until: tuple[str, ...] = FINAL) -> list[dict[str, Any]]:
    """Every `backtests patched` of run `id` a test socket receives until one in a state of
    `until` (default: a final state), in order."""
    patches: list[dict[str, Any]] = []

    async def collect() -> None:
        while not patches or patches[-1]["state"] not in until:
            while not socket.received:
                socket._arrived.clear()
                await socket._arrived.wait()
            event, args = socket.received.pop(0)
            if event == "backtests patched" and str(args[0]["_id"]) == str(id):
                patches.append(args[0])

    await asyncio.wait_for(collect(), timeout)
    return patches


async def pages(platform: Any, path: str, token: str, limit: int) -> list[dict[str, Any]]:
    """Every row of a paginated REST find, page by page."""
    rows: list[dict[str, Any]] = []
    while True:
        status, page = await platform.request("GET", f"{path}?$limit={limit}&$skip={len(rows)}", token=token)
        assert status == 200, page
        rows += page["data"]
        if len(rows) >= page["total"] or not page["data"]:
            return rows

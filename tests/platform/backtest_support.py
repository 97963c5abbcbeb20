"""Helpers for the backtests tests: a create call, waiting for a run's end, reading pages."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.backtest_data import EXCHANGE, HOUR_MS, START, store_candles, walk

__all__ = ["FINAL", "HOUR_MS", "SMA", "START", "finished", "pages", "request", "socket_run", "store_candles", "walk"]

SMA = {"fastPeriod": 10, "slowPeriod": 30}
FINAL = ("completed", "failed", "cancelled")


def request(bars: int = 500, **changes: Any) -> dict[str, Any]:
    """A create body over the first `bars` hours of the stored walk."""
    return {"type": "sma_cross", "settings": SMA, "exchange": EXCHANGE, "symbol": "BTC/USDT", "timeframe": "1h",
            "start": START, "end": START + bars * HOUR_MS, "initialCash": 10_000, **changes}


async def finished(app: Any, id: Any, timeout: float = 30.0, path: str = "backtests") -> dict[str, Any]:
    """The record once its run has ended (server side: `<path> patched` with a final state)."""
    arrived: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    def listener(record: dict[str, Any], *_: Any) -> None:
        if str(record["_id"]) == str(id) and record["state"] in FINAL and not arrived.done():
            arrived.set_result(record)

    service = app.service(path)
    service.on("patched", listener)
    try:
        current = await service.get(id)
        if current["state"] in FINAL:
            return current
        return await asyncio.wait_for(arrived, timeout)
    finally:
        service.off("patched", listener)


async def socket_run(socket: Any, id: Any, timeout: float = 30.0, until: tuple[str, ...] = FINAL,
                     path: str = "backtests") -> list[dict[str, Any]]:
    """Every `<path> patched` of run `id` a test socket receives until one in a state of
    `until` (default: a final state), in order."""
    patches: list[dict[str, Any]] = []

    async def collect() -> None:
        while not patches or patches[-1]["state"] not in until:
            while not socket.received:
                socket._arrived.clear()
                await socket._arrived.wait()
            event, args = socket.received.pop(0)
            if event == f"{path} patched" and str(args[0]["_id"]) == str(id):
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

"""Helpers for the live-ticker tests: stored `sim` series, settings, and reading tickers off sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.candles import Candles, SeriesKey, SqliteCandleStore
from tests.conftest import WAIT, SocketClient
from tests.engine.candle_support import walk

PATCHED = "exchanges/ticker patched"


def store_series(data_dir: Path, symbol: str = "GOOG/USD", count: int = 50, frame: str = "1m",
                 seed: int = 1) -> Candles:
    """Store a `sim` series where the platform's data directory keeps candles."""
    candles = walk(count, frame=frame, seed=seed)
    store = SqliteCandleStore(data_dir / "candles.db")
    store.write(SeriesKey("sim", symbol, frame), candles)
    store.close()
    return candles


def ticker_settings(**replay: Any) -> dict[str, Any]:
    """Settings: one candle a second (a point every 250 ms), coalescing at 2 per second,
    feeds stopped as soon as nobody listens."""
    return {"tickers": {"rate": 2.0, "linger": 0.0, "replay": {"candles_per_second": 1.0, **replay},
                        "random_walk": {"interval": 1.0}}}


def tickers_of(socket: SocketClient, symbol: str | None = None) -> list[dict[str, Any]]:
    """The tickers the socket received so far (of `symbol`), without taking them."""
    return [args[0] for name, args in socket.received
            if name == PATCHED and (symbol is None or args[0]["symbol"] == symbol)]


async def tickers_until(socket: SocketClient, matches: Callable[[dict[str, Any]], bool] = lambda _: True,
                        timeout: float = WAIT) -> list[dict[str, Any]]:
    """Take events until a ticker that `matches` arrives; the tickers taken, that one last."""
    taken: list[dict[str, Any]] = []

    async def find() -> list[dict[str, Any]]:
        while True:
            name, args = await socket.next_event()
            if name == PATCHED:
                taken.append(args[0])
                if matches(args[0]):
                    return taken

    return await asyncio.wait_for(find(), timeout)


async def next_ticker(socket: SocketClient, matches: Callable[[dict[str, Any]], bool] = lambda _: True,
                      timeout: float = WAIT) -> dict[str, Any]:
    """Take events until a ticker that `matches` arrives (earlier ones are dropped); that one."""
    return (await tickers_until(socket, matches, timeout))[-1]


async def one_of_each(socket: SocketClient, *symbols: str) -> dict[str, dict[str, Any]]:
    """Take events until a ticker of each symbol came; the first of each."""
    seen: dict[str, dict[str, Any]] = {}

    def complete(ticker: dict[str, Any]) -> bool:
        seen.setdefault(ticker["symbol"], ticker)
        return set(symbols) <= set(seen)

    await tickers_until(socket, complete)
    return seen


def of(symbol: str) -> Callable[[dict[str, Any]], bool]:
    return lambda ticker: ticker["symbol"] == symbol


async def subscribe(socket: SocketClient, exchange: str, *symbols: str, method: str = "subscribe") -> Any:
    """Call `subscribe` (or `unsubscribe`) on `exchanges/ticker`; the acknowledgement."""
    return await socket.call(method, "exchanges/ticker", {"exchange": exchange, "symbols": list(symbols)}, {})

"""Helpers for the traders tests: a replayed `sim` market, a paper account, a strategy and a trader."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.strategies import Strategy
from engine.strategies.settings import SettingsSchema
from platform_support import Platform
from tests.conftest import SocketClient
from ticker_support import store_series, ticker_settings

FAST_CROSS = {"name": "Fast cross", "type": "sma_cross", "pair": "BTC/USDT",
              "settings": {"fastPeriod": 2, "slowPeriod": 4}}
"""An sma_cross that trades within a few candles of a random walk."""


def trader_settings(candles_per_second: float = 40.0, **traders: Any) -> dict[str, Any]:
    """A fast replay (BTC/USDT's stored walk) and the traders' settings."""
    return {**ticker_settings(candles_per_second=candles_per_second), "traders": traders}


async def replay_platform(make_platform: Any, data_dir: Path, count: int = 400, **settings: Any) -> Platform:
    store_series(data_dir, "BTC/USDT", count=count)
    return await make_platform(**trader_settings(**settings))  # type: ignore[no-any-return]


async def post(platform: Platform, path: str, data: dict[str, Any], token: str, status: int = 201) -> dict[str, Any]:
    answer, body = await platform.request("POST", path, json=data, token=token)
    assert answer == status, body
    return body  # type: ignore[no-any-return]


async def new_trader(platform: Platform, token: str, strategy: dict[str, Any] | None = None,
                     **trader: Any) -> dict[str, Any]:
    """A sim paper account, the strategy (default `FAST_CROSS`) and a stopped trader on BTC/USDT."""
    account = await post(platform, "/exchanges", {"exchange": "sim"}, token)
    made = await post(platform, "/strategies", strategy or FAST_CROSS, token)
    return await post(platform, "/traders", {"name": "bot", "strategyId": made["_id"], "exchangeId": account["_id"],
                                             **trader}, token)


async def events_until(socket: SocketClient, done: Callable[[list[tuple[str, Any]]], bool],
                       timeout: float = 20.0) -> list[tuple[str, Any]]:
    """Take the socket's events until `done(events so far)`; those events, `(name, first arg)`."""
    taken: list[tuple[str, Any]] = []

    async def take() -> list[tuple[str, Any]]:
        while not done(taken):
            name, args = await socket.next_event()
            taken.append((name, args[0] if args else None))
        return taken

    return await asyncio.wait_for(take(), timeout)


def named(events: list[tuple[str, Any]], name: str) -> list[Any]:
    return [data for event, data in events if event == name]


class EveryBar(Strategy):
    """A test strategy type woken at every closed candle; subclasses say what it does there."""

    schema = SettingsSchema(())

    def window(self) -> int:
        return 1

    def wakes(self, candles: Any, indicators: Any) -> Any:
        import numpy as np

        return np.ones(len(candles), bool)

"""Candles: the `candles` and `candles/series` services and the `cryptorobot candles` commands.

The engine keeps and builds the history (`engine.candles`); this package exposes it over the
API (`service.py`), to the command line (`commands.py`), and picks the store a configuration
means (`store.py`).
"""

from __future__ import annotations

from cryptorobot import App

from .service import CandlesService, SeriesService, use_candle_services
from .store import candle_store

__all__ = ["CandlesService", "SeriesService", "candle_store", "register"]


def register(app: App) -> None:
    """Register `candles` and `candles/series` on the store the app's settings name."""
    use_candle_services(app, candle_store(app.settings))

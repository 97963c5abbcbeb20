"""Candles: the `candles` and `candles/series` services and the `cryptorobot candles` commands.

The engine keeps and builds the history (`engine.candles`); this package exposes it over the
API (`service.py`), to the command line (`commands.py`), and picks the store a configuration
means (`store.py`).
"""

from __future__ import annotations

from cryptorobot import App

__all__ = ["register"]


def register(app: App) -> None:
    """Register `candles` and `candles/series` on the store the app's settings name."""
    from .service import use_candle_services  # here: `cryptorobot --help` need not load numpy and pandas
    from .store import candle_store

    use_candle_services(app, candle_store(app.settings))

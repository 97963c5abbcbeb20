"""Market data: the feeds behind live prices, run for the whole platform by one hub.

`register(app)` creates the app's `MarketDataHub` (reach it with `market_data(app)`),
registers `exchanges/replays` (the `sim` replay markets and their saved positions) and ties
the hub to the app's life cycle: at setup it finds the stored `sim` series and starts their
replays; at teardown it stops the feeds, saves the replay positions and closes the exchange
clients. See `hub` for the listening API traders and paper accounts use, and `keeper` for
the live candles kept in the candle store while a live feed runs.
"""

from __future__ import annotations

import asyncio
from typing import Any

from cryptorobot import App
from cryptorobot.hooks import HookContext, Next

from .hub import Listener, MarketDataHub, MarketKey
from .incidents import FEED_DROPPED, FEED_RECOVERED, FeedIncident
from .keeper import CANDLES_STORED, StoredCandles
from .settings import MarketDataSettings

__all__ = ["CANDLES_STORED", "FEED_DROPPED", "FEED_RECOVERED", "FeedIncident", "Listener", "MarketDataHub",
           "MarketDataSettings", "MarketKey", "StoredCandles", "market_data", "register"]

HUB = "marketData"
"""The app setting holding the hub."""


def market_data(app: App) -> MarketDataHub:
    """The app's market-data hub (`register` must have run)."""
    hub = app.get(HUB)
    if not isinstance(hub, MarketDataHub):
        raise LookupError("market data is not registered on this app (services.market_data.register)")
    return hub


def register(app: App) -> MarketDataHub:
    """Create the hub over the app's candle store and register `exchanges/replays`."""
    from services.candles.store import candle_store

    from .replays import ReplayPositions, use_replays_service
    from .sources import MarketSources

    settings = MarketDataSettings.from_settings(app.settings)
    store = candle_store(app.settings)
    hub = MarketDataHub(app, settings, MarketSources(settings, store, app.clock), ReplayPositions(app))
    app.set(HUB, hub)
    use_replays_service(app)

    async def start_feeds(context: HookContext, next_step: Next) -> None:
        await next_step()
        await hub.start()

    async def stop_feeds(context: HookContext, next_step: Next) -> Any:
        try:
            await hub.close()
        finally:
            await asyncio.to_thread(store.close)
        await next_step()

    app.hooks({"setup": [start_feeds], "teardown": [stop_feeds]})
    return hub

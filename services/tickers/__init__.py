"""Live tickers: `exchanges/ticker`, `exchanges/watchlist`, and who receives which ticker.

`register(app)` (after `services.market_data.register`) registers both services and the
`TickerAudience` (reach it with `ticker_audience(app)`): sockets receive
`exchanges/ticker patched` for the markets their user follows (watchlist entries, running
traders: `await ticker_audience(app).follow(user_id, exchange, symbol, reason)`) and those
they subscribe to, coalesced to `tickers.rate` events per symbol per second.
"""

from __future__ import annotations

from typing import Any

from cryptorobot import App
from cryptorobot.events import Delivery
from services.market_data import MarketKey

from .audience import TickerAudience, ticker_room
from .coalescing import TickerCoalescer

__all__ = ["TickerAudience", "TickerCoalescer", "register", "ticker_audience", "ticker_room"]

AUDIENCE = "tickerAudience"
"""The app setting holding the audience."""


def ticker_audience(app: App) -> TickerAudience:
    """The app's ticker audience (`register` must have run)."""
    audience = app.get(AUDIENCE)
    if not isinstance(audience, TickerAudience):
        raise LookupError("live tickers are not registered on this app (services.tickers.register)")
    return audience


def register(app: App) -> TickerAudience:
    """Register `exchanges/ticker` and `exchanges/watchlist` over the app's market-data hub."""
    from services.market_data import market_data

    from .service import TICKER_PATH, use_ticker_service
    from .watchlist import use_watchlist_service, watchlist_loader

    hub = market_data(app)
    settings = hub.settings
    event = f"{TICKER_PATH} patched"

    async def send(key: MarketKey, ticker: dict[str, Any]) -> None:
        # Straight to the transports: the coalescer is the only buffer, and each process
        # sends the tickers of its own feeds to its own sockets (local, Redis or not).
        await app.events.deliver(event, [Delivery(ticker, rooms=[ticker_room(key)], local=True)])

    coalescer: TickerCoalescer[MarketKey] = TickerCoalescer(app.clock, settings.rate, send,
                                lambda work: app.supervisor.spawn(work, name="ticker delivery"))
    audience = TickerAudience(app, hub, coalescer, watchlist_loader(app), settings.max_subscriptions)
    app.set(AUDIENCE, audience)
    use_ticker_service(app, hub, audience)
    use_watchlist_service(app, hub, audience, settings.max_watchlist)
    return audience

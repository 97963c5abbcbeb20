"""Market intelligence, offline first: what the server computes from data it holds, and
what administrators bring in.

* `market/fear-greed`: a fear & greed index from the stored candles (`engine.sentiment`), by day;
* `market/stats`: breadth, top movers and volume of the tickers followed now;
* `market/news`: headlines from the RSS/Atom feeds in `[market.news]`, fetched periodically;
* `market/series`: other series (ETF flows, a stress index) imported by administrators.

Settings are the `[market]` section (see config/default.toml).
"""

from __future__ import annotations

from cryptorobot import App
from cryptorobot.hooks import HookContext, Next

from .fear_greed import FearGreedService, use_fear_greed
from .news import NEWS_PATH, NewsFetcher, parse_feed, use_news
from .series import SERIES_PATH, MarketSeriesService, use_market_series
from .stats import MarketStatsService, use_market_stats

__all__ = ["NEWS_PATH", "SERIES_PATH", "FearGreedService", "MarketSeriesService", "MarketStatsService", "NewsFetcher",
           "parse_feed", "register"]


def register(app: App) -> NewsFetcher:
    """Register the `market/...` services; the news fetcher runs from setup to teardown."""
    settings = app.get("market") or {}
    use_fear_greed(app, settings)
    use_market_stats(app)
    use_market_series(app)
    fetcher = use_news(app, settings.get("news") or {})

    async def start(context: HookContext, next_step: Next) -> None:
        await next_step()
        if fetcher.feeds:
            app.supervise(NEWS_PATH, fetcher.run)

    app.hooks({"setup": [start]})
    return fetcher

"""`market/fear-greed`: the fear & greed index of the pairs we hold, day by day.

    GET /market/fear-greed?timestamp[$gte]=2024-01-01&$limit=30
    -> {"total": 30, "limit": 30, "skip": 0, "data": [
         {"timestamp": 1704067200000, "value": 63.4, "classification": "Greed",
          "components": {"volatility": 58.1, "momentum": 80.2, "volume": 51.9}, "pairs": 2}, ...]}

Newest first. Computed from the stored candles (`engine.sentiment`: volatility, momentum and
volume of each pair, percentile-ranked over a year; the method is in that module's
documentation and in the API documentation): daily candles as stored or resampled from a
finer stored timeframe. The pairs are `[market] fear_greed_pairs` (`"exchange:SYMBOL"`), or
every stored series when that is empty. The history is computed in a thread and kept for
`[market] cache_seconds`. Not CNN's or alternative.me's figures: only what our data says.
"""

from __future__ import annotations

import asyncio
import math
import operator
import time
from typing import Any

from cryptorobot import App
from cryptorobot.query import page_limit
from cryptorobot.schemas import QuerySchema
from engine.candles import Candles, CandleStore, SeriesKey
from engine.errors import InvalidTimeframe
from engine.sentiment import classify, fear_greed
from hooks import authenticate
from services.candles.service import Timestamp
from services.market_data import market_data

__all__ = ["FearGreedService", "use_fear_greed"]

PAGINATE = {"default": 30, "max": 1000}
COMPARE = {"$eq": operator.eq, "$gte": operator.ge, "$gt": operator.gt, "$lt": operator.lt, "$lte": operator.le}


class FearGreedQuerySchema(QuerySchema):
    timestamp = Timestamp(metadata={"operators": ("$gte", "$gt", "$lt", "$lte"), "selectable": False,
                                    "sortable": False, "description": "The day's open: ms or an ISO 8601 date."})

DOCS = ("The fear & greed index (0 extreme fear .. 100 extreme greed) computed from the candles the server holds, "
        "day by day, newest first. Per pair and day: volatility (std of 30 daily log returns, its percentile rank "
        "over 365 days, inverted), momentum (close / 30-day SMA - 1, ranked) and volume (7-day / 30-day mean volume, "
        "ranked, inverted on a falling week); the pair's index is their mean, the market's the mean over pairs. "
        "Bands: 0-24 Extreme Fear, 25-44 Fear, 45-55 Neutral, 56-75 Greed, 76-100 Extreme Greed. "
        "Filter with `timestamp[$gte]` / `timestamp[$lt]` (ms or ISO dates); `$limit`, `$skip`.")


def _daily(store: CandleStore, pairs: list[str]) -> dict[str, Candles]:
    keys = [SeriesKey(pair.split(":", 1)[0], pair.split(":", 1)[-1], "1d") for pair in pairs] if pairs else [
        SeriesKey(info.key.exchange, info.key.symbol, "1d") for info in store.series()]
    loaded = {}
    for key in dict.fromkeys(keys):
        try:
            candles = store.load(key)
        except InvalidTimeframe:  # only coarser candles stored: nothing daily to read
            continue
        if len(candles):
            loaded[f"{key.exchange}:{key.symbol}"] = candles
    return loaded


def _rows(store: CandleStore, pairs: list[str]) -> list[dict[str, Any]]:
    index = fear_greed(_daily(store, pairs))
    rows = []
    for i in range(len(index.value) - 1, -1, -1):
        value = round(float(index.value[i]), 1)
        components = {name: (None if math.isnan(values[i]) else round(float(values[i]), 1))
                      for name, values in index.components.items()}
        rows.append({"timestamp": int(index.timestamp[i]), "value": value, "classification": classify(value),
                     "components": components, "pairs": int(index.pairs[i])})
    return rows


class FearGreedService:
    """`find` only; see the module documentation."""

    def __init__(self, app: App, pairs: list[str], cache_seconds: float) -> None:
        self.app = app
        self.pairs = pairs
        self.cache_seconds = cache_seconds
        self._cached: tuple[float, list[dict[str, Any]]] | None = None

    async def history(self) -> list[dict[str, Any]]:
        """Every day's index, newest first."""
        now = time.monotonic()
        if self._cached is None or now - self._cached[0] > self.cache_seconds:
            store = market_data(self.app).sources.store  # the hub's: one candle store per app
            self._cached = (now, await asyncio.to_thread(_rows, store, self.pairs))
        return self._cached[1]

    async def find(self, params: dict[str, Any]) -> dict[str, Any]:
        query = dict(params.get("query") or {})
        limit = page_limit(query.get("$limit"), PAGINATE) or PAGINATE["default"]
        skip = int(query.get("$skip") or 0)
        condition = query.get("timestamp")
        conditions = condition if isinstance(condition, dict) else {} if condition is None else {"$eq": condition}
        rows = [row for row in await self.history()
                if all(COMPARE[operator](row["timestamp"], value) for operator, value in conditions.items())]
        return {"total": len(rows), "limit": limit, "skip": skip, "data": rows[skip:skip + limit]}


def use_fear_greed(app: App, settings: dict[str, Any]) -> None:
    pairs = [str(pair) for pair in settings.get("fear_greed_pairs") or []]
    app.use("market/fear-greed", FearGreedService(app, pairs, float(settings.get("cache_seconds", 300))), {
        "methods": ["find"], "schemas": {"query": FearGreedQuerySchema}, "docs": {"description": DOCS, "codes": []}})
    app.service("market/fear-greed").hooks({"around": {"all": [authenticate("jwt", "api-key")]}})

"""`candles` and `candles/series`: stored OHLCV history, read-only, for every signed-in user.

`GET /candles?exchange=binance&symbol=BTC/USDT&timeframe=1h&timestamp[$gte]=2024-01-01&$limit=500`
answers a page like every find, oldest first (`$sort[timestamp]=-1`: newest first)::

    {"total": 8760, "limit": 500, "skip": 0,
     "data": [{"timestamp": 1704067200000, "open": 42283.58, "high": 42554.57, "low": 42261.02,
               "close": 42475.23, "volume": 1271.68}, ...],
     "exchange": "binance", "symbol": "BTC/USDT", "timeframe": "1h", "source": "1h",
     "gaps": [{"start": 1704153600000, "end": 1704157200000, "missing": 1}]}

`timestamp` is the candle's open in UTC milliseconds (ccxt's OHLCV convention); a `volume`
of null is unknown. `source` is the stored timeframe the candles come from: a timeframe that
is not stored is resampled from a finer stored one, or refused with 400 `INVALID_TIMEFRAME`.
`gaps` are the missing candles that follow one of the page's candles (every gap of a range
is on exactly one page); nothing is invented for them. Nothing stored for the exchange and
symbol is an empty page. Pages hold 25 candles unless `$limit` says otherwise, at most 1000
(`candles.paginate`).

`GET /candles/series?exchange=binance` lists the stored series with their range (opens of
the `first` and `last` candles), `count`, `gapCount` and `missing` candles.

Candles are shared market data: any user signed in with a token or an API key may read
them; they are written by `cryptorobot candles import|download` and, for the real
exchanges' markets whose feeds run, by the server as their candles close
(`services.market_data.keeper`), not by clients. The store
is blocking I/O and runs in worker threads, off the event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

from cryptorobot import App
from cryptorobot.errors import BadRequest
from cryptorobot.query import page_limit
from cryptorobot.schemas import VALIDATION_FAILED, QuerySchema, Schema, fields
from cryptorobot.schemas.query import INT_MAX, INT_MIN
from engine.candles import CandleStore, Page, SeriesKey
from hooks import authenticate

__all__ = ["CandleQuerySchema", "CandleResultSchema", "CandlesService", "SeriesQuerySchema", "SeriesResultSchema",
           "SeriesService", "Timestamp", "instant_ms", "use_candle_services"]

KEY_FIELDS = ("exchange", "symbol", "timeframe")
FIXED = {"operators": (), "sortable": False, "selectable": False}
"""A field matched by equality only."""
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}\Z")


def instant_ms(value: Any) -> int:
    """UTC epoch milliseconds from an integer (or its text) or an ISO 8601 date (`2024-01-01`,
    `2024-01-01T12:00:00Z`; without an offset: UTC). ValueError for anything else."""
    if type(value) is float and value.is_integer():
        value = int(value)
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        value = int(value.strip())
    if type(value) is int:
        if not INT_MIN <= value <= INT_MAX:
            raise ValueError("out of range")
        return value
    if not isinstance(value, str):
        raise ValueError("not a timestamp")
    instant = dt.datetime.fromisoformat(value.strip().upper())
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    return int(instant.timestamp() * 1000)


class Timestamp(fields.Field):
    """A query value in UTC epoch milliseconds; ISO 8601 dates are welcome too (`instant_ms`)."""

    default_error_messages = {"invalid": "Not a timestamp: epoch milliseconds or an ISO 8601 date."}  # noqa: RUF012

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"oneOf": [{"type": "integer"}, {"type": "string", "format": "date-time"}],
                    **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        try:
            return instant_ms(value)
        except (ValueError, OverflowError):
            raise self.make_error("invalid") from None


class CandleQuerySchema(QuerySchema):
    exchange = fields.String(metadata={**FIXED, "description": "A ccxt exchange id, or `sim`. Required."})
    symbol = fields.String(metadata={**FIXED, "description": "A unified symbol, e.g. `BTC/USDT`. Required."})
    timeframe = fields.String(metadata={**FIXED, "description": "A ccxt timeframe: `1m`, `1h`, `1d`, ... Required."})
    timestamp = Timestamp(metadata={"operators": ("$gte", "$gt", "$lt", "$lte"), "selectable": False,
                                    "description": "The candle's open: epoch milliseconds or an ISO 8601 date."})


class CandleResultSchema(Schema):
    """One candle, as charting libraries take it."""

    timestamp = fields.Integer(metadata={"description": "Open time, UTC epoch milliseconds."})
    open = fields.Float()
    high = fields.Float()
    low = fields.Float()
    close = fields.Float()
    volume = fields.Float(allow_none=True, metadata={"description": "Base volume; null when unknown."})


class SeriesQuerySchema(QuerySchema):
    exchange = fields.String(metadata=FIXED)
    symbol = fields.String(metadata=FIXED)
    timeframe = fields.String(metadata=FIXED)


class SeriesResultSchema(Schema):
    exchange = fields.String()
    symbol = fields.String()
    timeframe = fields.String()
    first = fields.Integer(metadata={"description": "Open of the first candle, UTC epoch milliseconds."})
    last = fields.Integer(metadata={"description": "Open of the last candle, UTC epoch milliseconds."})
    count = fields.Integer(metadata={"description": "Candles stored."})
    gapCount = fields.Integer(metadata={"description": "Runs of missing candles between first and last."})
    missing = fields.Integer(metadata={"description": "Candles missing between first and last."})


def _bounds(condition: Any) -> tuple[int | None, int | None]:
    """`[start, end)` in ms from a loaded `timestamp` condition."""
    if condition is None:
        return None, None
    if not isinstance(condition, dict):
        return condition, condition + 1
    starts = [condition["$gte"]] if "$gte" in condition else []
    starts += [condition["$gt"] + 1] if "$gt" in condition else []
    ends = [condition["$lt"]] if "$lt" in condition else []
    ends += [condition["$lte"] + 1] if "$lte" in condition else []
    return max(starts, default=None), min(ends, default=None)


class _StoreReader:
    """A read-only service over a candle store, paginated by `paginate` (`default`, `max`)."""

    def __init__(self, store: CandleStore, paginate: dict[str, int]) -> None:
        self.store = store
        self.paginate = paginate

    def get_options(self, params: dict[str, Any]) -> dict[str, Any]:
        """Pagination, as adapters report it (the OpenAPI document shows pages)."""
        return {"paginate": self.paginate}

    def window(self, query: dict[str, Any]) -> tuple[int | None, int]:
        """The page's `(limit, skip)`."""
        return page_limit(query.get("$limit"), self.paginate), query.get("$skip") or 0


class CandlesService(_StoreReader):
    """`find` over a candle store (see the module documentation); closes the store at teardown."""

    async def find(self, params: dict[str, Any]) -> dict[str, Any]:
        query = params.get("query") or {}
        missing = {name: ["Missing data for required field."] for name in KEY_FIELDS if not query.get(name)}
        if missing:
            raise BadRequest(VALIDATION_FAILED, errors=missing)
        key = SeriesKey(query["exchange"], query["symbol"], query["timeframe"])
        start, end = _bounds(query.get("timestamp"))
        limit, skip = self.window(query)
        descending = (query.get("$sort") or {}).get("timestamp") == -1
        page: Page = await asyncio.to_thread(self.store.page, key, start, end, skip=skip, limit=limit,
                                             descending=descending)
        candles = page.candles
        data = [{"timestamp": t, "open": o, "high": h, "low": lo, "close": c, "volume": v}
                for t, o, h, lo, c, v in zip(candles.timestamp.tolist(), candles.open.tolist(), candles.high.tolist(),
                                             candles.low.tolist(), candles.close.tolist(), candles.volume.tolist(),
                                             strict=True)]
        return {"total": page.total, "limit": limit, "skip": skip, "data": data, "exchange": key.exchange,
                "symbol": key.symbol, "timeframe": key.timeframe, "source": page.source,
                "gaps": [gap.to_json() for gap in page.gaps]}

    async def teardown(self) -> None:
        await asyncio.to_thread(self.store.close)


class SeriesService(_StoreReader):
    """`find` over the stored series (see the module documentation)."""

    async def find(self, params: dict[str, Any]) -> dict[str, Any]:
        query = params.get("query") or {}
        found = await asyncio.to_thread(self.store.series, query.get("exchange"), query.get("symbol"))
        records = [{"exchange": info.key.exchange, "symbol": info.key.symbol, "timeframe": info.key.timeframe,
                    "first": info.first, "last": info.last, "count": info.count, "gapCount": len(info.gaps),
                    "missing": info.missing}
                   for info in found if query.get("timeframe") in (None, info.key.timeframe)]
        limit, skip = self.window(query)
        return {"total": len(records), "limit": limit, "skip": skip,
                "data": records[skip:None if limit is None else skip + limit]}


def use_candle_services(app: App, store: CandleStore) -> None:
    """`candles` and `candles/series` over `store` (closed when the app tears down)."""
    signed_in: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"apiKey": []}]
    candle_pages = {"default": 25, "max": 1000, **((app.get("candles") or {}).get("paginate") or {})}
    app.use("candles", CandlesService(store, candle_pages), {
        "methods": ["find"],
        "schemas": {"query": CandleQuerySchema, "result": CandleResultSchema},
        "docs": {"description": "OHLCV history by exchange, symbol and timeframe, shared by all users. Pages also "
                                "carry `exchange`, `symbol`, `timeframe`, `source` (the stored timeframe resampled "
                                "from, when the asked one is not stored) and `gaps` (`{start, end, missing}`). "
                                "A timeframe neither stored nor derivable is a 400 with `data.code` "
                                "`INVALID_TIMEFRAME`.",
                 "security": signed_in, "codes": ["INVALID_TIMEFRAME"]},
    })
    app.use("candles/series", SeriesService(store, app.get("paginate") or {"default": 25, "max": 100}), {
        "methods": ["find"],
        "schemas": {"query": SeriesQuerySchema, "result": SeriesResultSchema},
        "docs": {"description": "The stored candle series: range, count and gaps.", "security": signed_in, "codes": []},
    })
    reader = authenticate("jwt", "api-key")
    for path in ("candles", "candles/series"):
        app.service(path).hooks({"around": {"find": [reader]}})

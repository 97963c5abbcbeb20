"""`market/series`: other market series an administrator imports (ETF flows, a stress index, ...).

No free source of these is reachable from the server, so they come in by hand::

    POST /market/series {"name": "etf_flows", "unit": "USD", "source": "issuer filings",
                         "points": [{"timestamp": "2024-01-11", "value": 655300000}, ...]}
    -> {"name": "etf_flows", "imported": 2, "replaced": 0}

(administrators only; `name` is lower-case letters, digits and _; at most 10000 points a
call; a point at a timestamp already stored for that name replaces it.) Everyone signed in
reads the points::

    GET /market/series?name=etf_flows&timestamp[$gte]=2024-01-01&$sort[timestamp]=1
    -> {"total": ..., "data": [{"_id": ..., "name": "etf_flows", "timestamp": 1704931200000,
         "value": 655300000.0, "unit": "USD", "source": "issuer filings", "createdAt": ..., ...}]}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import validate

from cryptorobot import App
from cryptorobot.adapters import AdapterService, Index
from cryptorobot.schemas import QuerySchema, Schema, ValidationError, fields
from cryptorobot.storage import persisted
from hooks import admins_only, authenticate
from services.candles.service import Timestamp
from services.users import EQUALITY, RecordId

__all__ = ["SERIES_PATH", "MarketSeriesService", "use_market_series"]

SERIES_PATH = "market/series"
_NAME_PATTERN = re.compile(r"[a-z0-9_]{1,50}")


def _name(value: str) -> None:
    """A validator (a function, not `validate.Regexp`: OpenAPI patterns are ECMA regexes)."""
    if not _NAME_PATTERN.fullmatch(value):
        raise ValidationError("Lower-case letters, digits and _, at most 50.")


class PointSchema(Schema):
    timestamp = Timestamp(required=True, metadata={"description": "UTC ms or an ISO 8601 date."})
    value = fields.Float(required=True, allow_nan=False)


class ImportSchema(Schema):
    name = fields.String(required=True, validate=_name, metadata={"description": "Lower-case letters, digits and _."})
    unit = fields.String(validate=validate.Length(max=50), load_default=None)
    source = fields.String(validate=validate.Length(max=200), load_default=None)
    points = fields.List(fields.Nested(PointSchema), required=True, validate=validate.Length(min=1, max=10000))


class SeriesQuerySchema(QuerySchema):
    _id = RecordId(metadata={"operators": EQUALITY})
    name = fields.String(metadata={"operators": EQUALITY})
    timestamp = Timestamp(metadata={"operators": ("$gte", "$gt", "$lt", "$lte")})
    value = fields.Float()


class MarketSeriesService:
    """Points over a persisted adapter; `create` imports a batch (see the module documentation)."""

    def __init__(self, store: AdapterService) -> None:
        self.store = store

    async def setup(self, app: App, path: str) -> None:
        await self.store.setup(app, path)

    async def find(self, params: dict[str, Any]) -> Any:
        return await self.store.find({"query": params.get("query") or {}})

    async def get(self, id: Any, params: dict[str, Any]) -> Any:
        return await self.store.get(id)

    async def create(self, data: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        name, now = data["name"], params["now"]
        points = {point["timestamp"]: point["value"] for point in data["points"]}  # the last of a duplicate wins
        stored = await self.store.find({"query": {"name": name, "timestamp": {"$in": list(points)}},
                                        "paginate": False})
        by_time = {record["timestamp"]: record["_id"] for record in stored} if isinstance(stored, list) else {}
        extra = {"unit": data.get("unit"), "source": data.get("source"), "updatedAt": now}
        fresh: list[Mapping[str, Any]] = [{"name": name, "timestamp": timestamp, "value": value, "createdAt": now, **extra}
                 for timestamp, value in points.items() if timestamp not in by_time]
        if fresh:
            await self.store.create(fresh)
        for timestamp, value in points.items():
            if timestamp in by_time:
                await self.store.patch(by_time[timestamp], {"value": value, **extra})
        return {"name": name, "imported": len(fresh), "replaced": len(points) - len(fresh)}


def use_market_series(app: App) -> None:
    paginate = app.get("paginate") or {"default": 25, "max": 100}
    store = persisted(app, id="_id", paginate=paginate, multi=["create"],
                      indexes=[Index(("name", "timestamp"), unique=True)])
    app.use(SERIES_PATH, MarketSeriesService(store), {
        "methods": ["find", "get", "create"],
        # No result schema: it would shape create's import summary as a point. Points are stored as
        # `PointSchema` says, plus name, unit, source and the timestamps: nothing to hide.
        "schemas": {"create": ImportSchema, "query": SeriesQuerySchema, "timestamps": False},
        "docs": {"description": "Other market series (ETF flows, a stress index, ...) imported by administrators "
                                "(`create` with `name` and `points`), read by everyone signed in.", "codes": []},
    })

    def stamp(context: Any) -> None:
        context.params["now"] = app.clock.now()

    signed_in = authenticate("jwt", "api-key")
    app.service(SERIES_PATH).hooks({
        "around": {"find": [signed_in], "get": [signed_in], "create": [signed_in, admins_only]},
        "before": {"create": [stamp]},
    })

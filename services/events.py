"""`events`: system events, for every signed-in user.

    GET /events?type=feed_dropped&$sort[createdAt]=-1
    -> {"total": 1, ..., "data": [{"_id": ..., "type": "feed_dropped", "level": "warning",
         "message": "The binance BTC/USDT price feed dropped: ...", "data": {"exchange": "binance",
         "symbol": "BTC/USDT", "error": "...", "attempts": 1, "retryIn": 1.0, "downMs": null},
         "createdAt": ...}]}

Types (`TYPES`): `server_started` and `server_stopping` (the app's setup and teardown),
`feed_dropped` and `feed_recovered` (the market-data hub's incidents, one of each per
outage, `services.market_data.incidents`), and `maintenance`, a notice an administrator
posts::

    POST /events {"message": "Exchange maintenance 02:00-03:00 UTC", "data": {"startsAt": "..."}}

(only `message` and `data` are the admin's; the type is `maintenance`, the level `info`).
`events created` goes to every authenticated socket. Events are records like any other:
kept (per `storage`), read with `find` and `get`; nobody patches or removes them.
"""

from __future__ import annotations

import logging
from typing import Any

from marshmallow import validate

from cryptorobot import App
from cryptorobot.adapters import Index
from cryptorobot.hooks import HookContext, Next
from cryptorobot.schemas import SERVER_FIELDS, QuerySchema, Schema, fields
from cryptorobot.storage import persisted
from hooks import admins_only, authenticate
from services.market_data import FEED_DROPPED, FEED_RECOVERED, FeedIncident
from services.users import EQUALITY, RecordId

__all__ = ["EVENTS_PATH", "TYPES", "register", "system_event"]

log = logging.getLogger("cryptorobot.events")

EVENTS_PATH = "events"
TYPES = ("server_started", "server_stopping", "feed_dropped", "feed_recovered", "maintenance")
LEVELS = ("info", "warning")


class NoticeSchema(Schema):
    """What an administrator posts."""

    message = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    data = fields.Dict(allow_none=True, metadata={"description": "Anything the clients should know (e.g. `startsAt`, `endsAt`)."})


class EventQuerySchema(QuerySchema):
    _id = RecordId(metadata={"operators": EQUALITY})
    type = fields.String(validate=validate.OneOf(TYPES), metadata={"operators": EQUALITY})
    level = fields.String(validate=validate.OneOf(LEVELS), metadata={"operators": EQUALITY})
    createdAt = fields.DateTime()


class EventResultSchema(Schema):
    _id = RecordId()
    type = fields.String(metadata={"description": f"One of {', '.join(TYPES)}."})
    level = fields.String(metadata={"description": "`info` or `warning`."})
    message = fields.String()
    data = fields.Dict(allow_none=True)
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()


async def system_event(app: App, type: str, message: str, data: dict[str, Any] | None = None,
                       level: str = "info") -> dict[str, Any] | None:
    """Record a system event (server code); `events created` reaches every signed-in socket.
    A storage failure is logged, not raised: events never stop what reported them."""
    try:
        return await app.service(EVENTS_PATH).create({"type": type, "level": level, "message": message, "data": data})
    except Exception:
        log.exception("recording the system event %s failed", type)
        return None


def _notice(context: HookContext) -> None:
    """An administrator's post is a maintenance notice."""
    if context.params.get("provider"):
        context.data.update(type="maintenance", level="info")


def _incident_data(incident: FeedIncident) -> dict[str, Any]:
    record = incident.to_json()
    return {key: record[key] for key in ("exchange", "symbol", "error", "attempts", "retryIn", "downMs")}


def register(app: App) -> None:
    """Register `events` and record the server's start and stop and the feeds' incidents."""
    paginate = app.get("paginate") or {"default": 25, "max": 100}
    app.use(EVENTS_PATH, persisted(app, id="_id", paginate=paginate, indexes=[Index(("createdAt",))]), {
        "methods": ["find", "get", "create"],
        "schemas": {"create": NoticeSchema, "server_fields": (*SERVER_FIELDS, "type", "level"),
                    "query": EventQuerySchema, "result": EventResultSchema},
        "docs": {"description": "System events: the server started or is stopping, an exchange feed dropped or "
                                "recovered, a maintenance notice. `events created` reaches every signed-in socket. "
                                "Only administrators post (a `maintenance` notice).", "codes": []},
    })
    signed_in = authenticate("jwt", "api-key")
    service = app.service(EVENTS_PATH)
    service.hooks({
        "around": {"find": [signed_in], "get": [signed_in], "create": [signed_in, admins_only]},
        "before": {"create": [_notice]},
    })
    service.publish(lambda event, context: app.channel("authenticated"))

    async def started(context: HookContext, next_step: Next) -> None:
        await next_step()
        await system_event(app, "server_started", "The server started")

    async def stopping(context: HookContext, next_step: Next) -> None:
        await system_event(app, "server_stopping", "The server is stopping", level="warning")
        await next_step()

    app.hooks({"setup": [started], "teardown": [stopping]})

    async def on_incident(incident: FeedIncident) -> None:
        dropped = incident.kind == FEED_DROPPED
        await system_event(app, "feed_dropped" if dropped else "feed_recovered", incident.message,
                           _incident_data(incident), "warning" if dropped else "info")

    app.on(FEED_DROPPED, on_incident)
    app.on(FEED_RECOVERED, on_incident)

"""`messages` and `messages/preferences`: notifications for one user, and which kinds they get.

The platform writes messages; the user reads them and marks them read::

    GET   /messages?read=false&$sort[createdAt]=-1
    -> {"total": 1, "limit": 25, "skip": 0, "data": [
         {"_id": ..., "userId": ..., "kind": "signal", "title": "BTC/USDT: buy (0.71)",
          "body": "...", "data": {"modelId": ..., ...}, "read": false, "createdAt": ..., "updatedAt": ...}]}
    PATCH /messages/<id> {"read": true}
    DELETE /messages/<id>

`kind` is one of `KINDS`; a patch may change `read` only (anything else is a 400); clients
never create messages. `messages created` and `patched` go to the owner's room only.

Which kinds a user gets is `messages/preferences`, one record per user, defaults filled in
(every kind on but `fill`, which a busy bot would turn into noise)::

    GET  /messages/preferences            -> {"userId": ..., "kinds": {"fill": false, "signal": true, ...}}
    POST /messages/preferences {"kinds": {"fill": true}}   # merged into the stored choice

Server code notifies a user with `notify` (traders: errors, fills, emergency stops; models:
signals; risk limits)::

    from services.messages import notify
    message = await notify(app, user_id, "trader_error", "Trader 'grid' stopped", "INSUFFICIENT_BALANCE ...",
                           {"traderId": trader_id})   # None when the user turned that kind off
"""

from __future__ import annotations

from typing import Any

from marshmallow import validate

from cryptorobot import App
from cryptorobot.adapters import AdapterService, Index
from cryptorobot.schemas import QuerySchema, Schema, fields, set_timestamps
from cryptorobot.storage import persisted
from hooks import authenticate, restrict_to_owner
from services.users import EQUALITY, RecordId

__all__ = ["KINDS", "MESSAGES_PATH", "PREFERENCES_PATH", "notify", "preferences_of", "register"]

MESSAGES_PATH = "messages"
PREFERENCES_PATH = "messages/preferences"

KINDS: dict[str, bool] = {
    "trader_error": True,
    "fill": False,
    "signal": True,
    "emergency_stop": True,
    "risk_limit": True,
    "system": True,
}
"""Every kind of message, and whether a user gets it before choosing."""

_KIND = validate.OneOf(list(KINDS))


class MessagePatchSchema(Schema):
    read = fields.Boolean(metadata={"description": "Mark the message read (or unread)."})


class MessageQuerySchema(QuerySchema):
    _id = RecordId(metadata={"operators": EQUALITY})
    userId = RecordId(metadata={"operators": EQUALITY, "description": "Always the caller's own."})
    kind = fields.String(validate=_KIND, metadata={"operators": EQUALITY})
    read = fields.Boolean(metadata={"operators": ("$ne",)})
    createdAt = fields.DateTime()


class MessageResultSchema(Schema):
    _id = RecordId()
    userId = RecordId()
    kind = fields.String(metadata={"description": f"One of {', '.join(KINDS)}."})
    title = fields.String()
    body = fields.String()
    data = fields.Dict(allow_none=True, metadata={"description": "What the message is about (ids, prices)."})
    read = fields.Boolean()
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()


class PreferencesSchema(Schema):
    kinds = fields.Dict(keys=fields.String(validate=_KIND), values=fields.Boolean(), required=True,
                        metadata={"description": "Kinds to turn on (true) or off (false); others keep their value."})


class PreferencesService:
    """One preferences record per user, over a persisted adapter; see the module docs."""

    def __init__(self, store: AdapterService) -> None:
        self.store = store

    async def setup(self, app: App, path: str) -> None:
        await self.store.setup(app, path)

    async def stored(self, user_id: Any) -> dict[str, Any] | None:
        found = await self.store.find({"query": {"userId": user_id, "$limit": 1}, "paginate": False})
        assert isinstance(found, list)
        return found[0] if found else None

    async def choices(self, user_id: Any) -> dict[str, Any]:
        """`{userId, kinds, updatedAt}` with every kind (defaults for those never chosen)."""
        record = await self.stored(user_id)
        kinds = {**KINDS, **((record or {}).get("kinds") or {})}
        return {"userId": user_id, "kinds": kinds, "updatedAt": (record or {}).get("updatedAt")}

    async def find(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self.choices(_caller(params))

    async def create(self, data: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        user_id = _caller(params)
        record = await self.stored(user_id)
        kinds = {**((record or {}).get("kinds") or {}), **data["kinds"]}
        if record is None:
            await self.store.create({"userId": user_id, "kinds": kinds})
        else:
            await self.store.patch(record["_id"], {"kinds": kinds})
        return await self.choices(user_id)


def _caller(params: dict[str, Any]) -> Any:
    user = params.get("user")
    if user is None:  # server code names the user in the query
        return (params.get("query") or {})["userId"]
    return user["_id"]


async def preferences_of(app: App, user_id: Any) -> dict[str, bool]:
    """Every kind and whether `user_id` gets it."""
    service = app.service(PREFERENCES_PATH).raw
    assert isinstance(service, PreferencesService)
    return (await service.choices(user_id))["kinds"]


async def notify(app: App, user_id: Any, kind: str, title: str, body: str,
                 data: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Create a `messages` record for `user_id` (`messages created` reaches their sockets),
    unless they turned `kind` off: then None. `kind` is one of `KINDS` (ValueError otherwise);
    `data` is JSON the clients may use (ids, prices)."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}; one of {', '.join(KINDS)}")
    if not (await preferences_of(app, user_id)).get(kind, False):
        return None
    return await app.service(MESSAGES_PATH).create(
        {"userId": user_id, "kind": kind, "title": title, "body": body, "data": data, "read": False})


def register(app: App) -> None:
    """Register `messages` and `messages/preferences`."""
    paginate = app.get("paginate") or {"default": 25, "max": 100}
    messages = persisted(app, id="_id", paginate=paginate, indexes=[Index(("userId", "createdAt"))])
    app.use(MESSAGES_PATH, messages, {
        "methods": ["find", "get", "patch", "remove"],
        "schemas": {"patch": MessagePatchSchema, "query": MessageQuerySchema, "result": MessageResultSchema},
        "docs": {"description": "The caller's notifications (trader errors, fills, signals, emergency stops, risk "
                                "limits, system notices), written by the platform. `patch {\"read\": true}` marks one "
                                "read. `messages created` reaches the owner's sockets.", "codes": []},
    })
    signed_in, owner_only = authenticate("jwt", "api-key"), restrict_to_owner("userId")
    app.service(MESSAGES_PATH).hooks({
        "around": {"all": [signed_in]},
        "before": {"find": [owner_only], "get": [owner_only], "patch": [owner_only],
                   "remove": [owner_only], "create": [set_timestamps()]},  # create: server code (`notify`)
    })

    store = persisted(app, id="_id", paginate=False, indexes=[Index(("userId",), unique=True)])
    app.use(PREFERENCES_PATH, PreferencesService(store), {
        "methods": ["find", "create"],
        "schemas": {"create": PreferencesSchema},  # answers `{userId, kinds, updatedAt}`, not a list of records
        "docs": {"description": "Which kinds of `messages` the caller gets: `find` answers every kind with its "
                                "choice (defaults: all on but `fill`); `create {kinds}` turns kinds on or off.",
                 "codes": []},
    })
    app.service(PREFERENCES_PATH).hooks({"around": {"all": [signed_in]}})

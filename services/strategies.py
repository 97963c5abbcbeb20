"""`strategies` (a user's strategies) and `strategies/types` (the catalogue of strategy types).

    GET  /strategies/types                         every type, HaasOnline's script shape (public)
    GET  /strategies/types/momentum                one type
    POST /strategies {"name": "Trend", "type": "momentum", "pair": "BTC/USDT"}
    GET  /strategies?type=momentum&$sort[createdAt]=-1

A strategy is `{name, type, pair, timeframe, settings, description}`, its owner's alone
(events to the owner). `settings` are validated against the type's schema
(`engine.strategies`) and stored complete, defaults filled in, so a strategy created with
no settings runs: a refused field is a 400 `INVALID_SETTINGS` whose `errors` hold one
message per setting key (`{"errors": {"lookback": ["must be at least 1"]}}`). A patch of
`settings` is merged over the stored ones; a patch of `type` validates them against the
new type. `timeframe` is a ccxt timeframe, or null: the candles of the feed it runs on
(a `sim` replay's own timeframe; `1h` for live feeds).

A strategy a running trader uses can not be removed, and its settings marked
`canBeEdited: false` can not change while it runs (`services.traders` adds those hooks).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, validate

from cryptorobot import App
from cryptorobot.adapters import Index
from cryptorobot.errors import BadRequest, NotFound
from cryptorobot.hooks import HookContext
from cryptorobot.schemas import QuerySchema, Schema, fields
from cryptorobot.storage import persisted
from engine.candles import timeframe as parse_timeframe
from engine.errors import InvalidSettings, InvalidTimeframe
from engine.strategies import catalogue, strategy_type, validate_settings
from hooks import authenticate, restrict_to_owner
from services.users import EQUALITY, RecordId

__all__ = ["STRATEGIES_PATH", "TYPES_PATH", "invalid_settings", "register"]

STRATEGIES_PATH = "strategies"
TYPES_PATH = "strategies/types"


def invalid_settings(failure: InvalidSettings, prefix: str = "") -> BadRequest:
    """The 400 a client sees for refused settings: `data.code` `INVALID_SETTINGS` and one
    message per field in `errors` (keys prefixed by `prefix`, e.g. `settings.`)."""
    errors = {("" if key == "type" else prefix) + key: [message] for key, message in failure.errors.items()}
    return BadRequest(failure.message, {"code": "INVALID_SETTINGS", "errors": errors})


def _timeframe(value: str | None) -> None:
    if value is not None:
        try:
            parse_timeframe(value)
        except InvalidTimeframe as failure:
            raise ValidationError(failure.message) from None


class StrategyCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    type = fields.String(required=True, validate=validate.Length(min=1, max=64),
                         metadata={"description": "A type of `strategies/types` (`momentum`, `sma_cross`, `rsi`, ...)."})
    pair = fields.String(required=True, validate=validate.Length(min=1, max=100),
                         metadata={"description": "The unified symbol traders of this strategy default to (`BTC/USDT`)."})
    timeframe = fields.String(load_default=None, allow_none=True, validate=_timeframe,
                              metadata={"description": "Candles the strategy decides on (ccxt timeframe); null: the "
                                                       "feed's own (a replay's timeframe, else 1h)."})
    settings = fields.Dict(keys=fields.String(), load_default=dict,
                           metadata={"description": "Setting key -> value; missing ones take the type's default."})
    description = fields.String(load_default="", validate=validate.Length(max=2000))


class StrategyPatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    type = fields.String(validate=validate.Length(min=1, max=64))
    pair = fields.String(validate=validate.Length(min=1, max=100))
    timeframe = fields.String(allow_none=True, validate=_timeframe)
    settings = fields.Dict(keys=fields.String(), metadata={"description": "Merged over the stored settings."})
    description = fields.String(validate=validate.Length(max=2000))


class StrategyQuerySchema(QuerySchema):
    _id = RecordId(metadata={"operators": EQUALITY})
    userId = RecordId(metadata={"operators": EQUALITY, "description": "Always the caller's own."})
    name = fields.String()
    type = fields.String(metadata={"operators": EQUALITY})
    pair = fields.String(metadata={"operators": EQUALITY})
    timeframe = fields.String(metadata={"operators": EQUALITY})
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()


class StrategyResultSchema(Schema):
    _id = RecordId()
    userId = RecordId()
    name = fields.String()
    type = fields.String()
    pair = fields.String()
    timeframe = fields.String(allow_none=True)
    settings = fields.Dict()
    description = fields.String()
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()


class TypeQuerySchema(QuerySchema):
    type = fields.String(metadata={"operators": EQUALITY})


class TypeResultSchema(Schema):
    type = fields.String()
    name = fields.String()
    description = fields.String()
    settings = fields.List(fields.Dict(), metadata={"description": "HaasOnline's script settings: `{key, group, name, "
                                                                   "description, type, value, canBeEdited, options, "
                                                                   "min, max, step}`."})


class StrategyTypes:
    """`strategies/types`: the registered types (`engine.strategies.catalogue()`)."""

    async def find(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        wanted = (params.get("query") or {}).get("type")
        entries = catalogue()
        if isinstance(wanted, str):
            return [entry for entry in entries if entry["type"] == wanted]
        if isinstance(wanted, dict):
            keep, drop = wanted.get("$in"), wanted.get("$nin") or []
            drop = [*drop, wanted["$ne"]] if "$ne" in wanted else drop
            return [entry for entry in entries if (keep is None or entry["type"] in keep) and entry["type"] not in drop]
        return entries

    async def get(self, id: Any, params: dict[str, Any]) -> dict[str, Any]:
        try:
            return strategy_type(str(id)).to_wire()
        except InvalidSettings:
            raise NotFound(f"No strategy type '{id}'") from None


async def validated_settings(context: HookContext) -> None:
    """Before `create`/`patch`: `settings` completed and checked against the type's schema
    (a patch merges given settings over the stored ones)."""
    data: dict[str, Any] = context.data
    current: Mapping[str, Any] = {}
    if context.method == "patch":
        if "settings" not in data and "type" not in data:
            return
        current = await context.service.raw.get(context.id, _scoped(context))
    kind = str(data.get("type", current.get("type")))
    given = dict(current.get("settings") or {}) if "type" not in data else {}
    given.update(data.get("settings") or {})
    try:
        data["settings"] = validate_settings(kind, given)
    except InvalidSettings as failure:
        raise invalid_settings(failure, "settings.") from None


def _scoped(context: HookContext) -> dict[str, Any]:
    """Params that read the record as the caller may (their own only)."""
    scope = (context.params.get("query") or {}).get("userId")
    return {"query": {} if scope is None else {"userId": scope}}


def register(app: App) -> None:
    """`strategies` and `strategies/types`."""
    pages = app.get("paginate") or {"default": 25, "max": 100}
    store = persisted(app, id="_id", paginate=pages, indexes=[Index(("userId", "type"))])
    app.use(STRATEGIES_PATH, store, {
        "methods": ["find", "get", "create", "patch", "remove"],
        "schemas": {"create": StrategyCreateSchema, "patch": StrategyPatchSchema, "query": StrategyQuerySchema,
                    "result": StrategyResultSchema},
        "docs": {"description": "Your strategies: a type of `strategies/types` with settings validated against its "
                                "schema (defaults filled in), a pair and a timeframe. Refused settings are a 400 with "
                                "`data.code` `INVALID_SETTINGS` and a message per field.",
                 "codes": ["INVALID_SETTINGS", "TRADER_RUNNING"]},
    })
    signed_in, owner_only = authenticate("jwt", "api-key"), restrict_to_owner("userId")
    app.service(STRATEGIES_PATH).hooks({
        "around": {"all": [signed_in]},
        "before": {"find": [owner_only], "get": [owner_only], "remove": [owner_only],
                   "create": [owner_only, validated_settings], "patch": [owner_only, validated_settings]},
    })
    app.use(TYPES_PATH, StrategyTypes(), {
        "methods": ["find", "get"],
        "schemas": {"query": TypeQuerySchema, "result": TypeResultSchema},
        "docs": {"description": "The strategy types users choose from, each with its settings schema (HaasOnline's "
                                "script catalogue shape). Public.", "security": []},
    })

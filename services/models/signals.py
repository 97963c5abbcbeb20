"""`models/signals` and `models/subscriptions`: what the models call, and who hears it.

A user subscribes to a model's pair with the least confidence they care about::

    POST /models/subscriptions {"modelId": "...", "pair": "BTC/USD", "minConfidence": 0.6}

(owner-only records; the model must exist and cover the pair, else 400; the same model and
pair twice is a 409; `patch` changes `minConfidence`, `remove` ends it.)

Each closed candle of a covered pair is scored (`scorer.py`) and recorded::

    {"_id": ..., "modelId": ..., "model": "btc-direction", "exchange": "sim", "pair": "BTC/USD",
     "timeframe": "1M", "type": "buy", "confidence": 0.64, "probability": 0.64, "price": 93381.0,
     "timestamp": 1735603200000, "createdAt": ...}

(`timestamp`: the scored candle's open, market time; `probability`: of a rise; `confidence`
of the call, 0.5..1.) `models/signals created` goes only to the sockets of users subscribed to
that model and pair with `minConfidence` at or below the signal's confidence, and each of them
gets a `signal` message (`messages`, if they keep that kind on). Any signed-in user may read
the recorded signals with `find` and `get`.
"""

from __future__ import annotations

from typing import Any

from marshmallow import validate

from cryptorobot import App, Channel
from cryptorobot.adapters import AdapterService, Index
from cryptorobot.errors import BadRequest, NotFound
from cryptorobot.hooks import HookContext
from cryptorobot.schemas import VALIDATION_FAILED, QuerySchema, Schema, fields, set_timestamps
from cryptorobot.storage import persisted
from hooks import authenticate, restrict_to_owner
from services.messages import notify
from services.users import EQUALITY, RecordId

from .catalogue import MODELS_PATH

__all__ = ["SIGNALS_PATH", "SUBSCRIPTIONS_PATH", "Subscribers", "record_signal", "use_signal_services"]

SIGNALS_PATH = "models/signals"
SUBSCRIPTIONS_PATH = "models/subscriptions"
AUDIENCE = "signalAudience"
"""params key: the user ids a signal goes to."""

_CONFIDENCE = validate.Range(0.0, 1.0)


class SubscriptionCreateSchema(Schema):
    modelId = RecordId(required=True)
    pair = fields.String(required=True, validate=validate.Length(min=1, max=100))
    minConfidence = fields.Float(validate=_CONFIDENCE, load_default=0.5,
                                 metadata={"description": "Signals below this confidence (0..1) are not sent."})


class SubscriptionPatchSchema(Schema):
    minConfidence = fields.Float(validate=_CONFIDENCE, required=True)


class SubscriptionQuerySchema(QuerySchema):
    _id = RecordId(metadata={"operators": EQUALITY})
    userId = RecordId(metadata={"operators": EQUALITY, "description": "Always the caller's own."})
    modelId = RecordId(metadata={"operators": EQUALITY})
    pair = fields.String(metadata={"operators": EQUALITY})
    minConfidence = fields.Float()
    createdAt = fields.DateTime()


class SubscriptionResultSchema(Schema):
    _id = RecordId()
    userId = RecordId()
    modelId = RecordId()
    pair = fields.String()
    minConfidence = fields.Float()
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()


class SignalQuerySchema(QuerySchema):
    _id = RecordId(metadata={"operators": EQUALITY})
    modelId = RecordId(metadata={"operators": EQUALITY})
    exchange = fields.String(metadata={"operators": EQUALITY})
    pair = fields.String(metadata={"operators": EQUALITY})
    type = fields.String(validate=validate.OneOf(("buy", "sell")), metadata={"operators": EQUALITY})
    confidence = fields.Float()
    timestamp = fields.Integer()
    createdAt = fields.DateTime()


class SignalResultSchema(Schema):
    _id = RecordId()
    modelId = RecordId()
    model = fields.String(metadata={"description": "The model's name."})
    exchange = fields.String()
    pair = fields.String()
    timeframe = fields.String()
    type = fields.String(metadata={"description": "`buy` or `sell`."})
    confidence = fields.Float(metadata={"description": "Of the call, 0.5..1."})
    probability = fields.Float(metadata={"description": "Of a rise at the next close, 0..1."})
    price = fields.Float(metadata={"description": "The scored candle's close."})
    timestamp = fields.Integer(metadata={"description": "The scored candle's open, UTC ms (market time)."})
    createdAt = fields.DateTime()


class Subscribers:
    """Who subscribed to what, read from the subscriptions' adapter (server side, no hooks)."""

    def __init__(self, store: AdapterService) -> None:
        self.store = store

    async def of(self, model_id: Any, pair: str, confidence: float) -> list[Any]:
        """The ids of the users subscribed to `model_id`'s `pair` at or below `confidence`."""
        found = await self.store.find({"query": {"modelId": model_id, "pair": pair,
                                                 "minConfidence": {"$lte": confidence}}, "paginate": False})
        assert isinstance(found, list)
        return list(dict.fromkeys(entry["userId"] for entry in found))


async def record_signal(app: App, subscribers: Subscribers, signal: dict[str, Any]) -> dict[str, Any]:
    """Store `signal`, send `models/signals created` to its subscribers and notify them."""
    audience = await subscribers.of(signal["modelId"], signal["pair"], signal["confidence"])
    created = await app.service(SIGNALS_PATH).create(signal, {AUDIENCE: audience})
    title = f"{signal['pair']}: {signal['type']} ({signal['confidence']:.2f})"
    body = (f"Model {signal['model']} calls {signal['type']} on {signal['exchange']} {signal['pair']} "
            f"at {signal['price']:g} with confidence {signal['confidence']:.2f}.")
    data = {"signalId": created["_id"], "modelId": signal["modelId"], "pair": signal["pair"], "type": signal["type"],
            "confidence": signal["confidence"], "price": signal["price"]}
    for user_id in audience:
        await notify(app, user_id, "signal", title, body, data)
    return created


def use_signal_services(app: App) -> Subscribers:
    """Register `models/signals` and `models/subscriptions`; who subscribed."""
    paginate = app.get("paginate") or {"default": 25, "max": 100}
    signed_in, owner_only = authenticate("jwt", "api-key"), restrict_to_owner("userId")

    app.use(SIGNALS_PATH, persisted(app, id="_id", paginate=paginate,
                                    indexes=[Index(("modelId", "pair", "timestamp"))]), {
        "methods": ["find", "get"],
        "schemas": {"query": SignalQuerySchema, "result": SignalResultSchema},
        "docs": {"description": "What the signal models called on each closed candle of their pairs. "
                                "`models/signals created` reaches only the subscribers (`models/subscriptions`) "
                                "whose `minConfidence` the signal meets.", "codes": []},
    })
    signals = app.service(SIGNALS_PATH)
    signals.hooks({"around": {"all": [signed_in]}, "before": {"create": [set_timestamps()]}})

    def audience(signal: dict[str, Any], context: HookContext) -> Channel | None:
        users = context.params.get(AUDIENCE) or []
        return app.channel([f"users/{user}" for user in users]) if users else None

    signals.publish(audience)

    store = persisted(app, id="_id", paginate=paginate, indexes=[Index(("userId", "modelId", "pair"), unique=True),
                                                                  Index(("modelId", "pair"))])
    app.use(SUBSCRIPTIONS_PATH, store, {
        "methods": ["find", "get", "create", "patch", "remove"],
        "schemas": {"create": SubscriptionCreateSchema, "patch": SubscriptionPatchSchema,
                    "query": SubscriptionQuerySchema, "result": SubscriptionResultSchema},
        "docs": {"description": "The caller's subscriptions to signal models: a model, one of its pairs and the "
                                "least confidence to be told about. The same model and pair twice is a 409.",
                 "codes": []},
    })

    async def covered_pair(context: HookContext) -> None:
        data = context.data
        try:
            model = await app.service(MODELS_PATH).get(data["modelId"])
        except NotFound:
            raise BadRequest(VALIDATION_FAILED, errors={"modelId": ["No such model."]}) from None
        wanted = data["pair"].strip().upper().replace("-", "/")
        if wanted not in model["pairs"]:
            raise BadRequest(VALIDATION_FAILED, errors={"pair": [
                f"Model {model['name']} covers {', '.join(model['pairs'])}."]})
        data["pair"], data["modelId"] = wanted, model["_id"]  # the id as stored (memory ids are numbers)

    app.service(SUBSCRIPTIONS_PATH).hooks({
        "around": {"all": [signed_in]},
        "before": {"find": [owner_only], "get": [owner_only], "create": [owner_only, covered_pair],
                   "patch": [owner_only], "remove": [owner_only]},
    })
    return Subscribers(store)

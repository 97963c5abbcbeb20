"""`models`: the catalogue of signal models, and their training.

Every signed-in user reads the catalogue::

    GET /models
    -> {"total": 1, ..., "data": [{"_id": ..., "name": "btc-direction", "description": "...",
         "exchange": "sim", "pairs": ["BTC/USD"], "timeframe": "1M", "algorithm": "gradient_boosting",
         "features": ["ret_1", "ret_3", ...], "status": "ready", "error": null,
         "validation": {"method": "walk-forward", "folds": 5, "samples": 115, "accuracy": 0.557,
                        "precision": 0.674, "baseline": "majority direction of the training data",
                        "baselineAccuracy": 0.504, "baselinePrecision": 0.554, "upRate": 0.583,
                        "beatsBaseline": true, "perFold": [...]},
         "trainedOn": {"BTC/USD": {"start": ..., "end": ..., "candles": 156}}, "trainedAt": ..., ...}]}

Administrators train one with `create` (`name`, `exchange`, `pairs`, `timeframe`,
`algorithm`, `folds`, `description`): the stored candles of each pair must exist (400
otherwise, naming the pair), the answer comes at once with `status: "training"`, the work
runs in a worker process (`services.workers`), and the record is patched to `ready` (with
its validation) or `failed` (with `error`); `models patched` reaches every signed-in socket.
`remove` drops a model and its file. Operators train from the command line with
`cryptorobot models train` (`commands.py`), which waits for the result.

The model file is `<data_dir>/models/<_id>.model` (`engine.models.SignalModel`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from marshmallow import validate

from cryptorobot import App
from cryptorobot.adapters import Index
from cryptorobot.errors import BadRequest
from cryptorobot.hooks import HookContext
from cryptorobot.schemas import SERVER_FIELDS, VALIDATION_FAILED, QuerySchema, Schema, ValidationError, fields
from cryptorobot.storage import persisted
from engine.candles import Candles, SeriesKey
from engine.errors import EngineError
from engine.models import ALGORITHMS, DEFAULT_FOLDS, FEATURES, SignalModel, train_and_save
from hooks import admins_only, authenticate
from services.market_data import market_data
from services.users import EQUALITY, RecordId
from services.workers import run_in_worker

__all__ = ["MODELS_PATH", "ModelTrainer", "model_file", "use_model_catalogue"]

log = logging.getLogger("cryptorobot.models")

MODELS_PATH = "models"
STATUSES = ("training", "ready", "failed")
_SERVER_SET = (*SERVER_FIELDS, "status", "error", "validation", "trainedOn", "trainedAt", "features")


_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,49}")


def _slug(value: str) -> None:
    """A validator (a function, not `validate.Regexp`: OpenAPI patterns are ECMA regexes)."""
    if not _SLUG.fullmatch(value):
        raise ValidationError("Lower-case letters, digits, - and _, at most 50.")


class ModelCreateSchema(Schema):
    name = fields.String(required=True, validate=_slug, metadata={
        "description": "Lower-case letters, digits, - and _ (not first), at most 50."})
    description = fields.String(validate=validate.Length(max=500), load_default="")
    exchange = fields.String(required=True, validate=validate.Length(min=1, max=50))
    pairs = fields.List(fields.String(validate=validate.Length(min=1, max=100)), required=True,
                        validate=validate.Length(min=1, max=20), metadata={"description": "Unified symbols."})
    timeframe = fields.String(required=True, validate=validate.Length(min=1, max=10))
    algorithm = fields.String(validate=validate.OneOf(ALGORITHMS), load_default="logistic")
    folds = fields.Integer(validate=validate.Range(2, 20), load_default=DEFAULT_FOLDS,
                           metadata={"description": "Walk-forward folds."})


class ModelQuerySchema(QuerySchema):
    _id = RecordId(metadata={"operators": EQUALITY})
    name = fields.String(metadata={"operators": EQUALITY})
    exchange = fields.String(metadata={"operators": EQUALITY})
    timeframe = fields.String(metadata={"operators": EQUALITY})
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={"operators": EQUALITY})
    createdAt = fields.DateTime()


class ModelResultSchema(Schema):
    _id = RecordId()
    name = fields.String()
    description = fields.String()
    exchange = fields.String()
    pairs = fields.List(fields.String())
    timeframe = fields.String()
    algorithm = fields.String()
    folds = fields.Integer()
    features = fields.List(fields.String())
    status = fields.String(metadata={"description": "`training`, `ready` or `failed`."})
    error = fields.String(allow_none=True)
    validation = fields.Dict(allow_none=True, metadata={"description": "Out-of-sample (walk-forward) accuracy and "
                                                                       "precision, and the baseline's."})
    trainedOn = fields.Dict(allow_none=True)
    trainedAt = fields.DateTime(allow_none=True)
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()


def model_file(app: App, model_id: Any) -> Path:
    """Where the model `model_id` is saved: `<data_dir>/models/<id>.model`."""
    return Path(app.get("data_dir") or "./data") / "models" / f"{model_id}.model"


class ModelTrainer:
    """Loads the candles of a model record, trains it off the event loop, patches the record.
    `on_ready(record)` is called with each model that became ready (the scorer attaches it)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.on_ready: Callable[[dict[str, Any]], Awaitable[None]] | None = None

    async def series(self, exchange: str, pairs: list[str], frame: str) -> dict[str, Candles]:
        """The stored candles of each pair; BadRequest naming the pairs without any."""
        store = market_data(self.app).sources.store
        loaded = {pair: await asyncio.to_thread(store.load, SeriesKey(exchange, pair, frame)) for pair in pairs}
        missing = [pair for pair, candles in loaded.items() if not len(candles)]
        if missing:
            raise BadRequest(VALIDATION_FAILED, errors={"pairs": [
                f"No stored {exchange} {pair} {frame} candles (cryptorobot candles import|download)" for pair in missing]})
        return loaded

    async def train(self, record: dict[str, Any]) -> dict[str, Any]:
        """Train the model `record` describes; the patched record (`ready` or `failed`)."""
        service = self.app.service(MODELS_PATH)
        try:
            series = await self.series(record["exchange"], record["pairs"], record["timeframe"])
            model = await run_in_worker(self.app, train_and_save, series, record["algorithm"], record["folds"],
                                        str(model_file(self.app, record["_id"])))
        except (EngineError, BadRequest, ValueError) as refused:
            message = refused.message if isinstance(refused, (EngineError, BadRequest)) else str(refused)
            if isinstance(refused, EngineError) and refused.details.get("errors"):
                message = "; ".join(f"{key}: {why}" for key, why in refused.details["errors"].items())
            return await service.patch(record["_id"], {"status": "failed", "error": message})
        except Exception as failure:
            log.exception("training model %s failed", record["name"])
            return await service.patch(record["_id"], {"status": "failed", "error": f"{type(failure).__name__}"})
        ready = await service.patch(record["_id"], {
            "status": "ready", "error": None, "trainedAt": self.app.clock.now(),
            "validation": model.validation.to_json(), "trainedOn": model.trained_on})
        if self.on_ready is not None:
            await self.on_ready(ready)
        return ready


def load_model(app: App, record: dict[str, Any]) -> SignalModel:
    """The saved model of a `ready` record (blocking: call in a thread)."""
    return SignalModel.load(model_file(app, record["_id"]))


def use_model_catalogue(app: App, trainer: ModelTrainer) -> None:
    """Register `models`."""
    paginate = app.get("paginate") or {"default": 25, "max": 100}
    app.use(MODELS_PATH, persisted(app, id="_id", paginate=paginate, indexes=[Index(("name",), unique=True)]), {
        "methods": ["find", "get", "create", "remove"],
        "schemas": {"create": ModelCreateSchema, "server_fields": _SERVER_SET, "query": ModelQuerySchema,
                    "result": ModelResultSchema},
        "docs": {"description": "Signal models: what each covers (exchange, pairs, timeframe), the features it reads "
                                "and its walk-forward validation against a baseline. Administrators train one with "
                                "`create` (answered at once with `status: training`; `models patched` when done) "
                                "and `remove` it.", "codes": ["INVALID_SYMBOL", "INVALID_EXCHANGE", "INVALID_TIMEFRAME"]},
    })

    async def unified_pairs(context: HookContext) -> None:
        data = context.data
        hub = market_data(app)
        data["pairs"] = list(dict.fromkeys([(await hub.key(data["exchange"], pair)).symbol for pair in data["pairs"]]))
        await trainer.series(data["exchange"], data["pairs"], data["timeframe"])  # 400 before anything is stored
        data.update(status="training", error=None, validation=None, trainedOn=None, trainedAt=None,
                    features=list(FEATURES))

    def start_training(context: HookContext) -> None:
        if context.params.get("train", True):
            app.supervisor.spawn(trainer.train(context.result), name=f"training model {context.result['name']}")

    async def drop_file(context: HookContext) -> None:
        await asyncio.to_thread(model_file(app, context.result["_id"]).unlink, missing_ok=True)

    signed_in = authenticate("jwt", "api-key")
    service = app.service(MODELS_PATH)
    service.hooks({
        "around": {"find": [signed_in], "get": [signed_in], "create": [signed_in, admins_only],
                   "remove": [signed_in, admins_only]},
        "before": {"create": [unified_pairs]},
        "after": {"create": [start_training], "remove": [drop_file]},
    })
    service.publish(lambda record, context: app.channel("authenticated"))

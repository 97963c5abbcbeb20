"""Marshmallow schemas of `backtests`, its logs and positions, and `backtests/optimizations`."""

from __future__ import annotations

import math
from typing import Any

from marshmallow import validate, validates_schema

from cryptorobot.schemas import QuerySchema, Schema, ValidationError, fields
from engine.backtest import FILL_MODELS
from engine.metrics import STAT_NAMES
from services.candles.service import Timestamp
from services.users import EQUALITY, SELECT_ONLY, RecordId

__all__ = [
    "BacktestChangeSchema", "BacktestCreateSchema", "BacktestQuerySchema", "BacktestResultSchema", "CancelSchema",
    "LogQuerySchema",
    "LogResultSchema", "OrderQuerySchema", "OrderResultSchema", "PositionQuerySchema", "PositionResultSchema",
    "STATES", "TradeQuerySchema", "TradeResultSchema", "MAX_TRIALS", "OBJECTIVES", "OptimizationChangeSchema",
    "OptimizationCreateSchema", "OptimizationQuerySchema", "OptimizationResultSchema", "RangeSchema",
]

STATES = ("loading_data", "executing", "completed", "failed", "cancelled")
MAX_TRIALS = 2_000
_NAME = validate.Length(min=1, max=100)


def _positive(value: float) -> None:
    if not 0 < value < math.inf:
        raise ValidationError("Must be a positive number.")


class RunSchema(Schema):
    """What a backtest runs on, shared by backtests and optimisations."""

    strategyId = RecordId(metadata={"description": "A strategy of yours (`strategies`): its type and settings. "
                                                   "Or give `type` and `settings`."})
    type = fields.String(validate=_NAME, metadata={"description": "A strategy type (`momentum`, `sma_cross`, `rsi`, "
                                                                  "...; `strategies/types` lists them)."})
    settings = fields.Dict(keys=fields.String(), metadata={"description": "The type's settings (HaasOnline `key`s); "
                                                                          "missing ones take their defaults."})
    exchange = fields.String(required=True, validate=_NAME,
                             metadata={"description": "The candles' exchange (`candles/series` lists them)."})
    symbol = fields.String(required=True, validate=_NAME, metadata={"description": "A unified symbol, `BTC/USDT`."})
    timeframe = fields.String(required=True, validate=validate.Length(min=1, max=10),
                              metadata={"description": "A ccxt timeframe: stored, or resampled from a finer stored one."})
    start = Timestamp(required=True, metadata={"description": "First candle open included: epoch ms or ISO 8601."})
    end = Timestamp(required=True, metadata={"description": "Candle opens before this are included: epoch ms or ISO 8601."})
    initialCash = fields.Float(load_default=10_000.0, allow_nan=False, validate=_positive,
                               metadata={"description": "Starting cash in the quote currency (default 10000)."})
    fees = fields.Float(load_default=0.001, allow_nan=False, validate=validate.Range(min=0, max=0.1, max_inclusive=False),
                        metadata={"description": "Fee rate of every fill, a fraction (0.001 = 0.1%, the default)."})
    fillModel = fields.String(load_default="next_point", validate=validate.OneOf(FILL_MODELS),
                              metadata={"description": "`next_point` (the next bar's open, as paper trading) or "
                                                       "`close` (the deciding bar's close, backtesting.py's "
                                                       "trade_on_close)."})
    fractional = fields.Boolean(load_default=False, metadata={"description": "Fractional amounts (1e-8) instead of "
                                                                             "whole units."})
    finalizeTrades = fields.Boolean(load_default=False, metadata={"description": "Sell what is held at the end "
                                                                                 "(backtesting.py's finalize_trades)."})

    @validates_schema
    def _one_strategy(self, data: dict[str, Any], **_: Any) -> None:
        if ("strategyId" in data) == ("type" in data):
            raise ValidationError("Give either strategyId or type (with settings).", "type")
        if "strategyId" in data and "settings" in data:
            raise ValidationError("Settings come from the strategy: give type and settings instead.", "settings")
        if isinstance(data.get("start"), int) and isinstance(data.get("end"), int) and data["end"] <= data["start"]:
            raise ValidationError("Must be after start.", "end")


class BacktestCreateSchema(RunSchema):
    pass


class BacktestChangeSchema(Schema):
    """What server code patches as a run goes on (`patch` is not exposed to clients)."""

    state = fields.String(validate=validate.OneOf(STATES))
    progress = fields.Float(validate=validate.Range(min=0, max=100))
    message = fields.String(allow_none=True)
    results = fields.Dict(allow_none=True)
    startedAt = fields.Raw()
    finishedAt = fields.Raw()


class BacktestQuerySchema(QuerySchema):
    _id = RecordId(metadata={"operators": EQUALITY})
    userId = RecordId(metadata={"operators": EQUALITY})
    state = fields.String(metadata={"operators": EQUALITY})
    type = fields.String(metadata={"operators": EQUALITY})
    strategyId = RecordId(metadata={"operators": EQUALITY})
    exchange = fields.String(metadata={"operators": EQUALITY})
    symbol = fields.String(metadata={"operators": EQUALITY})
    timeframe = fields.String(metadata={"operators": EQUALITY})
    start = fields.Integer()
    end = fields.Integer()
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()
    finishedAt = fields.DateTime()
    progress = fields.Float(metadata=SELECT_ONLY)
    message = fields.String(metadata=SELECT_ONLY)
    settings = fields.Dict(metadata=SELECT_ONLY)
    initialCash = fields.Float(metadata=SELECT_ONLY)
    fees = fields.Float(metadata=SELECT_ONLY)
    fillModel = fields.String(metadata=SELECT_ONLY)
    fractional = fields.Boolean(metadata=SELECT_ONLY)
    finalizeTrades = fields.Boolean(metadata=SELECT_ONLY)
    bars = fields.Integer(metadata=SELECT_ONLY)
    results = fields.Dict(metadata=SELECT_ONLY)
    startedAt = fields.DateTime(metadata=SELECT_ONLY)


class BacktestResultSchema(Schema):
    _id = RecordId()
    userId = RecordId()
    state = fields.String(metadata={"description": "`loading_data`, `executing`, `completed`, `failed` or `cancelled`."})
    progress = fields.Float(metadata={"description": "Percent of the bars played, 0-100."})
    message = fields.String(allow_none=True, metadata={"description": "Why a run failed or was cancelled."})
    strategyId = RecordId(allow_none=True)
    type = fields.String()
    settings = fields.Dict(metadata={"description": "The complete settings run (defaults filled in)."})
    exchange = fields.String()
    symbol = fields.String()
    timeframe = fields.String()
    start = fields.Integer()
    end = fields.Integer()
    initialCash = fields.Float()
    fees = fields.Float()
    fillModel = fields.String()
    fractional = fields.Boolean()
    finalizeTrades = fields.Boolean()
    bars = fields.Integer(metadata={"description": "Candles in the range."})
    results = fields.Dict(allow_none=True, metadata={
        "description": "When completed: `statistics` (backtesting.py's full set, null for NaN), `summary`, "
                       "`performance`, `orders`, `positions` (HaasOnline's shapes), `equity` (`{timestamp, equity}`), "
                       "`options`, `settings`, `warmupBars`. The log, positions, trades and orders are read page by "
                       "page at `backtests/{id}/logs`, `.../positions`, `.../trades`, `.../orders`."})
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()
    startedAt = fields.DateTime(allow_none=True)
    finishedAt = fields.DateTime(allow_none=True)


class CancelSchema(Schema):
    id = RecordId(required=True, metadata={"description": "The `_id` to cancel."})


class LogQuerySchema(QuerySchema):
    lineNumber = fields.Integer()
    timestamp = fields.Integer()
    severity = fields.String(metadata={"operators": EQUALITY})


class LogResultSchema(Schema):
    """HaasOnline's log entry."""

    lineNumber = fields.Integer(metadata={"description": "From 0, in time order."})
    timestamp = fields.Integer(metadata={"description": "Market time, epoch ms."})
    severity = fields.String(metadata={"description": "What the strategy logged (`info`, `warning`, `error`), or "
                                                      "`trade` (an order placed, filled or cancelled)."})
    message = fields.String()


class PositionQuerySchema(QuerySchema):
    seq = fields.Integer()
    status = fields.String(metadata={"operators": EQUALITY})
    entryTime = fields.Integer()
    realizedProfit = fields.Float()


class PositionResultSchema(Schema):
    seq = fields.Integer()
    status = fields.String(metadata={"description": "`closed` or `open` (valued at the last close)."})
    entryTime = fields.Integer()
    entryBar = fields.Integer()
    entryPrice = fields.Float()
    exitTime = fields.Integer(allow_none=True)
    exitBar = fields.Integer(allow_none=True)
    exitPrice = fields.Float(allow_none=True)
    amount = fields.Float()
    fees = fields.Float()
    realizedProfit = fields.Float()
    unrealizedProfit = fields.Float()
    roi = fields.Float(allow_none=True, metadata={"description": "Percent."})


class TradeQuerySchema(QuerySchema):
    seq = fields.Integer()
    timestamp = fields.Integer()
    side = fields.String(metadata={"operators": EQUALITY})


class TradeResultSchema(Schema):
    """ccxt's trade structure (a fill)."""

    order = fields.String()
    timestamp = fields.Integer()
    bar = fields.Integer(metadata={"description": "Index of the candle it filled in."})
    side = fields.String()
    takerOrMaker = fields.String()
    price = fields.Float()
    amount = fields.Float()
    cost = fields.Float()
    fee = fields.Dict(metadata={"description": "`{cost, currency}`."})


class OrderQuerySchema(QuerySchema):
    seq = fields.Integer()
    timestamp = fields.Integer()
    status = fields.String(metadata={"operators": EQUALITY})
    side = fields.String(metadata={"operators": EQUALITY})


class OrderResultSchema(Schema):
    """ccxt's order structure, with the strategy's `tag` and why it was cancelled (`reason`)."""

    id = fields.String()
    tag = fields.String(allow_none=True)
    timestamp = fields.Integer()
    side = fields.String()
    type = fields.String()
    status = fields.String()
    amount = fields.Float(allow_none=True)
    price = fields.Float(allow_none=True)
    triggerPrice = fields.Float(allow_none=True)
    budget = fields.Float(allow_none=True, metadata={"description": "Quote to spend, for orders sized in quote."})
    filled = fields.Float(allow_none=True)
    cost = fields.Float(allow_none=True)
    fee = fields.Float(allow_none=True)
    closedTimestamp = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)


class RangeSchema(Schema):
    low = fields.Float(required=True, allow_nan=False)
    high = fields.Float(required=True, allow_nan=False)
    step = fields.Float(allow_nan=False, metadata={"description": "Search on a grid of this step from `low`."})


OBJECTIVES = tuple(name for name in STAT_NAMES if name not in ("Start", "End"))


class OptimizationCreateSchema(RunSchema):
    ranges = fields.Dict(keys=fields.String(), values=fields.Nested(RangeSchema), required=True,
                         metadata={"description": "The number settings to search: `{key: {low, high, step?}}`, inside "
                                                  "each setting's min and max. Other settings stay as `settings` give "
                                                  "them (or their defaults)."})
    objective = fields.String(load_default="Sharpe Ratio", validate=validate.OneOf(OBJECTIVES),
                              metadata={"description": "The backtesting.py statistic to optimise (default Sharpe Ratio)."})
    direction = fields.String(load_default="maximize", validate=validate.OneOf(("maximize", "minimize")))
    nTrials = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_TRIALS),
                             metadata={"description": f"Backtests to run (1-{MAX_TRIALS}, default 50)."})
    parallel = fields.Integer(validate=validate.Range(min=1, max=64),
                              metadata={"description": "Trials running at once (default: the pool's workers)."})
    seed = fields.Integer(allow_none=True, metadata={"description": "Seed of the sampler (Optuna's TPE), for a "
                                                                    "repeatable search."})


class OptimizationQuerySchema(QuerySchema):
    _id = RecordId(metadata={"operators": EQUALITY})
    userId = RecordId(metadata={"operators": EQUALITY})
    state = fields.String(metadata={"operators": EQUALITY})
    type = fields.String(metadata={"operators": EQUALITY})
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()
    trials = fields.List(fields.Dict(), metadata=SELECT_ONLY)
    best = fields.Dict(metadata=SELECT_ONLY)


class OptimizationChangeSchema(BacktestChangeSchema):
    trialsDone = fields.Integer()
    best = fields.Dict(allow_none=True)
    trials = fields.List(fields.Dict())


class OptimizationResultSchema(BacktestResultSchema):
    class Meta:
        exclude = ("results",)

    ranges = fields.Dict()
    objective = fields.String()
    direction = fields.String()
    nTrials = fields.Integer()
    parallel = fields.Integer()
    seed = fields.Integer(allow_none=True)
    trialsDone = fields.Integer(metadata={"description": "Trials finished (complete or failed)."})
    best = fields.Dict(allow_none=True, metadata={"description": "`{number, value, settings, statistics}` of the best "
                                                                "complete trial so far."})
    trials = fields.List(fields.Dict(), metadata={"description": "Every finished trial: `{number, state, value, "
                                                                 "settings, statistics, message}`, once the search ends."})

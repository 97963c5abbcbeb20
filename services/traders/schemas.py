"""Schemas of `traders`, `traders/pods/events`, `trades` and the per-trader orders, positions and logs."""

from __future__ import annotations

from marshmallow import validate

from cryptorobot.schemas import QuerySchema, Schema, fields
from services.users import EQUALITY, RecordId

__all__ = ["EVENT_TYPES", "STATUSES", "EventQuerySchema", "EventResultSchema", "LogQuerySchema", "LogResultSchema",
           "OrderQuerySchema", "OrderResultSchema", "PositionQuerySchema", "PositionResultSchema",
           "TradeQuerySchema", "TradeResultSchema", "TraderCallSchema", "TraderCloneSchema", "TraderCreateSchema",
           "TraderPatchSchema", "TraderQuerySchema", "TraderResultSchema"]

STATUSES = ("stopped", "starting", "running", "stopping", "error")
EVENT_TYPES = ("started", "stopped", "order_placed", "order_filled", "order_cancelled", "trade_executed", "error", "log")
ORDERED = ("$ne", "$in", "$nin", "$lt", "$lte", "$gt", "$gte")


class TraderCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    strategyId = RecordId(required=True, metadata={"description": "One of your strategies."})
    exchangeId = RecordId(required=True, metadata={"description": "One of your exchange accounts (paper or live)."})
    symbol = fields.String(validate=validate.Length(min=1, max=100),
                           metadata={"description": "A market of the account's exchange; default: the strategy's pair."})
    settings = fields.Dict(keys=fields.String(), load_default=dict,
                           metadata={"description": "Overrides of the strategy's settings for this trader."})


class TraderPatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    settings = fields.Dict(keys=fields.String(), metadata={"description": "Overrides, merged over the stored ones; "
                                                                          "`canBeEdited: false` ones are locked while "
                                                                          "the trader runs."})
    symbol = fields.String(validate=validate.Length(min=1, max=100),
                           metadata={"description": "Only while stopped."})


class TraderCallSchema(Schema):
    id = RecordId(required=True, metadata={"description": "The trader."})


class TraderCloneSchema(Schema):
    id = RecordId(required=True, metadata={"description": "The trader to clone (the master)."})
    name = fields.String(validate=validate.Length(min=1, max=100))
    followUpdates = fields.Boolean(load_default=False, metadata={
        "description": "The clone receives every settings change of its master and can not be edited itself."})
    userId = RecordId(metadata={"description": "Admins only: the user the clone is for."})
    exchangeId = RecordId(metadata={"description": "The clone's account (required for another user)."})


class TraderQuerySchema(QuerySchema):
    _id = RecordId(metadata={"operators": EQUALITY})
    userId = RecordId(metadata={"operators": EQUALITY, "description": "Always the caller's own."})
    name = fields.String()
    strategyId = RecordId(metadata={"operators": EQUALITY})
    exchangeId = RecordId(metadata={"operators": EQUALITY})
    symbol = fields.String(metadata={"operators": EQUALITY})
    status = fields.String(metadata={"operators": EQUALITY})
    profit = fields.Float()
    roi = fields.Float()
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()


class TraderResultSchema(Schema):
    _id = RecordId()
    userId = RecordId()
    name = fields.String()
    strategyId = RecordId()
    exchangeId = RecordId()
    exchange = fields.String(metadata={"description": "The account's exchange id (`sim`, `binance`, ...)."})
    symbol = fields.String()
    settings = fields.Dict(metadata={"description": "This trader's overrides of its strategy's settings."})
    status = fields.String(validate=validate.OneOf(STATUSES))
    error = fields.String(allow_none=True, metadata={"description": "Why the trader is in `error`."})
    podId = fields.String(allow_none=True)
    profit = fields.Float(metadata={"description": "Realized plus unrealized P&L, quote currency, fees included."})
    roi = fields.Float(metadata={"description": "`profit` in % of the quote funds free when it first started."})
    startingBalance = fields.Float(allow_none=True)
    firstStartedAt = fields.Integer(allow_none=True, metadata={"description": "When it first started, ms."})
    starts = fields.Integer()
    cloned = fields.Boolean()
    followers = fields.List(RecordId())
    masterBotId = RecordId(allow_none=True)
    followUpdates = fields.Boolean(metadata={"description": "A clone that follows its master's settings."})
    startedAt = fields.DateTime(allow_none=True)
    stoppedAt = fields.DateTime(allow_none=True)
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()


class EventQuerySchema(QuerySchema):
    _id = RecordId(metadata={"operators": EQUALITY})
    userId = RecordId(metadata={"operators": EQUALITY})
    traderId = RecordId(metadata={"operators": EQUALITY})
    podId = fields.String(metadata={"operators": EQUALITY})
    type = fields.String(metadata={"operators": EQUALITY})
    createdAt = fields.DateTime()


class EventResultSchema(Schema):
    _id = RecordId()
    userId = RecordId()
    traderId = RecordId()
    podId = fields.String()
    type = fields.String(validate=validate.OneOf(EVENT_TYPES))
    message = fields.String()
    data = fields.Dict()
    createdAt = fields.DateTime()


class TradeQuerySchema(QuerySchema):
    _id = fields.String(metadata={"operators": EQUALITY})
    userId = RecordId(metadata={"operators": EQUALITY})
    traderId = RecordId(metadata={"operators": EQUALITY})
    exchangeId = RecordId(metadata={"operators": EQUALITY})
    exchange = fields.String(metadata={"operators": EQUALITY})
    symbol = fields.String(metadata={"operators": EQUALITY})
    side = fields.String(metadata={"operators": EQUALITY})
    amount = fields.Float(metadata={"operators": ORDERED})
    price = fields.Float(metadata={"operators": ORDERED})
    cost = fields.Float(metadata={"operators": ORDERED})
    orderId = fields.String(metadata={"operators": EQUALITY})
    timestamp = fields.Integer(metadata={"operators": ORDERED})
    createdAt = fields.DateTime()


class TradeResultSchema(Schema):
    _id = fields.String()
    userId = RecordId()
    traderId = RecordId()
    exchangeId = RecordId()
    exchange = fields.String()
    symbol = fields.String()
    side = fields.String()
    amount = fields.Float()
    price = fields.Float()
    cost = fields.Float()
    fee = fields.Dict(metadata={"description": "`{cost, currency}`."})
    orderId = fields.String()
    clientOrderId = fields.String(allow_none=True)
    takerOrMaker = fields.String()
    tag = fields.String(allow_none=True)
    timestamp = fields.Integer(metadata={"description": "Market time of the fill, ms."})
    createdAt = fields.DateTime()


class OrderQuerySchema(QuerySchema):
    _id = fields.String(metadata={"operators": EQUALITY})
    traderId = RecordId(metadata={"operators": EQUALITY})
    userId = RecordId(metadata={"operators": EQUALITY})
    id = fields.String(metadata={"operators": EQUALITY})
    clientOrderId = fields.String(metadata={"operators": EQUALITY})
    status = fields.String(metadata={"operators": EQUALITY})
    side = fields.String(metadata={"operators": EQUALITY})
    type = fields.String(metadata={"operators": EQUALITY})
    timestamp = fields.Integer(metadata={"operators": ORDERED})
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()


class OrderResultSchema(Schema):
    _id = fields.String()
    userId = RecordId()
    traderId = RecordId()
    exchangeId = RecordId()
    exchange = fields.String()
    id = fields.String(metadata={"description": "The exchange's order id."})
    clientOrderId = fields.String(allow_none=True)
    symbol = fields.String()
    type = fields.String()
    side = fields.String()
    status = fields.String(metadata={"description": "ccxt's: open, closed (filled), canceled."})
    amount = fields.Float(allow_none=True)
    price = fields.Float(allow_none=True)
    average = fields.Float(allow_none=True)
    filled = fields.Float(allow_none=True)
    cost = fields.Float(allow_none=True)
    triggerPrice = fields.Float(allow_none=True)
    fee = fields.Dict(allow_none=True)
    tag = fields.String(allow_none=True)
    timestamp = fields.Integer(allow_none=True)
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()


class LogQuerySchema(QuerySchema):
    _id = fields.String(metadata={"operators": EQUALITY})
    traderId = RecordId(metadata={"operators": EQUALITY})
    userId = RecordId(metadata={"operators": EQUALITY})
    lineNumber = fields.Integer(metadata={"operators": ORDERED})
    severity = fields.String(metadata={"operators": EQUALITY})
    timestamp = fields.Integer(metadata={"operators": ORDERED})


class LogResultSchema(Schema):
    _id = fields.String()
    traderId = RecordId()
    userId = RecordId()
    lineNumber = fields.Integer()
    timestamp = fields.Integer()
    severity = fields.String()
    message = fields.String()


class PositionQuerySchema(QuerySchema):
    status = fields.String(metadata={"operators": EQUALITY})


class PositionResultSchema(Schema):
    traderId = RecordId()
    symbol = fields.String()
    status = fields.String(metadata={"description": "open or closed"})
    side = fields.String()
    amount = fields.Float(metadata={"description": "Base held (open), or the most held (closed)."})
    entryPrice = fields.Float(metadata={"description": "Average cost per base, fees included."})
    exitPrice = fields.Float(allow_none=True, metadata={"description": "Average sell price (closed)."})
    realizedPnl = fields.Float()
    unrealizedPnl = fields.Float()
    roi = fields.Float(metadata={"description": "P&L in % of the cost of the position."})
    fees = fields.Float()
    openedAt = fields.Integer()
    closedAt = fields.Integer(allow_none=True)
    trades = fields.Integer()


"""`strategies/grid-preview`: the orders a spot grid would place, creating nothing.

`create({settings, exchangeId | exchange, symbol, price?})` answers what a `spot_grid` with
`settings` (defaults filled in, validated as the strategy type validates them) would place on
`symbol` at `price`: `engine.strategies.preview_grid` on the exchange's market (its ccxt
precision, limits and fees), plus where the price came from::

    {"exchange": "sim", "symbol": "BTC/USDT", "price": 60000.0, "priceSource": "ticker",
     "lower": 54000.0, "upper": 66000.0, "levels": [54000.0, ...], "amountPerGrid": 0.00166,
     "orders": [{"side": "buy", "type": "limit", "price": 58800.0, "amount": 0.00166, "grid": 4}, ...],
     "idleGrids": 5, "waiting": null}

The market is that of `exchangeId` (one of the caller's accounts: 404 for anyone else's) or
of the exchange `exchange` (a ccxt id or `sim`); `price` defaults to the market's current
ticker (`last`, through the market-data hub as `exchanges/ticker` gets it). Nothing is
stored and no event is sent (HaasOnline's "bot preview": an estimate, not a promise).
Refused settings are a 400 `INVALID_SETTINGS` with a message per field in `errors`.
"""

from __future__ import annotations

from typing import Any

from marshmallow import validate, validates_schema

from cryptorobot import App
from cryptorobot.hooks import HookContext
from cryptorobot.schemas import Schema, ValidationError, fields
from engine.strategies import preview_grid
from hooks import authenticate
from services.exchanges import accounts_of
from services.market_data import market_data
from services.users import RecordId

__all__ = ["PATH", "GridPreviewSchema", "GridPreviewService", "register"]

PATH = "strategies/grid-preview"


class GridPreviewSchema(Schema):
    settings = fields.Dict(keys=fields.String(validate=validate.Length(max=64)), load_default=dict,
                           validate=validate.Length(max=100),
                           metadata={"description": "`spot_grid` settings (see `strategies/types`); omitted ones take "
                                                    "their defaults."})
    exchangeId = RecordId(metadata={"description": "One of your exchange accounts: its exchange's market."})
    exchange = fields.String(validate=validate.Length(min=1, max=50),
                             metadata={"description": "An exchange id (ccxt's, or `sim`), instead of an account."})
    symbol = fields.String(required=True, validate=validate.Length(min=1, max=100),
                           metadata={"description": "The market, e.g. `BTC/USDT`."})
    price = fields.Float(allow_nan=False, validate=validate.Range(min=0, min_inclusive=False),
                         metadata={"description": "The price to plan at (default: the current ticker's `last`)."})

    @validates_schema
    def _one_market(self, data: dict[str, Any], **_: Any) -> None:
        if ("exchangeId" in data) == ("exchange" in data):
            raise ValidationError("Give exchangeId (one of your accounts) or exchange, not both.", "exchange")


class _OrderSchema(Schema):
    side = fields.String()
    type = fields.String(metadata={"description": "`limit`, or `market` for the buy that fills the sell grids."})
    price = fields.Float(allow_none=True)
    amount = fields.Float(metadata={"description": "Base amount, to the market's amount precision."})
    grid = fields.Integer(allow_none=True, metadata={"description": "The grid (interval) index, from the lowest."})


class GridPreviewResultSchema(Schema):
    exchange = fields.String()
    symbol = fields.String()
    price = fields.Float()
    priceSource = fields.String(metadata={"description": "`given` or `ticker`."})
    lower = fields.Float()
    upper = fields.Float()
    levels = fields.List(fields.Float(), metadata={"description": "The grid's price levels, lowest first."})
    amountPerGrid = fields.Float()
    orders = fields.List(fields.Nested(_OrderSchema))
    idleGrids = fields.Integer(metadata={"description": "Sell grids without base to sell (no tradeToFillGrid)."})
    waiting = fields.String(allow_none=True, metadata={"description": "Why nothing is placed, if so (a price "
                                                                      "outside the range)."})


class GridPreviewService:
    """See the module docstring."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def create(self, data: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        accounts = accounts_of(self.app)
        if "exchangeId" in data:
            user = params.get("user") if params.get("provider") else None
            account = await accounts.account(data["exchangeId"], owner=user["_id"] if user else None)
            exchange = account["exchange"]
            market = await accounts.market(account["_id"], data["symbol"])
        else:
            exchange = data["exchange"]
            market = await accounts.markets.market(exchange, data["symbol"])
        price, source = data.get("price"), "given"
        if price is None:
            hub = market_data(self.app)
            ticker = await hub.first_ticker(await hub.key(exchange, market.symbol))
            price, source = ticker["last"], "ticker"
        preview = preview_grid(data["settings"], price, market)
        return {"exchange": exchange, "priceSource": source, **preview}


def _no_event(context: HookContext) -> None:
    context.event = None  # a preview creates nothing: no `created` event


def register(app: App) -> None:
    """`strategies/grid-preview` (after `exchanges` and `market_data`)."""
    app.use(PATH, GridPreviewService(app), {
        "methods": ["create"],
        "schemas": {"create": GridPreviewSchema, "result": GridPreviewResultSchema},
        "docs": {"description": "The orders a spot grid with these settings would place at a price (default: the "
                                "current ticker), rounded to the market's precision; creates nothing. Settings a "
                                "grid refuses (or a grid too small for the market) are a 400 `INVALID_SETTINGS` with "
                                "`errors` per field.",
                 "security": [{"bearerAuth": []}, {"apiKey": []}],
                 "codes": ["INVALID_SETTINGS", "INVALID_EXCHANGE", "INVALID_SYMBOL", "EXCHANGE_NOT_AVAILABLE"]},
    })
    app.service(PATH).hooks({"around": {"all": [authenticate("jwt", "api-key")]}, "after": {"create": [_no_event]}})

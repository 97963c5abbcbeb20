"""Marshmallow schemas of `exchanges`, `exchanges/catalogue` and `exchanges/markets`."""

from __future__ import annotations

import math

from marshmallow import validate

from cryptorobot.schemas import QuerySchema, Schema, ValidationError, fields
from services.users import EQUALITY, SELECT_ONLY, RecordId

from .clients import is_exchange

__all__ = [
    "AccountCallSchema", "CatalogueQuerySchema", "CatalogueResultSchema", "ExchangeCreateSchema", "ExchangePatchSchema",
    "ExchangeQuerySchema", "ExchangeResultSchema", "MarketQuerySchema", "MarketResultSchema", "NoQuerySchema",
]

MAX_CURRENCIES = 50
_CURRENCY = validate.Regexp(r"^[A-Za-z0-9._-]{1,20}\Z", error="A currency code: up to 20 letters and digits.")
FIXED = {"operators": (), "sortable": False, "selectable": False}


def _known_exchange(value: str) -> None:
    if not is_exchange(value):
        raise ValidationError("Not an exchange: use a ccxt exchange id (see exchanges/catalogue) or sim.")


def _balances(value: dict[str, float]) -> None:
    if len(value) > MAX_CURRENCIES:
        raise ValidationError(f"At most {MAX_CURRENCIES} currencies.")
    for amount in value.values():
        if not (0 < amount < math.inf):
            raise ValidationError("Each amount must be a positive number.")


def _credential(name: str) -> fields.String:
    return fields.String(load_only=True, allow_none=True, validate=validate.Length(min=1, max=4096),
                         metadata={"description": f"ccxt's `{name}`. Write-only: encrypted at rest, never returned."})


class ExchangeCreateSchema(Schema):
    exchange = fields.String(required=True, validate=_known_exchange,
                             metadata={"description": "A ccxt exchange id (`ccxt.exchanges`, see `exchanges/catalogue`) "
                                                      "or `sim`, the built-in simulated exchange."})
    label = fields.String(validate=validate.Length(min=1, max=100),
                          metadata={"description": "Your name for the account (default: the exchange id)."})
    sandbox = fields.Boolean(metadata={"description": "Trade on the exchange's test network (ccxt `set_sandbox_mode`); "
                                                      "refused where it has none. Not with `paper`."})
    paper = fields.Boolean(metadata={"description": "Simulated orders at this exchange's markets and prices, no "
                                                    "credentials. Always true for `sim`. Set at creation only."})
    paperBalances = fields.Dict(keys=fields.String(validate=_CURRENCY), values=fields.Float(allow_nan=False),
                                validate=_balances,
                                metadata={"description": "Starting balances of a paper account, e.g. "
                                                         "`{\"USDT\": 10000}` (default from `exchanges.paper_balances`). "
                                                         "Set at creation only."})
    active = fields.Boolean(metadata={"description": "False keeps the account but stops its use (default true)."})
    # ccxt's credential names (`CREDENTIAL_FIELDS`): which ones an exchange needs is its
    # `requiredCredentials` (see `exchanges/catalogue`).
    apiKey = _credential("apiKey")
    secret = _credential("secret")
    password = _credential("password")
    uid = _credential("uid")
    login = _credential("login")
    twofa = _credential("twofa")
    privateKey = _credential("privateKey")
    walletAddress = _credential("walletAddress")
    token = _credential("token")
    accountId = _credential("accountId")


class ExchangePatchSchema(ExchangeCreateSchema):
    """Loaded with partial=True. A credential set to null is removed."""


class ExchangeQuerySchema(QuerySchema):
    _id = RecordId(metadata={"operators": EQUALITY})
    userId = RecordId(metadata={"operators": EQUALITY})
    exchange = fields.String(metadata={"operators": EQUALITY})
    label = fields.String()
    sandbox = fields.Boolean()
    paper = fields.Boolean()
    active = fields.Boolean()
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()
    paperBalances = fields.Dict(metadata=SELECT_ONLY)
    credentials = fields.List(fields.String(), metadata=SELECT_ONLY)
    apiKeyHint = fields.String(metadata=SELECT_ONLY)
    credentialsUpdatedAt = fields.DateTime(metadata=SELECT_ONLY)


class ExchangeResultSchema(Schema):
    """What clients see of an account: never its credentials, only which are set."""

    _id = RecordId()
    userId = RecordId()
    exchange = fields.String()
    label = fields.String()
    sandbox = fields.Boolean()
    paper = fields.Boolean()
    paperBalances = fields.Dict(keys=fields.String(), values=fields.Float(), allow_none=True)
    active = fields.Boolean()
    credentials = fields.List(fields.String(), metadata={"description": "The names of the credentials set, e.g. "
                                                                        "`[\"apiKey\", \"secret\"]`."})
    apiKeyHint = fields.String(allow_none=True, metadata={"description": "The API key's first 4 characters, to tell "
                                                                         "keys apart (null for short keys)."})
    credentialsUpdatedAt = fields.DateTime(allow_none=True)
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()


class AccountCallSchema(Schema):
    """The data of the `balance` and `check` custom methods."""

    id = RecordId(required=True, metadata={"description": "The exchange account's `_id`."})


class NoQuerySchema(QuerySchema):
    """A path that takes no query."""


class CatalogueQuerySchema(QuerySchema):
    id = fields.String(metadata={"operators": EQUALITY})
    name = fields.String()
    capabilities = fields.String(metadata={
        "operators": EQUALITY, "sortable": False,
        "description": "A capability the exchange has (true or emulated in `has`): `capabilities=watchTicker`; all of "
                       "several: `$and[0][capabilities]=watchTicker&$and[1][capabilities]=fetchOHLCV`."})
    requiredCredentials = fields.String(metadata={"operators": EQUALITY, "sortable": False})
    sandbox = fields.Boolean()
    pro = fields.Boolean()
    certified = fields.Boolean()
    live = fields.Boolean()
    countries = fields.String(metadata={"operators": EQUALITY, "sortable": False})
    has = fields.Dict(metadata=SELECT_ONLY)
    timeframes = fields.List(fields.String(), metadata=SELECT_ONLY)
    url = fields.String(metadata=SELECT_ONLY)
    rateLimit = fields.Float(metadata=SELECT_ONLY)


class CatalogueResultSchema(Schema):
    id = fields.String(metadata={"description": "The exchange id accounts and markets use."})
    name = fields.String()
    countries = fields.List(fields.String())
    url = fields.String(allow_none=True)
    certified = fields.Boolean(metadata={"description": "ccxt-certified integration."})
    pro = fields.Boolean(metadata={"description": "ccxt.pro websockets (`watch*` calls) are available."})
    live = fields.Boolean(metadata={"description": "Real orders are possible (false for `sim`, which is paper only)."})
    has = fields.Dict(metadata={"description": "ccxt's `has`: capability -> true, false, \"emulated\" or null."})
    capabilities = fields.List(fields.String(), metadata={"description": "The capabilities `has` says true or "
                                                                         "emulated, sorted."})
    requiredCredentials = fields.List(fields.String(), metadata={"description": "What a live account needs "
                                                                                "(ccxt's `requiredCredentials`)."})
    sandbox = fields.Boolean(metadata={"description": "A test network exists (`sandbox: true` accounts)."})
    timeframes = fields.List(fields.String(), allow_none=True,
                             metadata={"description": "`fetchOHLCV` timeframes (null for sim: any imported one)."})
    rateLimit = fields.Float(metadata={"description": "ccxt's milliseconds between requests."})


class MarketQuerySchema(QuerySchema):
    exchange = fields.String(metadata={**FIXED, "description": "A ccxt exchange id, or `sim`. Required."})
    symbol = fields.String(metadata={"operators": ("$in", "$nin", "$ne", "$lt", "$lte", "$gt", "$gte"),
                                     "description": "A unified symbol (`BTC/USDT`); the exchange's own id (`BTCUSDT`) "
                                                    "or another spelling is mapped where it names one market, and an "
                                                    "unknown one is a 400 `INVALID_SYMBOL` with `suggestions`."})
    id = fields.String(metadata={"description": "The exchange's own market id (`BTCUSDT`)."})
    base = fields.String()
    quote = fields.String()
    settle = fields.String(allow_none=True)
    type = fields.String(metadata={"description": "`spot` or `swap`."})
    spot = fields.Boolean()
    swap = fields.Boolean()
    active = fields.Boolean()
    maker = fields.Float()
    taker = fields.Float()
    precision = fields.Dict(metadata=SELECT_ONLY)
    limits = fields.Dict(metadata=SELECT_ONLY)
    feeSide = fields.String(metadata=SELECT_ONLY)
    contractSize = fields.Float(metadata=SELECT_ONLY)
    loadedAt = fields.Integer(metadata=SELECT_ONLY)


class MarketResultSchema(Schema):
    """ccxt's market structure (without the exchange's raw `info`)."""

    exchange = fields.String()
    symbol = fields.String()
    id = fields.String()
    base = fields.String()
    quote = fields.String()
    settle = fields.String(allow_none=True)
    baseId = fields.String(allow_none=True)
    quoteId = fields.String(allow_none=True)
    type = fields.String()
    spot = fields.Boolean()
    swap = fields.Boolean()
    contract = fields.Boolean()
    linear = fields.Boolean(allow_none=True)
    inverse = fields.Boolean(allow_none=True)
    contractSize = fields.Float(allow_none=True)
    active = fields.Boolean(allow_none=True)
    precision = fields.Dict(metadata={"description": "`amount` and `price`: a step (tick size) or a number of "
                                                     "decimals, per the exchange's ccxt `precisionMode`."})
    limits = fields.Dict(metadata={"description": "`amount`, `price`, `cost`, `leverage`: `{min, max}`, null when none."})
    maker = fields.Float(allow_none=True, metadata={"description": "Maker fee rate (0.001 is 0.1%)."})
    taker = fields.Float(allow_none=True)
    feeSide = fields.String(allow_none=True)
    loadedAt = fields.Integer(metadata={"description": "When the markets were loaded from the exchange, epoch ms."})

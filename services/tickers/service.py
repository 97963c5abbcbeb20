"""`exchanges/ticker`: the latest ticker per (exchange, symbol), and live updates of it.

Records are ccxt's ticker structure with the market's `exchange`, an `_id` of
`"<exchange>:<symbol>"` and `updatedAt` (wall time of the update; `timestamp` is market
time)::

    {"_id": "sim:BTC/USDT", "exchange": "sim", "symbol": "BTC/USDT", "timestamp": 1704067200000,
     "datetime": "2024-01-01T00:00:00.000Z", "bid": 42283.58, "ask": 42283.58, "last": 42283.58,
     "close": 42283.58, "open": 42100.0, "high": 42554.57, "low": 41980.1, "change": 183.58,
     "percentage": 0.436, "average": 42191.79, "baseVolume": 1271.68, "quoteVolume": null, ...,
     "updatedAt": "2024-05-01T12:00:00.123Z"}

They live in memory (`MemoryService` over the hub's store, whatever `storage` says), for
every signed-in user:

* `find`: the tickers of the feeds running now (filter `exchange`, `symbol` with `$in`,
  `timestamp`, sort, paginate);
* `get("<exchange>:<symbol>")`: that market's ticker, its feed started (and kept for
  `tickers.linger` seconds) if nobody watched it yet; 400 `INVALID_SYMBOL` for a symbol the
  exchange does not list, 503 `EXCHANGE_NOT_AVAILABLE` when no price came in
  `tickers.first_price_timeout` seconds;
* `subscribe` / `unsubscribe` `{exchange, symbols}` (sockets only): add or drop markets for
  this socket, on top of those its user follows (watchlist, running traders; see
  `TickerAudience`). The answer: `{exchange, symbols, tickers}`, the socket's subscriptions
  on that exchange and the latest tickers of the symbols asked for.

`exchanges/ticker patched` goes to the market's room only, coalesced: at most `tickers.rate`
events per symbol per second per socket (2 by default), the latest ticker each time, one
frame per room; this process's sockets only (each process runs its own feeds). These events
are sent by the coalescer itself (`TickerCoalescer`, `EventPublisher.deliver`): no publisher
or in-process `on("patched")` listener sees them; code that wants prices listens to the hub
(`services.market_data`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import validate

from cryptorobot import App, Connection
from cryptorobot.adapters import MemoryService
from cryptorobot.errors import BadRequest
from cryptorobot.schemas import QuerySchema, Schema, fields
from hooks import authenticate
from services.errors import platform_error
from services.market_data import MarketDataHub, MarketKey

from .audience import TickerAudience

__all__ = ["TICKER_PATH", "TickerService", "use_ticker_service"]

TICKER_PATH = "exchanges/ticker"


class SubscribeSchema(Schema):
    exchange = fields.String(required=True, validate=validate.Length(min=1, max=50),
                             metadata={"description": "A ccxt exchange id, or `sim`."})
    symbols = fields.List(fields.String(validate=validate.Length(min=1, max=100)), required=True,
                          validate=validate.Length(min=1, max=1000),
                          metadata={"description": "Symbols of that exchange, e.g. `[\"BTC/USDT\", \"ETH/USDT\"]`."})


def _number(description: str | None = None) -> fields.Float:
    """A price or amount: null when the exchange does not send it."""
    return fields.Float(allow_none=True, metadata={"description": description} if description else {})


class TickerQuerySchema(QuerySchema):
    _id = fields.String(metadata={"operators": ("$in", "$nin", "$ne")})
    exchange = fields.String(metadata={"operators": ("$in", "$nin", "$ne")})
    symbol = fields.String(metadata={"operators": ("$in", "$nin", "$ne")})
    timestamp = fields.Integer()
    last = fields.Float()
    percentage = fields.Float()


class TickerResultSchema(Schema):
    """ccxt's ticker structure (without `info`), with the market's exchange."""

    _id = fields.String(metadata={"description": "`<exchange>:<symbol>`"})
    exchange = fields.String()
    symbol = fields.String()
    timestamp = fields.Integer(allow_none=True, metadata={"description": "Market time of the price, UTC ms."})
    datetime = fields.String(allow_none=True)
    high = _number("Highest price of the last 24 hours.")
    low = _number("Lowest price of the last 24 hours.")
    bid = _number()
    bidVolume = _number()
    ask = _number()
    askVolume = _number()
    vwap = _number()
    open = _number("Price 24 hours ago.")
    close = _number()
    last = _number()
    previousClose = _number()
    change = _number("`last - open`.")
    percentage = _number("`change / open * 100`.")
    average = _number()
    baseVolume = _number()
    quoteVolume = _number()
    markPrice = _number()
    indexPrice = _number()
    updatedAt = fields.DateTime(metadata={"description": "When the server got this price (wall time)."})


class TickerService(MemoryService):
    """See the module documentation."""

    def __init__(self, hub: MarketDataHub, audience: TickerAudience, paginate: dict[str, int]) -> None:
        super().__init__(store=hub.tickers, id="_id", paginate=paginate)
        self.hub = hub
        self.audience = audience

    async def get(self, id: Any, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        try:
            asked = MarketKey.parse(str(id))
        except ValueError:
            raise BadRequest(f"A ticker id is <exchange>:<symbol>, e.g. sim:BTC/USDT, not {id!r}") from None
        key = await self.hub.key(*asked)
        await self.hub.first_ticker(key)
        return await super().get(key.id, params)

    async def _keys(self, data: dict[str, Any]) -> list[MarketKey]:
        return [await self.hub.key(data["exchange"], symbol) for symbol in data["symbols"]]

    @staticmethod
    def _connection(params: dict[str, Any]) -> Connection:
        connection = params.get("connection")
        if not isinstance(connection, Connection):
            raise BadRequest("subscribe and unsubscribe are for socket connections (over REST, add the market to "
                             "exchanges/watchlist)")
        return connection

    def _answer(self, exchange: str, keys: list[MarketKey], subscribed: set[MarketKey]) -> dict[str, Any]:
        tickers = [ticker for ticker in (self.hub.ticker(key) for key in keys) if ticker is not None]
        return {"exchange": exchange,
                "symbols": sorted(key.symbol for key in subscribed if key.exchange == exchange), "tickers": tickers}

    async def subscribe(self, data: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        connection = self._connection(params)
        keys = await self._keys(data)
        try:
            subscribed = self.audience.subscribe(connection, keys)
        except ValueError as refusal:
            raise platform_error("LIMIT_REACHED", str(refusal), limit=self.audience.max_subscriptions) from None
        return self._answer(data["exchange"], keys, subscribed)

    async def unsubscribe(self, data: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        connection = self._connection(params)
        keys = await self._keys(data)
        return self._answer(data["exchange"], [], self.audience.unsubscribe(connection, keys))


def use_ticker_service(app: App, hub: MarketDataHub, audience: TickerAudience) -> None:
    """Register `exchanges/ticker`; its `patched` events go to each market's room."""
    service = TickerService(hub, audience, app.get("paginate") or {"default": 25, "max": 100})
    app.use(TICKER_PATH, service, {
        "methods": ["find", "get", "subscribe", "unsubscribe"],
        "events": ["patched"],
        "schemas": {"query": TickerQuerySchema, "result": TickerResultSchema, "subscribe": SubscribeSchema,
                    "unsubscribe": SubscribeSchema},
        "docs": {"description": "The latest ticker per (exchange, symbol) in ccxt's shape. `get` takes "
                                "`<exchange>:<symbol>` (e.g. `sim:BTC%2FUSDT` in a URL). Sockets receive "
                                "`exchanges/ticker patched` for the markets of their watchlist and running traders, "
                                "and those they `subscribe` to (`{exchange, symbols}`), at most `tickers.rate` per "
                                "symbol per second. An unknown symbol is a 400 with `data.code` `INVALID_SYMBOL`.",
                 "security": [{"bearerAuth": []}, {"apiKey": []}]},
    })
    app.service(TICKER_PATH).hooks({"around": {"all": [authenticate("jwt", "api-key")]}})

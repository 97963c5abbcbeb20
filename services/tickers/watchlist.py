"""`exchanges/watchlist`: the markets a user keeps an eye on; their sockets get those tickers.

One record per market, the caller's own (restrict-to-owner; events to the owner's room)::

    POST /exchanges/watchlist {"exchange": "sim", "symbol": "btc-usdt"}
    -> {"_id": ..., "userId": ..., "exchange": "sim", "symbol": "BTC/USDT", "createdAt": ..., "updatedAt": ...}

The symbol is validated and written in unified form (400 `INVALID_SYMBOL` with near
symbols; 400 for an unknown exchange); the same market twice is a 409; a user keeps at most
`tickers.max_watchlist` entries (400). `remove` drops one. While an entry exists, every
socket of its user is in the market's ticker room (`TickerAudience`).

Why a service and not a field on the user: entries are added and removed one at a time from
any device without overwriting each other (a list field is patched whole, so two tabs lose
each other's changes), each is validated once when it is written, queries and events come
with it, and the users service stays about the account.
"""

from __future__ import annotations

from typing import Any

from marshmallow import validate

from cryptorobot import App
from cryptorobot.adapters import Index
from cryptorobot.hooks import HookContext
from cryptorobot.schemas import QuerySchema, Schema, fields
from cryptorobot.storage import persisted
from hooks import authenticate, restrict_to_owner
from services.errors import platform_error
from services.market_data import MarketDataHub, MarketKey
from services.users import EQUALITY, RecordId

from .audience import WATCHLIST_REASON, TickerAudience, WatchlistLoader

__all__ = ["WATCHLIST_PATH", "use_watchlist_service", "watchlist_loader"]

WATCHLIST_PATH = "exchanges/watchlist"


class WatchlistCreateSchema(Schema):
    exchange = fields.String(required=True, validate=validate.Length(min=1, max=50),
                             metadata={"description": "A ccxt exchange id, or `sim`."})
    symbol = fields.String(required=True, validate=validate.Length(min=1, max=100),
                           metadata={"description": "A symbol of that exchange (`BTC/USDT`; `btc-usdt` is read as it)."})


class WatchlistQuerySchema(QuerySchema):
    _id = RecordId(metadata={"operators": EQUALITY})
    userId = RecordId(metadata={"operators": EQUALITY, "description": "Always the caller's own."})
    exchange = fields.String(metadata={"operators": EQUALITY})
    symbol = fields.String(metadata={"operators": EQUALITY})
    createdAt = fields.DateTime()


class WatchlistResultSchema(Schema):
    _id = RecordId()
    userId = RecordId()
    exchange = fields.String()
    symbol = fields.String()
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()


def _reason(entry: dict[str, Any]) -> str:
    return f"{WATCHLIST_REASON}{entry['_id']}"


def watchlist_loader(app: App) -> WatchlistLoader:
    """Reads a user's watchlist as the audience keeps it: `(reason, key)` pairs."""

    async def load(user: Any) -> list[tuple[str, MarketKey]]:
        entries = await app.service(WATCHLIST_PATH).find({"query": {"userId": user}, "paginate": False})
        return [(_reason(entry), MarketKey(entry["exchange"], entry["symbol"])) for entry in entries]

    return load


def use_watchlist_service(app: App, hub: MarketDataHub, audience: TickerAudience, limit: int) -> None:
    """Register `exchanges/watchlist` and keep the audience in step with its records."""
    adapter = persisted(app, id="_id", paginate=app.get("paginate") or {"default": 25, "max": 100},
                        indexes=[Index(("userId", "exchange", "symbol"), unique=True)])
    app.use(WATCHLIST_PATH, adapter, {
        "methods": ["find", "get", "create", "remove"],
        "schemas": {"create": WatchlistCreateSchema, "query": WatchlistQuerySchema, "result": WatchlistResultSchema},
        "docs": {"description": "The markets a user watches: their sockets receive these `exchanges/ticker patched` "
                                "events without subscribing. Unknown symbols are a 400 with `data.code` "
                                "`INVALID_SYMBOL`; the same market twice a 409."},
    })

    async def unified_symbol(context: HookContext) -> None:
        key = await hub.key(context.data["exchange"], context.data["symbol"])
        context.data["symbol"] = key.symbol

    async def within_limit(context: HookContext) -> None:
        user = context.params.get("user")
        if user is None:
            return
        kept = await adapter.find({"query": {"userId": user["_id"], "$limit": 0}, "paginate": {"default": 0}})
        if isinstance(kept, dict) and kept["total"] >= limit:
            raise platform_error("LIMIT_REACHED", f"A watchlist holds {limit} markets at most", limit=limit)

    signed_in, owner_only = authenticate("jwt", "api-key"), restrict_to_owner("userId")
    app.service(WATCHLIST_PATH).hooks({
        "around": {"all": [signed_in]},
        # Per method, not `all`: `all` hooks run before the schema's validation, which must
        # see the client's data before the owner is stamped on it.
        "before": {"find": [owner_only], "get": [owner_only], "remove": [owner_only],
                   "create": [owner_only, unified_symbol, within_limit]},
    })

    service = app.service(WATCHLIST_PATH)
    service.on("created", lambda entry, context=None: audience.add(
        entry["userId"], MarketKey(entry["exchange"], entry["symbol"]), _reason(entry)))
    service.on("removed", lambda entry, context=None: audience.remove(
        entry["userId"], lambda reason: reason == _reason(entry)))

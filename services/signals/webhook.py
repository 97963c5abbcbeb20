"""`signals/webhook`: trading signals from outside (TradingView alerts, other bots) for `webhook` traders.

A `webhook` trader (strategy type `webhook`) gets a `signalToken` when it is created. A
`POST` with that token reaches every running trader that has it, and each places the
order through its pod (`engine.strategies.types.webhook`)::

    POST /signals/webhook
    {"token": "<signalToken>", "action": "buy", "amount": "0.01", "price": "59000",
     "timestamp": "2024-05-01T12:00:00Z", "maxLag": "60"}
    -> 201 {"_id": ..., "userId": ..., "action": "buy", "amount": 0.01, "price": 59000.0,
            "timestamp": 1714564800000, "maxLag": 60.0, "traderIds": [...], "receivedAt": ...}

* `action`: `buy`, `sell`, `enter_long`, `exit_long` (`enter_short`, `exit_short`: 422
  `SIGNAL_ACTION_UNSUPPORTED` until futures accounts exist); `amount` in base currency;
  `price` a limit price (absent: a market order); numbers may be strings.
* `timestamp`: ms or s since the epoch (a number or a string of digits: below 10^11 it is
  seconds), or ISO 8601 (TradingView's `{{timenow}}`). `maxLag` (seconds, default
  `signals.max_lag`): an older signal is 400 `SIGNAL_STALE`.
* 3Commas' signal-bot JSON is accepted too: `secret` is the token, `max_lag` `maxLag`,
  `trigger_price` the (limit) price, `order.amount` the amount; its other fields are ignored.

Refused, changing nothing: a malformed body (400 `VALIDATION_FAILED`, per field), an
unknown token (404 `SIGNAL_TOKEN_UNKNOWN`), a stale signal, a replay (the same token,
timestamp and action again: 409 `SIGNAL_REPLAYED`; the record's id is a hash of the three,
so two identical signals at the same moment store one record and make one order).

The token authenticates the call (no login); calls are charged per address to the
`webhooks` budget and per token to `signal-token` (`[ratelimit.budgets]`; a budget left
out of the config: the `anonymous` one per address, none per token). The token is not
stored with the signal (its SHA-256 is). `GET /signals/webhook/<token>` answers the
token's last signal to the owner of a trader with that token (404 otherwise);
`signals/webhook created` goes to the owner's sockets.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from marshmallow import EXCLUDE, ValidationError, pre_load, validate

from cryptorobot import App
from cryptorobot.adapters import AdapterService, Index
from cryptorobot.errors import Conflict, NotFound
from cryptorobot.schemas import Schema, fields
from cryptorobot.storage import persisted
from engine.strategies import Signal
from hooks import authenticate, limit_by
from services.errors import platform_error
from services.exchanges.storage import find_all
from services.traders import pods_of
from services.users import RecordId

__all__ = ["ACTIONS", "UNSUPPORTED", "WEBHOOK_PATH", "WebhookSignals", "register"]

WEBHOOK_PATH = "signals/webhook"
ACTIONS = ("buy", "sell", "enter_long", "exit_long", "enter_short", "exit_short")
UNSUPPORTED = ("enter_short", "exit_short")
SECONDS_BELOW = 10**11
"""Epoch timestamps below this are seconds (10^11 s is the year 5138; 10^11 ms is 1973)."""
CODES = ["SIGNAL_TOKEN_UNKNOWN", "SIGNAL_STALE", "SIGNAL_REPLAYED", "SIGNAL_ACTION_UNSUPPORTED"]


class Timestamp(fields.Field):
    """Epoch ms or s (number or digits), or ISO 8601; loads as epoch ms (int)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise ValidationError("Epoch milliseconds or seconds, or an ISO 8601 date.")
        if isinstance(value, str):
            text = value.strip()
            try:
                value = float(text)
            except ValueError:
                try:
                    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
                except ValueError:
                    raise ValidationError("Epoch milliseconds or seconds, or an ISO 8601 date.") from None
                if moment.tzinfo is None:
                    raise ValidationError("An ISO 8601 date with its time zone (e.g. Z).") from None
                return int(moment.timestamp() * 1000)
        if not isinstance(value, int | float) or not value == value or not 0 < value < 10**16:
            raise ValidationError("Epoch milliseconds or seconds, or an ISO 8601 date.")
        return int(value * 1000) if value < SECONDS_BELOW else int(value)


class WebhookSignalSchema(Schema):
    """A signal (see the module docstring); 3Commas' field names mapped before loading."""

    class Meta:
        unknown = EXCLUDE  # alert templates and 3Commas send fields of their own

    token = fields.String(required=True, validate=validate.Length(min=1, max=200),
                          metadata={"description": "The trader's `signalToken` (3Commas: `secret`)."})
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS),
                           metadata={"description": "buy, sell, enter_long, exit_long (enter_short, exit_short: 422)."})
    amount = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False),
                          metadata={"description": "Base currency amount; a string of digits is accepted."})
    price = fields.Float(allow_none=True, validate=validate.Range(min=0, min_inclusive=False),
                         metadata={"description": "Limit price (absent: market order). 3Commas: `trigger_price`."})
    timestamp = Timestamp(required=True, metadata={"description": "When the signal was made: epoch ms or s, or "
                                                                  "ISO 8601."})
    maxLag = fields.Float(validate=validate.Range(min=0, min_inclusive=False),
                          metadata={"description": "Seconds after `timestamp` past which the signal is refused "
                                                   "(3Commas: `max_lag`)."})

    @pre_load
    def from_3commas(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict) or "secret" not in data:
            return data
        mapped = {key: value for key, value in data.items() if key not in ("secret", "max_lag", "trigger_price")}
        mapped.setdefault("token", data["secret"])
        for theirs, ours in (("max_lag", "maxLag"), ("trigger_price", "price")):
            if theirs in data:
                mapped.setdefault(ours, data[theirs])
        order = data.get("order")
        if isinstance(order, dict) and "amount" in order:
            mapped.setdefault("amount", order["amount"])
        return mapped


class WebhookResultSchema(Schema):
    _id = fields.String(metadata={"description": "A hash of the token, timestamp and action."})
    userId = RecordId()
    action = fields.String()
    amount = fields.Float()
    price = fields.Float(allow_none=True)
    timestamp = fields.Integer(metadata={"description": "Epoch ms."})
    maxLag = fields.Float()
    traderIds = fields.List(fields.String(), metadata={"description": "The running traders it reached."})
    receivedAt = fields.DateTime()


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class WebhookSignals:
    """`create` acts on a signal, `get` reads a token's last one (see the module docstring)."""

    def __init__(self, app: App, store: AdapterService, max_lag: float) -> None:
        self.app = app
        self.store = store
        self.max_lag = max_lag

    async def setup(self, app: App, path: str) -> None:
        await self.store.setup(app, path)

    async def teardown(self) -> None:
        await self.store.teardown()

    async def _traders(self, token: str, **query: Any) -> list[dict[str, Any]]:
        return await find_all(self.app.service("traders").raw.store, {"signalToken": token, **query})

    async def create(self, data: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        token, action = data["token"], data["action"]
        if action in UNSUPPORTED:
            raise platform_error("SIGNAL_ACTION_UNSUPPORTED", f"{action}: short positions need futures accounts, "
                                                              "which this server does not have yet", action=action)
        traders = await self._traders(token)
        if not traders:
            raise platform_error("SIGNAL_TOKEN_UNKNOWN", "No trader has this signal token")
        max_lag = float(data.get("maxLag") or self.max_lag)
        age = (self.app.clock.now_ms() - data["timestamp"]) / 1000
        if age > max_lag:
            raise platform_error("SIGNAL_STALE", f"The signal is {age:.1f} s old, over its maxLag of {max_lag:g} s",
                                 age=round(age, 3), maxLag=max_lag)
        pods = pods_of(self.app)
        running = [trader for trader in traders if pods.running(trader["_id"])]
        key = _sha256(f"{token}|{data['timestamp']}|{action}")
        record = {"_id": key, "tokenHash": _sha256(token), "userId": traders[0]["userId"], "action": action,
                  "amount": data["amount"], "price": data.get("price"), "timestamp": data["timestamp"],
                  "maxLag": max_lag, "traderIds": [str(trader["_id"]) for trader in running],
                  "receivedAt": self.app.clock.now()}
        try:
            created: dict[str, Any] = await self.store.create(record)  # type: ignore[assignment]
        except Conflict:
            raise platform_error("SIGNAL_REPLAYED", "This signal (token, timestamp, action) was received already",
                                 timestamp=data["timestamp"], action=action) from None
        signal = Signal(action, data["amount"], data.get("price"), data["timestamp"])
        for trader in running:
            pods.signal(trader["_id"], signal, key[:16])
        return created

    async def get(self, id: Any, params: dict[str, Any]) -> dict[str, Any]:
        user = params.get("user")
        mine = await self._traders(str(id), **({} if user is None else {"userId": user["_id"]}))
        if not mine:
            raise NotFound("No trader of yours has this signal token")
        last = await find_all(self.store, {"tokenHash": _sha256(str(id)), "$sort": {"receivedAt": -1}, "$limit": 1})
        if not last:
            raise NotFound("No signal was received with this token yet")
        return last[0]


def _token(context: Any) -> Any:
    return context.data.get("token") if isinstance(context.data, dict) else None


def register(app: App) -> None:
    """Register `signals/webhook` (after `traders`)."""
    settings: dict[str, Any] = app.get("signals") or {}
    limits = app.rate_limits
    budgets = limits.settings.budgets if limits is not None else {}  # a budget left out of the config is not used
    store = persisted(app, id="_id", paginate=False, indexes=[Index(("tokenHash", "receivedAt"))])
    app.use(WEBHOOK_PATH, WebhookSignals(app, store, float(settings.get("max_lag", 300.0))), {
        "methods": ["create", "get"],
        "address_budget": "webhooks" if "webhooks" in budgets else None,
        "schemas": {"create": WebhookSignalSchema, "result": WebhookResultSchema, "server_fields": (),
                    "timestamps": False},
        "docs": {"description": "Trading signals for your `webhook` traders, authenticated by the trader's "
                                "`signalToken` (TradingView alerts, 3Commas' signal-bot JSON): `create` reaches every "
                                "running trader with the token, which places the order. `get` by token (signed in): "
                                "the token's last signal, for the owner.", "codes": CODES},
    })
    app.service(WEBHOOK_PATH).hooks({"around": {"get": [authenticate("jwt", "api-key")]}})
    if "signal-token" in budgets:
        app.service(WEBHOOK_PATH).hooks({"before": {"create": [limit_by("signal-token", _token)]}})

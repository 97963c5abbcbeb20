"""`exchanges/replays`: the `sim` exchange's replay markets, and where their positions are kept.

Each record is one replay (`_id` `"sim:BTC/USDT"`), saved every `tickers.replay.save_interval`
seconds while it plays, when it ends and at shutdown, in the `storage` the app uses (so with
`storage = "memory"` positions do not outlive the process)::

    {"_id": "sim:BTC/USDT", "exchange": "sim", "symbol": "BTC/USDT", "timeframe": "1m",
     "candle": 1704070800000, "loops": 0, "ended": false, "marketTime": 1704070740000,
     "first": 1704067200000, "last": 1706745540000, "count": 44640, "end": "loop",
     "speed": {"factor": 60.0, "candlesPerSecond": null}, "createdAt": ..., "updatedAt": ...}

`candle` is the stored open of the next candle to play (null once a `stop` replay ended),
`loops` the loops completed, `marketTime` the market time of the last point played (loops
shifted it forward). A restart resumes every replay at its `candle` (`ReplayPositions`).
Signed-in users may `find` and `get` them; only the server writes them.
"""

from __future__ import annotations

from typing import Any

from cryptorobot import App
from cryptorobot.adapters import AdapterService
from cryptorobot.errors import Conflict, NotFound
from cryptorobot.schemas import QuerySchema, Schema, fields, set_timestamps
from cryptorobot.storage import persisted
from engine.feeds import ReplayMarket, ReplayPosition
from hooks import authenticate

__all__ = ["REPLAYS_PATH", "ReplayPositions", "use_replays_service"]

REPLAYS_PATH = "exchanges/replays"


class ReplayQuerySchema(QuerySchema):
    exchange = fields.String(metadata={"operators": ("$in",)})
    symbol = fields.String(metadata={"operators": ("$in", "$nin")})
    timeframe = fields.String()
    ended = fields.Boolean()


class ReplayResultSchema(Schema):
    _id = fields.String(metadata={"description": "`<exchange>:<symbol>`"})
    exchange = fields.String()
    symbol = fields.String()
    timeframe = fields.String(metadata={"description": "The stored timeframe played."})
    candle = fields.Integer(allow_none=True, metadata={
        "description": "Stored open (ms) of the next candle to play; null once a `stop` replay ended."})
    loops = fields.Integer(metadata={"description": "Loops completed (market time moves on by a span each)."})
    ended = fields.Boolean()
    marketTime = fields.Integer(allow_none=True, metadata={"description": "Market time of the last point, ms."})
    first = fields.Integer(metadata={"description": "Open of the series' first candle, ms."})
    last = fields.Integer(metadata={"description": "Open of the series' last candle, ms."})
    count = fields.Integer()
    end = fields.String(metadata={"description": "`loop` or `stop`."})
    speed = fields.Dict(metadata={"description": "`{factor, candlesPerSecond}`."})
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()


def replay_record(exchange: str, replay: ReplayMarket) -> dict[str, Any]:
    """The saved form of a replay's state."""
    position, candles = replay.position, replay.candles
    return {"exchange": exchange, "symbol": replay.symbol, "timeframe": candles.timeframe, **position.to_json(),
            "ended": replay.ended, "marketTime": replay.market_time, "first": int(candles.timestamp[0]),
            "last": int(candles.timestamp[-1]), "count": len(candles), "end": replay.end.value,
            "speed": replay.speed.to_json()}


class ReplayPositions:
    """Loads and saves replay states through the `exchanges/replays` service (internal calls)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._saved: dict[str, dict[str, Any]] = {}

    async def load(self) -> dict[str, ReplayPosition]:
        """The saved positions by replay id."""
        records = await self.app.service(REPLAYS_PATH).find({"paginate": False})
        self._saved = {record["_id"]: record for record in records}
        return {id: ReplayPosition.from_json(record) for id, record in self._saved.items()}

    async def save(self, id: str, record: dict[str, Any]) -> None:
        """Save a replay's record when it changed since it was last saved."""
        saved = self._saved.get(id)
        if saved is not None and all(saved.get(name) == value for name, value in record.items()):
            return
        service = self.app.service(REPLAYS_PATH)
        try:  # an upsert: a save cut short (at shutdown) may have stored what it did not record
            stored = await (service.patch(id, record) if saved is not None else service.create({"_id": id, **record}))
        except (Conflict, NotFound):
            stored = await (service.create({"_id": id, **record}) if saved is not None else service.patch(id, record))
        self._saved[id] = stored


def use_replays_service(app: App) -> AdapterService:
    """Register `exchanges/replays` on the app's storage."""
    adapter = persisted(app, id="_id", paginate=app.get("paginate") or {"default": 25, "max": 100})
    app.use(REPLAYS_PATH, adapter, {
        "methods": ["find", "get"],
        "schemas": {"query": ReplayQuerySchema, "result": ReplayResultSchema},
        "docs": {"description": "The `sim` exchange's replay markets: the stored series each replays, its position "
                                "(next candle, loops) and market time, as of the last save.",
                 "security": [{"bearerAuth": []}, {"apiKey": []}]},
    })
    signed_in = authenticate("jwt", "api-key")
    app.service(REPLAYS_PATH).hooks({"around": {"find": [signed_in], "get": [signed_in]},
                                     "before": {"create": [set_timestamps()], "patch": [set_timestamps()]}})
    app.service(REPLAYS_PATH).publish(lambda data, context: None)
    return adapter

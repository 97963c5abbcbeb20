"""Scoring closed candles: every `ready` model listens to its pairs' feeds through the hub.

For each pair of a ready model the scorer calls `MarketDataHub.listen(exchange, pair,
on_candle=..., timeframe=model's, warmup=SCORE_WINDOW)`: a replay hands its played history
as warm-up and then each candle it closes; a live feed the stored candles and then the
candles built from its prices. Each closed candle is appended to the pair's window (the
last `SCORE_WINDOW` candles), the model scores the window (features of one row and one
`predict_proba`: well under a millisecond, so on the feed's task) and the signal is recorded
in the background (`signals.record_signal`). While a model covers a pair, that pair's feed
runs (the listener holds a reference).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from cryptorobot import App
from engine.candles import Candle, Candles
from engine.models import SCORE_WINDOW, SignalModel
from services.market_data import Listener, market_data

from .catalogue import MODELS_PATH, load_model
from .signals import Subscribers, record_signal

__all__ = ["ModelScorer"]

log = logging.getLogger("cryptorobot.models")


class _Pair:
    """One pair of one model: its window of closed candles."""

    def __init__(self, record: dict[str, Any], model: SignalModel, pair: str) -> None:
        self.record = record
        self.model = model
        self.pair = pair
        self.window = Candles.empty(model.timeframe)
        self.listener: Listener | None = None


class ModelScorer:
    """Attaches ready models to the feeds of their pairs; see the module documentation."""

    def __init__(self, app: App, subscribers: Subscribers) -> None:
        self.app = app
        self.subscribers = subscribers
        self.attached: dict[Any, list[_Pair]] = {}

    async def start(self) -> None:
        """Attach every ready model (one that can not be loaded or listened to is logged and skipped)."""
        ready = await self.app.service(MODELS_PATH).find({"query": {"status": "ready"}, "paginate": False})
        for record in ready:
            await self.attach(record)

    async def attach(self, record: dict[str, Any]) -> None:
        """Start scoring `record`'s pairs (again, if it was attached: a retrained model)."""
        await self.detach(record["_id"])
        try:
            model = await asyncio.to_thread(load_model, self.app, record)
        except Exception:
            log.exception("model %s can not be loaded: it scores nothing", record["name"])
            return
        pairs = self.attached[record["_id"]] = []
        hub = market_data(self.app)
        for pair in record["pairs"]:
            state = _Pair(record, model, pair)
            try:
                state.listener = await hub.listen(record["exchange"], pair, timeframe=record["timeframe"],
                                                  warmup=SCORE_WINDOW, on_candle=functools.partial(self._closed, state))
            except Exception:
                log.exception("model %s can not listen to %s %s", record["name"], record["exchange"], pair)
                continue
            state.window = state.listener.warmup
            pairs.append(state)

    async def detach(self, model_id: Any) -> None:
        for state in self.attached.pop(model_id, []):
            if state.listener is not None:
                await state.listener.close()

    async def close(self) -> None:
        for model_id in list(self.attached):
            await self.detach(model_id)

    def _closed(self, state: _Pair, candle: Candle) -> None:
        row = Candles.from_ohlcv(state.window.timeframe, [candle])
        state.window = Candles.concat(state.window.timeframe, [state.window, row])[-SCORE_WINDOW:]
        score = state.model.score(state.window)
        if score is None:
            return
        record = state.record
        signal = {"modelId": record["_id"], "model": record["name"], "exchange": record["exchange"],
                  "pair": state.pair, "timeframe": record["timeframe"], "type": score.type,
                  "confidence": round(score.confidence, 6), "probability": round(score.probability, 6),
                  "price": score.price, "timestamp": score.timestamp}
        self.app.supervisor.spawn(record_signal(self.app, self.subscribers, signal),
                                  name=f"signal of model {record['name']} on {state.pair}")

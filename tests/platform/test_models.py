"""`models`, `models/subscriptions` and `models/signals` over REST and real sockets, on memory
and SQLite: an administrator trains a model on backtesting.py's BTCUSD candles (a worker
process), its honest validation is shown, the replay's closed candles are scored, and the
signals reach exactly the subscribers whose minimum confidence they meet, as signals and
as messages."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from backtesting.test import BTCUSD

from cryptorobot.clock import ManualClock
from engine.candles import SeriesKey, SqliteCandleStore, timeframe
from engine.models import FEATURES, SignalModel
from platform_support import Platform, socket_login
from services.market_data import MarketKey, market_data
from services.models import model_file
from tests.conftest import WAIT, SocketClient, settle
from tests.engine.strategy_support import from_frame

_LABELLED = from_frame(BTCUSD, "1M")  # labelled by the month's last day
CANDLES = dataclasses.replace(_LABELLED, timestamp=timeframe("1M").floor(_LABELLED.timestamp))


def store_btcusd(data_dir: Path) -> None:
    store = SqliteCandleStore(data_dir / "candles.db")
    store.write(SeriesKey("sim", "BTC/USD", "1M"), CANDLES)
    store.close()


async def started(make_platform: Any, tmp_path: Path, clock: ManualClock | None = None) -> Platform:
    """The platform replaying BTCUSD from 2020 at a candle a second (of `clock`: a ManualClock
    holds the replay until the test moves it)."""
    store_btcusd(tmp_path)
    return await make_platform(clock=clock, tickers={"linger": 0.0, "replay": {"candles_per_second": 1.0,
                                                                                "start": "2020-01-01"}})


async def play(platform: Platform, clock: ManualClock, candles: int) -> None:
    """Move the BTC/USD replay (a candle a second) on by `candles` candles, point by point."""
    points: list[Any] = []
    arrived = asyncio.Event()

    def on_point(point: Any) -> None:
        points.append(point)
        arrived.set()

    async with await market_data(platform.app).listen("sim", "BTC/USD", on_point=on_point):
        for step in range(candles * 4):
            clock.advance(0.25)
            while len(points) <= step:
                arrived.clear()
                await asyncio.wait_for(arrived.wait(), WAIT)


async def admin(platform: Platform, email: str = "root@example.com") -> tuple[str, dict[str, Any]]:
    """A signed-up administrator: a token and the user."""
    user, token = await platform.member(email)
    await platform.app.service("users").patch(user["_id"], {"roles": ["admin"]})
    return token, user


TRAINING = 120.0
"""Longest wait for a training: a worker process starts and imports scikit-learn (seconds on a busy machine)."""


async def event_of(socket: SocketClient, name: str, matches: Any = lambda _: True,
                   timeout: float = WAIT) -> dict[str, Any]:
    """Take events until `name` with data that `matches` (within `timeout` seconds); that data."""
    async def find() -> dict[str, Any]:
        while True:
            try:
                got, args = await socket.next_event()
            except TimeoutError:
                continue  # nothing for a while: `timeout` decides
            if got == name and matches(args[0]):
                return args[0]

    return await asyncio.wait_for(find(), timeout)


TRAIN = {"name": "btc-direction", "description": "Next month's BTC direction", "exchange": "sim",
         "pairs": ["btc-usd"], "timeframe": "1M", "algorithm": "gradient_boosting"}


async def test_an_administrator_trains_a_model_and_everyone_reads_its_validation(make_platform: Any, tmp_path: Path,
                                                                                 sockets: Any) -> None:
    platform = await started(make_platform, tmp_path)
    token, _ = await admin(platform)
    _, member_token = await platform.member("ann@example.com")
    ann = await sockets(platform.http)
    await socket_login(ann, "ann@example.com")

    status, body = await platform.request("POST", "/models", json=TRAIN, token=member_token)
    assert (status, body["data"]["code"]) == (403, "FORBIDDEN")
    status, body = await platform.request("POST", "/models", json={**TRAIN, "pairs": ["BTC/USDX"]}, token=token)
    assert (status, body["data"]["code"]) == (400, "INVALID_SYMBOL")
    status, body = await platform.request("POST", "/models", json={**TRAIN, "timeframe": "1d"}, token=token)
    assert (status, body["data"]["code"]) == (400, "INVALID_TIMEFRAME")  # nothing stored builds 1d
    status, body = await platform.request("POST", "/models", json={**TRAIN, "pairs": ["BTC/USDT"]}, token=token)
    assert (status, body["errors"]) == (400, {"pairs": ["No stored sim BTC/USDT 1M candles (cryptorobot candles "
                                                        "import|download)"]})
    status, body = await platform.request("POST", "/models", json={**TRAIN, "algorithm": "magic", "status": "ready"},
                                          token=token)
    assert status == 400 and set(body["errors"]) == {"algorithm", "status"}

    status, model = await platform.request("POST", "/models", json=TRAIN, token=token)
    assert status == 201, model
    assert (model["status"], model["pairs"], model["features"], model["validation"]) == (
        "training", ["BTC/USD"], list(FEATURES), None)
    ready = await event_of(ann, "models patched", lambda record: record["_id"] == model["_id"], TRAINING)
    assert ready["status"] == "ready", ready
    validation = ready["validation"]
    assert validation["method"] == "walk-forward" and validation["folds"] == 5
    expected = SignalModel.load(model_file(platform.app, model["_id"])).validation.to_json()
    assert validation == expected  # what the file's model scored, shown as it came
    assert validation["beatsBaseline"] == (validation["accuracy"] > validation["baselineAccuracy"])
    assert ready["trainedOn"] == {"BTC/USD": {"start": int(CANDLES.timestamp[0]), "end": int(CANDLES.timestamp[-1]),
                                              "candles": len(CANDLES)}}
    status, page = await platform.request("GET", "/models?status=ready", token=member_token)
    assert (status, [record["name"] for record in page["data"]]) == (200, ["btc-direction"])
    status, body = await platform.request("POST", "/models", json=TRAIN, token=token)
    assert status == 409

    status, _ = await platform.request("DELETE", f"/models/{model['_id']}", token=member_token)
    assert status == 403
    hub, key = market_data(platform.app), MarketKey("sim", "BTC/USD")
    assert hub.references(key) == 1  # the ready model listens to its pair
    status, _ = await platform.request("DELETE", f"/models/{model['_id']}", token=token)
    assert status == 200 and not model_file(platform.app, model["_id"]).exists()
    await asyncio.wait_for(asyncio.gather(*platform.app.supervisor.spawned()), WAIT)
    assert hub.references(key) == 0  # and stops listening once removed


async def test_signals_reach_the_subscribers_whose_minimum_confidence_they_meet(make_platform: Any, tmp_path: Path,
                                                                               sockets: Any) -> None:
    clock = ManualClock()
    platform = await started(make_platform, tmp_path, clock)
    token, _ = await admin(platform)
    status, model = await platform.request("POST", "/models", json=TRAIN, token=token)
    assert status == 201
    members = {}
    for name in ("ann", "bob", "cid"):
        await platform.member(f"{name}@example.com")
        members[name] = await sockets(platform.http)
        await socket_login(members[name], f"{name}@example.com")
    ann, bob, cid = members["ann"], members["bob"], members["cid"]
    await event_of(ann, "models patched", lambda record: record["status"] == "ready", TRAINING)

    ack = await ann.call("create", "models/subscriptions", {"modelId": model["_id"], "pair": "btc-usd",
                                                            "minConfidence": 0.0}, {})
    assert ack[0] is None and (ack[1]["pair"], ack[1]["minConfidence"]) == ("BTC/USD", 0.0)
    ack = await bob.call("create", "models/subscriptions", {"modelId": model["_id"], "pair": "BTC/USD",
                                                            "minConfidence": 1.0}, {})
    assert ack[0] is None
    ack = await bob.call("create", "models/subscriptions", {"modelId": model["_id"], "pair": "BTC/USD"}, {})
    assert ack["code"] == 409  # an error is the acknowledgement's only argument
    ack = await cid.call("create", "models/subscriptions", {"modelId": model["_id"], "pair": "ETH/USD"}, {})
    assert (ack["code"], ack["errors"]) == (400, {"pair": ["Model btc-direction covers BTC/USD."]})
    ack = await cid.call("create", "models/subscriptions", {"modelId": "nope", "pair": "ETH/USD"}, {})
    assert (ack["code"], ack["errors"]) == (400, {"modelId": ["No such model."]})

    await play(platform, clock, 1)  # 2020-01 closes
    signal = await event_of(ann, "models/signals created")
    assert set(signal) == {"_id", "modelId", "model", "exchange", "pair", "timeframe", "type", "confidence",
                           "probability", "price", "timestamp", "createdAt"}
    assert (signal["modelId"], signal["model"], signal["pair"], signal["type"] in ("buy", "sell")) == (
        model["_id"], "btc-direction", "BTC/USD", True)
    # the engine's model, given the candles up to the scored one, makes the same call
    scored = int(CANDLES.timestamp.searchsorted(signal["timestamp"]))
    assert signal["timestamp"] == CANDLES.timestamp[scored] == timeframe("1M").floor_one(1_577_836_800_000)
    engine_model = SignalModel.load(model_file(platform.app, model["_id"]))
    score = engine_model.score(CANDLES[:scored + 1])
    assert score is not None and (score.type, round(score.confidence, 6), score.price) == (
        signal["type"], signal["confidence"], signal["price"])
    message = await event_of(ann, "messages created", lambda m: m["data"]["signalId"] == signal["_id"])
    assert (message["kind"], message["title"]) == ("signal", f"BTC/USD: {signal['type']} ({signal['confidence']:.2f})")

    await settle(platform.app, bob, cid)
    assert [name for name, _ in bob.received if name.startswith(("models/signals", "messages"))] == []
    assert [name for name, _ in cid.received if name.startswith(("models/signals", "messages"))] == []
    status, page = await platform.request("GET", "/models/signals?pair=BTC/USD&$limit=1",
                                          token=(await platform.login("bob@example.com"))["accessToken"])
    assert status == 200 and page["total"] >= 1  # the record is there for anyone signed in

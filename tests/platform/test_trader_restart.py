"""A server stopped while a trader runs starts it again: the trader resumes where the replay is,
reconciled with its paper account, and no order is placed twice (SQLite, the app without a server)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptorobot import App
from cryptorobot.config import load_config
from cryptorobot.platform import create_app
from platform_support import PASSWORD, merged
from ticker_support import store_series
from trader_support import FAST_CROSS, trader_settings

WAIT = 20.0


def waiter(app: App, path: str, event: str, matches: Callable[[dict[str, Any]], bool]) -> asyncio.Event:
    """An event set when `path` emits `event` with data that `matches`."""
    seen = asyncio.Event()

    def listener(data: Any, context: Any = None) -> None:
        if matches(data):
            seen.set()

    app.service(path).on(event, listener)
    return seen


async def test_a_running_trader_resumes_after_a_restart_and_places_nothing_twice(tmp_path: Path) -> None:
    store_series(tmp_path, "BTC/USDT", count=2000)
    settings = merged({**load_config("test", environ={}), "data_dir": str(tmp_path), "storage": "sqlite"},
                      trader_settings(candles_per_second=40.0))
    app = create_app(settings)
    await app.setup()
    user = await app.service("users").create({"email": "ann@example.com", "password": PASSWORD})
    account = await app.service("exchanges").create({"exchange": "sim", "userId": user["_id"]})
    strategy = await app.service("strategies").create({**FAST_CROSS, "userId": user["_id"]})
    trader = await app.service("traders").create({"name": "bot", "strategyId": strategy["_id"],
                                                  "exchangeId": account["_id"], "userId": user["_id"]})
    traded = waiter(app, "trades", "created", lambda trade: True)
    started = await app.service("traders").start({"id": trader["_id"]})
    assert started["status"] == "running"
    await asyncio.wait_for(traded.wait(), WAIT)
    await app.teardown()

    app = create_app(settings)
    running = waiter(app, "traders", "patched", lambda patched: patched["status"] == "running")
    traded = waiter(app, "trades", "created", lambda trade: True)
    await app.setup()
    await asyncio.wait_for(running.wait(), WAIT)
    await asyncio.wait_for(traded.wait(), WAIT)
    stopped = await app.service("traders").stop({"id": trader["_id"]})
    assert stopped["status"] == "stopped" and stopped["starts"] == 1

    query = {"traderId": str(trader["_id"])}
    orders = await app.service("traders/:traderId/orders").find({"query": query, "paginate": False})
    client_ids = [order["clientOrderId"] for order in orders]
    assert len(client_ids) == len(set(client_ids)) >= 2
    trades = await app.service("trades").find({"query": query, "paginate": False})
    events = await app.service("traders/pods/events").find({"query": {**query, "type": "started"},
                                                            "paginate": False})
    assert [event["data"]["resumed"] for event in events] == [False, True]
    balance = await app.service("exchanges").balance({"id": account["_id"]})
    usdt = 10000.0 + sum(t["cost"] if t["side"] == "sell" else -t["cost"] for t in trades) - sum(
        t["fee"]["cost"] for t in trades)
    assert abs(balance["total"]["USDT"] - usdt) < 1e-6
    await app.teardown()

"""The hard way: a server process killed with SIGKILL while a paper trader trades a replay, then
started again on the same data directory (SQLite). The trader resumes by itself, reconciles
with its account, trades on, and afterwards its account's balance equals its recorded trades,
nothing is reserved once it is stopped, and no clientOrderId was placed twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from platform_support import PASSWORD
from tests.conftest import SocketClient
from tests.server_process import ServerProcess
from ticker_support import store_series
from trader_support import FAST_CROSS, events_until, named

ENV: dict[str, str | None] = {"CRYPTOROBOT_ENV": "test", "CRYPTOROBOT_STORAGE": "sqlite",
                              "CRYPTOROBOT_TICKERS__REPLAY__CANDLES_PER_SECOND": "40"}


async def call(session: aiohttp.ClientSession, method: str, url: str, token: str | None = None,
               data: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with session.request(method, url, json=data, headers=headers) as response:
        body = await response.json()
        assert response.status < 300, body
        return body


async def watching(url: str) -> SocketClient:
    socket = await SocketClient().connect(url)
    ack = await socket.call("create", "authentication", {"strategy": "local", "email": "ann@example.com",
                                                         "password": PASSWORD}, {})
    assert ack[0] is None, ack
    return socket


def trades(count: int) -> Any:
    return lambda events: len(named(events, "trades created")) >= count


async def test_a_trader_survives_sigkill_and_places_nothing_twice(tmp_path: Path) -> None:
    store_series(tmp_path / "data", "BTC/USDT", count=5000)
    server = ServerProcess("cryptorobot.platform:create_app", tmp_path, env=ENV).start()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        try:
            url = server.url
            await call(session, "POST", f"{url}/users", data={"email": "ann@example.com", "password": PASSWORD})
            token = (await call(session, "POST", f"{url}/authentication", data={
                "strategy": "local", "email": "ann@example.com", "password": PASSWORD}))["accessToken"]
            account = await call(session, "POST", f"{url}/exchanges", token, {"exchange": "sim"})
            strategy = await call(session, "POST", f"{url}/strategies", token, FAST_CROSS)
            trader = await call(session, "POST", f"{url}/traders", token, {
                "name": "bot", "strategyId": strategy["_id"], "exchangeId": account["_id"]})
            socket = await watching(url)
            await call(session, "POST", f"{url}/traders/{trader['_id']}/start", token, {})
            await events_until(socket, trades(3))
        finally:
            server.kill()
        await socket.close()

        again = ServerProcess("cryptorobot.platform:create_app", tmp_path, env=ENV).start()
        try:
            socket = await watching(again.url)  # the trader resumed at startup: it trades on
            await events_until(socket, trades(2), timeout=40.0)
            await socket.close()
            stopped = await call(session, "POST", f"{again.url}/traders/{trader['_id']}/stop", token, {})
            assert stopped["status"] == "stopped"
            base = f"{again.url}/traders/{trader['_id']}"
            orders = (await call(session, "GET", f"{base}/orders?$limit=100&$sort[timestamp]=1", token))["data"]
            found = (await call(session, "GET", f"{again.url}/trades?$limit=100", token))["data"]
            started = await call(session, "GET", f"{again.url}/traders/pods/events?type=started", token)
            balance = await call(session, "GET", f"{again.url}/exchanges/{account['_id']}/balance", token)
        finally:
            assert again.stop() == 0, again.output[-3000:]
    client_ids = [order["clientOrderId"] for order in orders]
    assert len(client_ids) == len(set(client_ids))
    assert {trade["orderId"] for trade in found} <= {order["id"] for order in orders}
    assert len({trade["_id"] for trade in found}) == len(found) >= 5
    assert [event["data"]["resumed"] for event in started["data"]] == [False, True]
    usdt = 10000.0 + sum(t["cost"] if t["side"] == "sell" else -t["cost"] for t in found) - sum(
        t["fee"]["cost"] for t in found)
    btc = sum(t["amount"] if t["side"] == "buy" else -t["amount"] for t in found)
    assert abs(balance["total"]["USDT"] - usdt) < 1e-6 and abs(balance["total"].get("BTC", 0.0) - btc) < 1e-9
    assert balance["used"]["USDT"] == 0.0
    assert "Traceback" not in again.output, again.output[-3000:]

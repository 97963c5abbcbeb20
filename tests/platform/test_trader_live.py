"""A live (non-paper) trader through ccxt's real binance client against the local Binance server:
its orders reach the exchange signed as Binance expects, with the trader's clientOrderIds, its
fills come back as trades and pod events, and `stop` leaves nothing open."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from engine.strategies import buy, register, sell, unregister
from exchange_support import LIVE, binance_settings, new_account
from platform_support import merged, socket_login
from trader_support import EveryBar, events_until, named, post


class RoundTrip(EveryBar):
    """Buys 0.001 when flat, sells what it holds otherwise: a trade at every candle."""

    type = "test_round_trip"
    name = "Round trip"

    def on_candle(self, ctx: Any, bar: Any) -> Any:
        return [sell()] if ctx.position >= ctx.min_amount else [buy(0.001)]


@pytest.fixture
def round_trip() -> Iterator[None]:
    register(RoundTrip)
    yield
    unregister(RoundTrip.type)


@pytest.mark.usefixtures("round_trip")
async def test_a_live_trader_places_signed_orders_and_trades(make_platform: Any, fake_binance: Any,
                                                              sockets: Any) -> None:
    platform = await make_platform(**merged(binance_settings(fake_binance),
                                            {"tickers": {"ccxt": {"binance": fake_binance.ccxt_config()}}}))
    _, token = await platform.member("ann@example.com")
    account = await new_account(platform, token, **LIVE)
    strategy = await post(platform, "/strategies", {"name": "rt", "type": "test_round_trip", "pair": "BTC/USDT",
                                                    "timeframe": "1s"}, token)
    trader = await post(platform, "/traders", {"name": "live", "strategyId": strategy["_id"],
                                               "exchangeId": account["_id"]}, token)
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    started = await post(platform, f"/traders/{trader['_id']}/start", {}, token)
    assert started["status"] == "running", started

    async def market_moves() -> None:  # candles of one second close as prices arrive
        price = 60000
        while True:
            price += 5
            await fake_binance.set_price("BTC/USDT", price)
            await asyncio.sleep(0.3)

    mover = asyncio.create_task(market_moves())
    try:
        events = await events_until(socket, lambda taken: len(named(taken, "trades created")) >= 2, timeout=30.0)
    finally:
        mover.cancel()
    stopped = await post(platform, f"/traders/{trader['_id']}/stop", {}, token)
    assert stopped["status"] == "stopped"

    orders = [params for method, path, params in fake_binance.requests if (method, path) == ("POST", "/api/v3/order")]
    assert len(orders) >= 2 and all(order["newClientOrderId"].startswith("cr") and "signature" in order
                                    for order in orders)
    assert len({order["newClientOrderId"] for order in orders}) == len(orders)
    buy_trade, sell_trade = named(events, "trades created")[:2]
    assert (buy_trade["side"], buy_trade["fee"]["currency"], buy_trade["exchange"]) == ("buy", "BTC", "binance")
    assert (sell_trade["side"], sell_trade["fee"]["currency"]) == ("sell", "USDT")
    assert sell_trade["amount"] == pytest.approx(0.00099)  # what the buy brought in, net of its fee, to the lot step
    types = {event["type"] for event in named(events, "traders/pods/events created")}
    assert {"started", "order_placed", "order_filled", "trade_executed"} <= types
    status, positions = await platform.request("GET", f"/traders/{trader['_id']}/positions", token=token)
    assert status == 200 and positions[0]["status"] in ("open", "closed")

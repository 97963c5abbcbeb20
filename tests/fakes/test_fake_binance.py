"""The local Binance server speaks Binance's documented wire format: ccxt's own client works against it."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import ccxt
import pytest

from tests.fakes.binance import API_KEY, SECRET

DOCS_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOCS_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOCS_QUERY = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
DOCS_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
"""The HMAC example of Binance's spot API documentation (SIGNED endpoint examples)."""


@pytest.fixture
async def connect(fake_binance) -> AsyncIterator[Callable[..., Any]]:
    """`connect(...)`: `fake_binance.client(...)`, closed after the test."""
    clients: list[Any] = []

    def make(*args: Any, **kwargs: Any) -> Any:
        clients.append(fake_binance.client(*args, **kwargs))
        return clients[-1]

    yield make
    for client in clients:
        await client.close()


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


async def post(fake, *, query: str = "", body: str = "", key: str = DOCS_KEY) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.post(
            f"{fake.url}/api/v3/order" + (f"?{query}" if query else ""), data=body,
            headers={"X-MBX-APIKEY": key, "Content-Type": "application/x-www-form-urlencoded"}) as response:
        return response.status, await response.json()


async def test_signatures_are_checked_as_binance_documents_them(fake_binance) -> None:
    fake_binance.add_account(DOCS_KEY, DOCS_SECRET, {"BTC": 1})
    assert sign(DOCS_SECRET, DOCS_QUERY) == DOCS_SIGNATURE
    # the documented request: signature right, timestamp (2017) outside the window
    assert await post(fake_binance, body=f"{DOCS_QUERY}&signature={DOCS_SIGNATURE}") == (
        400, {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."})
    now = time.time_ns() // 1_000_000
    query = "symbol=ETHBTC&side=BUY&type=LIMIT&timeInForce=GTC"
    body = f"quantity=1&price=0.04&recvWindow=5000&timestamp={now}"
    # query string and body together: totalParams is their concatenation, without '&' between
    status, order = await post(fake_binance, query=query, body=f"{body}&signature={sign(DOCS_SECRET, query + body)}")
    assert status == 200 and order["status"] == "NEW" and order["symbol"] == "ETHBTC"
    wrong = sign(DOCS_SECRET, query + "&" + body)
    assert await post(fake_binance, query=query, body=f"{body}&signature={wrong}") == (
        400, {"code": -1022, "msg": "Signature for this request is not valid."})
    odd = f"symbol=ETHBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1.00005&price=0.04&timestamp={now}"
    assert await post(fake_binance, body=f"{odd}&signature={sign(DOCS_SECRET, odd)}") == (
        400, {"code": -1013, "msg": "Filter failure: LOT_SIZE"})
    assert await post(fake_binance, body=body) == (
        400, {"code": -1102, "msg": "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."})
    assert await post(fake_binance, body=f"{body}&signature={sign('x', body)}", key="nobody") == (
        401, {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."})


async def test_ccxt_loads_markets_with_precision_and_limits_from_the_filters(fake_binance, connect) -> None:
    exchange = connect()
    markets = await exchange.load_markets()
    btc = markets["BTC/USDT"]
    assert (btc["id"], btc["base"], btc["quote"], btc["active"], btc["spot"]) == ("BTCUSDT", "BTC", "USDT", True, True)
    assert btc["precision"]["amount"] == 0.00001 and btc["precision"]["price"] == 0.01
    assert btc["limits"]["amount"]["min"] == 0.00001 and btc["limits"]["cost"]["min"] == 5
    assert (btc["maker"], btc["taker"]) == (0.001, 0.001)
    assert sorted(markets) == ["BTC/USDT", "ETH/BTC", "ETH/USDT"]


async def test_prices_through_ccxt(fake_binance, connect) -> None:
    exchange = connect()
    await fake_binance.set_price("ETH/USDT", 3100, bid=3099.5, ask=3100.5)
    ticker = await exchange.fetch_ticker("ETH/USDT")
    assert (ticker["symbol"], ticker["last"], ticker["bid"], ticker["ask"], ticker["open"]) == (
        "ETH/USDT", 3100, 3099.5, 3100.5, 3000)
    tickers = await exchange.fetch_tickers(["BTC/USDT", "ETH/BTC"])
    assert sorted(tickers) == ["BTC/USDT", "ETH/BTC"]
    assert (await exchange.fetch_bids_asks(["ETH/USDT"]))["ETH/USDT"]["ask"] == 3100.5


async def test_balances_and_orders_through_ccxt_signing_and_parsing(fake_binance, connect) -> None:
    exchange = connect(API_KEY, SECRET)
    balance = await exchange.fetch_balance()
    assert balance["total"] == {"BTC": 1, "ETH": 10, "USDT": 10000}
    resting = await exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 59000, {"clientOrderId": "bot-1-0001"})
    assert (resting["status"], resting["clientOrderId"], resting["price"], resting["amount"]) == (
        "open", "bot-1-0001", 59000, 0.01)
    assert (await exchange.fetch_balance())["USDT"] == {"free": 9410, "used": 590, "total": 10000}
    bought = await exchange.create_order("BTC/USDT", "market", "buy", 0.01)
    assert (bought["status"], bought["filled"], bought["average"]) == ("closed", 0.01, 60000)
    assert bought["fee"] == {"currency": "BTC", "cost": 0.00001}
    assert [order["id"] for order in await exchange.fetch_open_orders("BTC/USDT")] == [resting["id"]]
    await fake_binance.set_price("BTC/USDT", 58900)
    filled = await exchange.fetch_order(resting["id"], "BTC/USDT")
    assert (filled["status"], filled["filled"], filled["remaining"]) == ("closed", 0.01, 0)
    trades = await exchange.fetch_my_trades("BTC/USDT")
    assert [(trade["price"], trade["takerOrMaker"], trade["side"]) for trade in trades] == [
        (60000, "taker", "buy"), (59000, "maker", "buy")]
    selling = await exchange.create_order("BTC/USDT", "limit", "sell", 0.5, 70000)
    assert (await exchange.cancel_order(selling["id"], "BTC/USDT"))["status"] == "canceled"
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.cancel_order(selling["id"], "BTC/USDT")
    with pytest.raises(ccxt.InsufficientFunds):
        await exchange.create_order("BTC/USDT", "market", "buy", 1)
    with pytest.raises(ccxt.BadRequest, match="NOTIONAL"):  # ccxt's mapping of -1013 for this filter
        await exchange.create_order("BTC/USDT", "limit", "buy", 0.00001, 100)  # below the 5 USDT notional
    final = await exchange.fetch_balance()
    assert final["BTC"]["total"] == pytest.approx(1 + 0.02 - 0.00002)
    assert final["USDT"]["total"] == pytest.approx(10000 - 600 - 590)


async def test_a_wrong_secret_is_refused_by_ccxt_as_an_authentication_error(fake_binance, connect) -> None:
    exchange = connect(API_KEY, "not the secret")
    with pytest.raises(ccxt.AuthenticationError, match="-1022"):
        await exchange.fetch_balance()


async def test_watch_ticker_through_ccxt_pro(fake_binance, connect) -> None:
    exchange = connect(pro=True)
    first = await asyncio.wait_for(exchange.watch_ticker("BTC/USDT"), 5)
    assert (first["symbol"], first["last"]) == ("BTC/USDT", 60000)
    following = asyncio.ensure_future(exchange.watch_ticker("BTC/USDT"))
    await asyncio.sleep(0)  # let it wait for the next message
    await fake_binance.set_price("BTC/USDT", 61000)
    assert (await asyncio.wait_for(following, 5))["last"] == 61000
    detailed = await asyncio.wait_for(exchange.watch_ticker("ETH/USDT", {"name": "ticker"}), 5)
    assert (detailed["bid"], detailed["ask"]) == (3000, 3000)


async def test_watch_ohlcv_through_ccxt_pro(fake_binance, connect) -> None:
    exchange = connect(pro=True)
    subscribed = asyncio.ensure_future(exchange.watch_ohlcv("BTC/USDT", "1m"))
    await asyncio.wait_for(fake_binance.until_subscribed("btcusdt@kline_1m"), 5)
    await fake_binance.push_kline("BTC/USDT", "1m", (1_704_067_200_000, 1, 2, 0.5, 1.5, 10), closed=False)
    assert await asyncio.wait_for(subscribed, 5) == [[1_704_067_200_000, 1, 2, 0.5, 1.5, 10]]

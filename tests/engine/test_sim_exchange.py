"""`SimExchange` speaks ccxt's unified API: same signatures, same structures, same errors."""

from __future__ import annotations

import copy
import inspect
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
import numpy as np
import pytest

from engine.candles import Candles
from engine.clock import ManualClock
from engine.markets import MarketCatalog
from engine.sim_exchange import SimExchange
from engine.sim_markets import sim_catalog
from tests.engine.engine_support import START_MS

BTC = "BTC/USDT"
METHODS = [
    "load_markets", "fetch_markets", "fetch_ticker", "fetch_tickers", "fetch_balance", "create_order",
    "create_market_order", "create_limit_order", "create_market_buy_order", "create_market_sell_order",
    "create_limit_buy_order", "create_limit_sell_order", "create_market_buy_order_with_cost", "create_stop_loss_order",
    "create_take_profit_order", "create_trigger_order", "cancel_order", "cancel_all_orders", "fetch_order",
    "fetch_orders", "fetch_open_orders", "fetch_closed_orders", "fetch_canceled_orders",
    "fetch_canceled_and_closed_orders", "fetch_my_trades", "fetch_ohlcv", "fetch_time", "close", "market",
]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START_MS)


@pytest.fixture
def exchange(clock: ManualClock) -> SimExchange:
    exchange = SimExchange(clock=clock, balances={"USDT": 100_000.0, "BTC": 2.0})
    exchange.on_price(BTC, clock.now_ms(), 59_990, 60_010, 60_000)
    return exchange


def ccxt_reference() -> ccxt.Exchange:
    """A real ccxt exchange holding the same markets, whose `safe_*` normalise structures."""
    reference = ccxt.binance()
    reference.set_markets(list(sim_catalog().to_ccxt().values()))
    return reference


def assert_normalised_by(normalise: Any, shape: dict[str, Any], ignore: tuple[str, ...] = ()) -> None:
    """ccxt's `safe_*` of our structure adds no key and changes no value: it is already ccxt's."""
    normalised = normalise(copy.deepcopy(shape))
    assert set(normalised) <= set(shape), set(normalised) - set(shape)
    for key, value in normalised.items():
        if key in ignore:
            continue
        assert shape[key] == value, (key, shape[key], value)
        if value is not None and key not in ("info",):
            assert type(shape[key]) is type(value), key


def test_methods_have_ccxts_names_and_parameters() -> None:
    for name in METHODS:
        ours = list(inspect.signature(getattr(SimExchange, name)).parameters)
        theirs = list(inspect.signature(getattr(ccxt_async.Exchange, name)).parameters)
        assert ours == theirs, name
        assert inspect.iscoroutinefunction(getattr(SimExchange, name)) == inspect.iscoroutinefunction(
            getattr(ccxt_async.Exchange, name)), name


async def test_order_trade_balance_ticker_and_market_shapes_are_ccxts(exchange: SimExchange, clock: ManualClock) -> None:
    reference = ccxt_reference()
    resting = await exchange.create_order(BTC, "limit", "buy", 0.1, 55_000, {"clientOrderId": "mine-1"})
    stop = await exchange.create_order(BTC, "market", "sell", 0.1, None, {"stopLossPrice": 58_000})
    await exchange.create_order(BTC, "market", "buy", 0.2)
    clock.advance(1000)
    exchange.on_price(BTC, clock.now_ms(), 60_100, 60_120, 60_110)
    filled = (await exchange.fetch_closed_orders(BTC))[0]
    for order in (resting, stop, filled, await exchange.fetch_order(resting["id"])):
        # (safe_order reads `trades` only to fill in what an order lacks; ours lacks nothing)
        assert_normalised_by(reference.safe_order, order, ignore=("trades",))
        for trade in order["trades"]:
            assert_normalised_by(reference.safe_trade, trade)
    assert resting["status"] == "open" and resting["clientOrderId"] == "mine-1" and resting["remaining"] == 0.1
    assert stop["stopLossPrice"] == stop["triggerPrice"] == 58_000 and stop["takeProfitPrice"] is None
    assert filled["status"] == "closed" and filled["average"] == 60_120 and filled["remaining"] == 0.0
    trade = (await exchange.fetch_my_trades(BTC))[0]
    assert_normalised_by(reference.safe_trade, trade)
    assert filled["trades"] == [trade] and trade["fee"] == {"cost": trade["cost"] * 0.001, "currency": "USDT",
                                                             "rate": 0.001}
    balance = await exchange.fetch_balance()
    assert_normalised_by(reference.safe_balance, balance)
    assert balance["BTC"] == {"free": 2.2 - 0.1, "used": 0.1, "total": 2.2}
    assert balance["USDT"]["used"] == pytest.approx(0.1 * 55_000 * 1.001)
    ticker = await exchange.fetch_ticker(BTC)
    assert_normalised_by(reference.safe_ticker, ticker)
    assert (ticker["bid"], ticker["ask"], ticker["last"], ticker["timestamp"]) == (60_100, 60_120, 60_110, clock.now_ms())
    markets = await exchange.load_markets()
    assert set(reference.safe_market_structure({})) <= set(markets[BTC]) and len(await exchange.fetch_markets()) >= 100


async def test_params_conventions_for_stops_cost_and_time_in_force(exchange: SimExchange, clock: ManualClock) -> None:
    trigger = await exchange.create_order(BTC, "market", "buy", 0.01, None, {"triggerPrice": 61_000})
    stop_price = await exchange.create_order(BTC, "market", "buy", 0.01, None, {"stopPrice": 59_000})
    explicit = await exchange.create_order(BTC, "market", "buy", 0.01, None,
                                           {"triggerPrice": 59_500, "triggerDirection": "above"})
    take_profit = await exchange.create_take_profit_order(BTC, "limit", "sell", 0.01, 64_900, 65_000)
    stop_loss = await exchange.create_stop_loss_order(BTC, "market", "sell", 0.01, None, 55_000)
    trigger_order = await exchange.create_trigger_order(BTC, "market", "buy", 0.01, None, 62_000)
    assert [o["info"]["triggerAbove"] for o in (trigger, stop_price, explicit, take_profit, stop_loss, trigger_order)] == [
        True, False, True, True, False, True]
    assert take_profit["takeProfitPrice"] == 65_000 and take_profit["price"] == 64_900
    with_cost = await exchange.create_market_buy_order_with_cost(BTC, 600)
    assert with_cost["amount"] is None and with_cost["info"]["cost"] == 600
    ioc = await exchange.create_limit_buy_order(BTC, 0.01, 50_000, {"timeInForce": "IOC"})
    assert ioc["status"] == "canceled"
    with pytest.raises(ccxt.InvalidOrder):
        await exchange.create_limit_buy_order(BTC, 0.01, 61_000, {"postOnly": True})
    with pytest.raises(ccxt.InvalidOrder):
        await exchange.create_order(BTC, "market", "sell", 0.01, None, {"stopLossPrice": 1, "takeProfitPrice": 2})
    with pytest.raises(ccxt.InvalidOrder):
        await exchange.create_order(BTC, "market", "buy", 0.01, None, {"triggerPrice": 1, "triggerDirection": "sideways"})
    clock.advance(1000)
    exchange.on_price(BTC, clock.now_ms(), 60_000, 60_000, 60_000)
    assert (await exchange.fetch_order(with_cost["id"]))["amount"] == 0.00999  # 600 / (60000 * 1.001), truncated


async def test_errors_are_ccxts_and_carry_codes(exchange: SimExchange) -> None:
    with pytest.raises(ccxt.InsufficientFunds) as funds:
        await exchange.create_order(BTC, "limit", "buy", 10, 59_000)
    assert funds.value.code == "INSUFFICIENT_BALANCE" and funds.value.details["currency"] == "USDT"
    with pytest.raises(ccxt.BadSymbol) as symbol:
        await exchange.create_order("BTC/USDX", "market", "buy", 0.1)
    assert symbol.value.details["suggestions"]
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.fetch_order("404")
    order = await exchange.create_order(BTC, "limit", "buy", 0.1, 50_000)
    with pytest.raises(ccxt.OrderNotFound):
        await exchange.cancel_order(order["id"], "ETH/USDT")
    canceled = await exchange.cancel_order(order["id"], BTC)
    assert canceled["status"] == "canceled"
    with pytest.raises(ccxt.InvalidOrder):
        await exchange.cancel_order(order["id"])
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await exchange.fetch_ohlcv(BTC)


async def test_fetching_orders_and_trades_with_since_and_limit(exchange: SimExchange, clock: ManualClock) -> None:
    times = []
    for i in range(5):
        clock.advance(1000)
        times.append(clock.now_ms())
        await exchange.create_order(BTC, "market", "buy", 0.01, None, {"clientOrderId": f"o{i}"})
        exchange.on_price(BTC, clock.now_ms(), 60_000 + i, 60_000 + i, 60_000 + i)
    await exchange.create_order(BTC, "limit", "sell", 0.01, 70_000)
    orders = await exchange.fetch_orders(BTC)
    assert [o["clientOrderId"] for o in orders[:5]] == [f"o{i}" for i in range(5)] and len(orders) == 6
    assert [o["clientOrderId"] for o in await exchange.fetch_closed_orders(BTC, times[1], 2)] == ["o1", "o2"]
    assert [o["clientOrderId"] for o in await exchange.fetch_closed_orders(BTC, None, 2)] == ["o3", "o4"]
    assert len(await exchange.fetch_open_orders()) == 1 and await exchange.fetch_open_orders("ETH/USDT") == []
    trades = await exchange.fetch_my_trades(BTC, times[3])
    assert [t["price"] for t in trades] == [60_003, 60_004]
    assert [t["price"] for t in await exchange.fetch_my_trades(limit=1)] == [60_004]
    assert (await exchange.fetch_order(None, None, {"clientOrderId": "o2"}))["id"] == orders[2]["id"]
    assert len(await exchange.cancel_all_orders(BTC)) == 1 and len(await exchange.fetch_canceled_orders()) == 1
    assert len(await exchange.fetch_canceled_and_closed_orders()) == 6


async def test_prices_from_the_feed(exchange: SimExchange, clock: ManualClock) -> None:
    clock.advance(1000)
    exchange.on_price("ETH/USDT", clock.now_ms(), None, None, 3_000)
    exchange.on_price("ETHBTC", clock.now_ms(), 0.0499, 0.0501, None)
    tickers = await exchange.fetch_tickers()
    assert (tickers["ETH/USDT"]["bid"], tickers["ETH/USDT"]["ask"]) == (3_000, 3_000)
    assert tickers["ETH/BTC"]["last"] == pytest.approx(0.05)
    quiet = await exchange.fetch_ticker("SOL/USDT")
    assert (quiet["last"], quiet["timestamp"]) == (None, None)
    for bad in (0, -1, float("nan"), float("inf"), None):
        with pytest.raises(ValueError):
            exchange.on_price(BTC, clock.now_ms(), bad, 1.0, None)
    with pytest.raises(ccxt.BadSymbol):
        exchange.on_price("NOPE/USDT", clock.now_ms(), 1, 1, 1)


async def test_ohlcv_from_a_sync_or_async_candle_source(clock: ManualClock) -> None:
    hour = 3_600_000
    rows = [[START_MS + i * hour, 100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i, 10.0] for i in range(10)]
    series = Candles.from_ohlcv("1h", rows)
    asked: list[tuple] = []

    def source(symbol: str, timeframe: str, since: int | None, limit: int | None) -> Candles:
        asked.append((symbol, timeframe, since, limit))
        return series

    async def async_source(symbol: str, timeframe: str, since: int | None, limit: int | None) -> Candles:
        return source(symbol, timeframe, since, limit)

    for candles in (source, async_source):
        exchange = SimExchange(clock=clock, candles=candles)
        assert exchange.has["fetchOHLCV"]
        assert await exchange.fetch_ohlcv("BTCUSDT", "1h") == rows
        assert await exchange.fetch_ohlcv(BTC, "1h", START_MS + 2 * hour, 3) == rows[2:5]
        assert await exchange.fetch_ohlcv(BTC, "1h", None, 2) == rows[-2:]
    assert asked[-1] == (BTC, "1h", None, 2)
    assert isinstance(series.timestamp, np.ndarray)


async def test_a_paper_account_on_a_real_exchange_uses_its_markets_and_fee_side(clock: ManualClock) -> None:
    binance_like = {"ETH/USDT": {"id": "ETHUSDT", "symbol": "ETH/USDT", "base": "ETH", "quote": "USDT", "type": "spot",
                                 "active": True, "precision": {"amount": 0.0001, "price": 0.01}, "maker": 0.001,
                                 "taker": 0.001, "limits": {"amount": {"min": 0.0001}, "cost": {"min": 5}}}}
    markets = MarketCatalog.from_ccxt(binance_like, "binance", fee_side="get")
    exchange = SimExchange(markets, clock, id="binance", balances={"USDT": 10_000.0})
    assert exchange.id == "binance" and exchange.symbols == ["ETH/USDT"]
    exchange.on_price("ETHUSDT", clock.now_ms(), 2_000, 2_000, 2_000)
    await exchange.create_market_buy_order("ETH/USDT", 1)
    exchange.on_price("ETH/USDT", clock.now_ms(), 2_000, 2_000, 2_000)
    trade = (await exchange.fetch_my_trades())[0]
    assert trade["fee"]["currency"] == "ETH" and trade["fee"]["cost"] == 0.001
    balance = await exchange.fetch_balance()
    assert balance["total"] == {"USDT": 8_000.0, "ETH": 0.999}


async def test_code_written_for_ccxt_runs_unchanged(exchange: SimExchange, clock: ManualClock) -> None:
    async def buy_the_dip(ccxt_exchange: Any, symbol: str) -> dict[str, Any]:
        """What a bot written against ccxt does: markets, a ticker, a balance, a limit order."""
        await ccxt_exchange.load_markets()
        market = ccxt_exchange.market(symbol)
        ticker = await ccxt_exchange.fetch_ticker(symbol)
        balance = await ccxt_exchange.fetch_balance()
        amount = balance["free"][market["quote"]] * 0.1 / ticker["ask"]
        try:
            return await ccxt_exchange.create_order(symbol, "limit", "buy", amount, ticker["bid"] * 0.99,
                                                    {"clientOrderId": "dip-1"})
        except ccxt.InsufficientFunds:
            raise
        finally:
            await ccxt_exchange.close()

    order = await buy_the_dip(exchange, BTC)
    assert order["status"] == "open" and order["price"] == 59_390.1 and order["amount"] == 0.16663
    assert (await buy_the_dip(exchange, BTC))["id"] == order["id"]  # the same clientOrderId: the same order

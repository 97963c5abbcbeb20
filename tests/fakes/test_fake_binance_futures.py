"""Live futures through ccxt's unified calls against a local server in Binance USDⓈ-M's wire
format (tests/fakes/binance_futures.py): markets, margin mode, leverage, market and
reduce-only orders, positions, the futures balance; and a paper account on the same
perpetual market (engine SimExchange) answering the same calls in the same shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import ccxt
import pytest

from engine.clock import ManualClock
from engine.errors import InvalidOrder, from_ccxt_error
from engine.markets import MarketCatalog
from engine.sim_exchange import SimExchange
from tests.fakes.binance import API_KEY, SECRET
from tests.fakes.binance_futures import FakeBinanceFutures

PERP = "BTC/USDT:USDT"


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinanceFutures]:
    server = await FakeBinanceFutures().start()
    yield server
    await server.close()


async def test_ccxt_trades_a_perpetual_with_leverage_and_reduce_only(fake: FakeBinanceFutures) -> None:
    exchange = fake.client(api_key=API_KEY, secret=SECRET)
    try:
        markets = await exchange.load_markets()
        market = markets[PERP]
        assert (market["swap"], market["linear"], market["settle"], market["contractSize"], market["id"]) == (
            True, True, "USDT", 1.0, "BTCUSDT")
        await exchange.set_margin_mode("isolated", PERP)
        await exchange.set_leverage(10, PERP)
        order = await exchange.create_order(PERP, "market", "sell", 0.1)
        assert (order["status"], order["filled"], order["average"]) == ("closed", 0.1, 60_000.0)
        await fake.set_price("BTC/USDT", 59_000)
        [position] = await exchange.fetch_positions([PERP])
        assert (position["symbol"], position["side"], position["contracts"], position["entryPrice"],
                position["markPrice"], position["unrealizedPnl"], position["marginMode"]) == (
            PERP, "short", 0.1, 60_000.0, 59_000.0, 100.0, "isolated")
        assert position["liquidationPrice"] == pytest.approx((60_000 * 0.1 + 600) / (0.1 * 1.004), abs=0.01)
        with pytest.raises(ccxt.InvalidOrder) as caught:
            await exchange.create_order(PERP, "market", "buy", 0.2, None, {"reduceOnly": True})
        assert from_ccxt_error(caught.value, "binance").code == "INVALID_ORDER"  # what the platform would answer
        with pytest.raises(ccxt.OperationRejected):
            await exchange.set_margin_mode("cross", PERP)  # not with a position open (-4048)
        await exchange.create_order(PERP, "market", "buy", 0.1, None, {"reduceOnly": True})
        assert await exchange.fetch_positions([PERP]) == []
        balance = await exchange.fetch_balance({"type": "swap"})
        assert balance["USDT"]["total"] == pytest.approx(10_000 + 100 - 3 - 2.95)  # +100, taker fees 0.05%
        leverage = next(params for method, path, params in fake.requests if path == "/fapi/v1/leverage")
        assert (leverage["symbol"], leverage["leverage"]) == ("BTCUSDT", "10")
    finally:
        await exchange.close()


async def test_a_paper_account_on_the_exchanges_perpetual_answers_the_same_calls(fake: FakeBinanceFutures) -> None:
    exchange = fake.client(api_key=API_KEY, secret=SECRET)
    try:
        await exchange.load_markets()
        catalog = MarketCatalog.from_exchange(exchange)
        assert catalog.market(PERP).type == "swap" and catalog.market(PERP).contract_size == 1.0
        clock = ManualClock(1_700_000_000_000)
        paper = SimExchange(catalog, clock, id="binance", balances={"USDT": 10_000})
        await exchange.set_margin_mode("isolated", PERP)
        await exchange.set_leverage(10, PERP)
        await paper.set_margin_mode("isolated", PERP)
        await paper.set_leverage(10, PERP)
        paper.on_price(PERP, clock.now_ms(), 60_000, 60_000, 60_000)
        await exchange.create_order(PERP, "market", "sell", 0.1)
        await paper.create_order(PERP, "market", "sell", 0.1)
        clock.advance(1000)
        paper.on_price(PERP, clock.now_ms(), 60_000, 60_000, 60_000)
        [live] = await exchange.fetch_positions([PERP])
        [simulated] = await paper.fetch_positions([PERP])
        keys = ("symbol", "side", "contracts", "entryPrice", "markPrice", "unrealizedPnl", "marginMode", "notional")
        assert {key: live[key] for key in keys} == {key: simulated[key] for key in keys}
        assert set(exchange.safe_position({})) <= set(simulated)  # every key of ccxt's position structure
        # (the liquidation prices differ by the maintenance margin rate: Binance's bracket 0.4%, sim's default 0.5%)
        with pytest.raises(InvalidOrder):
            await paper.create_order(PERP, "market", "buy", 0.2, None, {"reduceOnly": True})
    finally:
        await exchange.close()

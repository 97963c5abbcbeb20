"""Markets in ccxt's shape, `sim`'s built-in list, and finding a market by symbol, id or spelling."""

from __future__ import annotations

import math

import ccxt
import pytest

from engine.errors import InvalidSymbol
from engine.markets import Market, MarketCatalog
from engine.precision import DECIMAL_PLACES, TICK_SIZE, Precision
from engine.sim_markets import MIN_COST, REFERENCE_PRICES, sim_catalog, spot_market

MAJORS = ["BTC", "ETH", "BNB", "SOL", "XRP", "ADA", "DOGE", "TRX", "DOT", "LTC", "AVAX", "LINK"]


def test_sim_lists_more_than_100_spot_markets_with_majors_and_crosses() -> None:
    catalog = sim_catalog()
    spot = [market for market in catalog if market.spot]
    assert len(spot) >= 100
    assert all(f"{base}/USDT" in catalog for base in MAJORS)
    quotes = {market.quote for market in spot}
    assert {"USDT", "BTC", "ETH", "USDC"} <= quotes
    for market in spot:
        assert market.spot and market.active and market.fee_side == "quote"
        assert market.maker == market.taker == 0.001
        assert market.min_amount == market.amount_precision.step
        assert market.min_cost == MIN_COST[market.quote]
        # a tick is at most 1% of the price, and one amount step is worth at most a dollar
        assert market.price_precision.step <= market.info["referencePrice"] / 100
        assert market.amount_precision.step * REFERENCE_PRICES.get(market.base, 1.0) <= 1.0


def test_realistic_precision_of_the_majors() -> None:
    catalog = sim_catalog()
    expected = {"BTC/USDT": (0.01, 0.00001), "ETH/USDT": (0.01, 0.0001), "SOL/USDT": (0.001, 0.001),
                "XRP/USDT": (0.000001, 1.0), "ETH/BTC": (0.0000001, 0.0001)}
    for symbol, (tick, step) in expected.items():
        market = catalog.market(symbol)
        assert (market.price_precision.step, market.amount_precision.step) == (tick, step)


def test_fees_are_configurable() -> None:
    market = sim_catalog(maker=0.0002, taker=0.0007).market("ETH/USDT")
    assert (market.maker, market.taker) == (0.0002, 0.0007)


def test_a_market_is_a_ccxt_market_structure_and_back() -> None:
    exchange = ccxt.binance()
    for market in sim_catalog():
        shape = market.to_ccxt()
        assert set(exchange.safe_market_structure({})) <= set(shape)
        assert shape["precision"] == {"amount": market.amount_precision.value, "price": market.price_precision.value,
                                      "cost": None, "base": None, "quote": None}
        again = Market.from_ccxt(shape)
        assert again.to_ccxt() == shape


def test_from_a_ccxt_market_dict() -> None:
    row = {"id": "ETHBTC", "symbol": "ETH/BTC", "base": "ETH", "quote": "BTC", "type": "spot", "active": True,
           "precision": {"amount": 4, "price": 6}, "maker": 0.00075, "taker": 0.001,
           "limits": {"amount": {"min": 0.001, "max": None}, "cost": {"min": 0.0001}}, "info": {"raw": 1}}
    catalog = MarketCatalog.from_ccxt({"ETH/BTC": row, "X/Y": {**row, "symbol": "X/Y", "precision": {}}},
                                      "someexchange", DECIMAL_PLACES, fee_side="get")
    assert catalog.symbols == ["ETH/BTC"]  # a market without precision is left out
    market = catalog.market("ETHBTC")
    assert market.amount_precision.step == 0.0001 and market.price_precision.mode == DECIMAL_PLACES
    assert (market.min_amount, market.max_amount, market.min_cost, market.max_price) == (0.001, math.inf, 0.0001, math.inf)
    assert (market.maker, market.fee_side, market.fee_currency("buy"), market.fee_currency("sell")) == (
        0.00075, "get", "ETH", "BTC")
    assert market.to_ccxt()["limits"]["amount"] == {"min": 0.001, "max": None}


def test_lookup_by_symbol_id_and_spelling() -> None:
    catalog = sim_catalog()
    btc = catalog.market("BTC/USDT")
    assert catalog.market("BTCUSDT") is btc and catalog.market("btc-usdt") is btc and catalog.market("btc_usdt") is btc


def test_an_ambiguous_id_is_refused_and_suggests_both() -> None:
    catalog = MarketCatalog([
        Market("BTC/USDT", "BTC", "USDT", amount_precision=Precision(0.001), price_precision=Precision(0.1)),
        Market("BTC/USDT:USDT", "BTC", "USDT", id="BTCUSDT", type="swap", settle="USDT",
               amount_precision=Precision(0.001), price_precision=Precision(0.1)),
    ], exchange_id="binance")
    assert catalog.market("BTC/USDT:USDT").type == "swap"
    with pytest.raises(InvalidSymbol) as caught:
        catalog.market("BTCUSDT")
    assert set(caught.value.details["suggestions"]) >= {"BTC/USDT", "BTC/USDT:USDT"}
    assert caught.value.details["exchange"] == "binance"


def test_an_unknown_symbol_suggests_near_ones() -> None:
    with pytest.raises(InvalidSymbol) as caught:
        sim_catalog().market("ETH/USTD")
    assert caught.value.details["symbol"] == "ETH/USTD"
    assert caught.value.details["suggestions"][0] == "ETH/USDT"
    assert 1 <= len(caught.value.details["suggestions"]) <= 5
    assert isinstance(caught.value, ccxt.BadSymbol)


def test_adding_a_market_for_a_replayed_series() -> None:
    catalog = sim_catalog()
    added = catalog.add(spot_market("GOOG/USD", 600.0))
    assert catalog.market("GOOG/USD") is added and "GOOG/USD" in catalog.symbols
    assert (added.price_precision.step, added.amount_precision.step, added.min_cost) == (0.001, 0.001, 0.0)
    replaced = catalog.add(spot_market("GOOG/USD", 600.0, maker=0.0, taker=0.0))
    assert catalog.market("GOOGUSD") is replaced and len([m for m in catalog if m.symbol == "GOOG/USD"]) == 1


def test_bad_markets_are_refused() -> None:
    with pytest.raises(ValueError, match="type"):
        Market("X/Y", "X", "Y", type="option", amount_precision=Precision(1), price_precision=Precision(1))
    with pytest.raises(ValueError, match="feeSide"):
        Market("X/Y", "X", "Y", fee_side="both", amount_precision=Precision(1), price_precision=Precision(1))
    with pytest.raises(ValueError, match="precision"):
        Market.from_ccxt({"symbol": "X/Y", "base": "X", "quote": "Y", "precision": {"amount": None, "price": 1}})
    with pytest.raises(ValueError, match="reference price"):
        spot_market("X/Y", 0.0)
    assert Precision(0.001, TICK_SIZE).step == 0.001


def test_from_a_ccxt_exchange_with_its_markets_loaded() -> None:
    exchange = ccxt.binance()
    with pytest.raises(ValueError, match="no markets"):
        MarketCatalog.from_exchange(exchange)
    exchange.set_markets([{"id": "ETHUSDT", "symbol": "ETH/USDT", "base": "ETH", "quote": "USDT", "type": "spot",
                           "spot": True, "active": True, "precision": {"amount": 0.0001, "price": 0.01},
                           "maker": 0.001, "taker": 0.001, "limits": {"cost": {"min": 5}}}])
    catalog = MarketCatalog.from_exchange(exchange)
    market = catalog.market("ETHUSDT")
    assert catalog.exchange_id == "binance" and market.fee_side == "get"  # binance charges what you get
    assert market.amount_precision.mode == exchange.precisionMode == TICK_SIZE and market.min_cost == 5

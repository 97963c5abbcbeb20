"""The matching engine's fill rules (engine/matching.py docstring), one by one."""

from __future__ import annotations

import pytest

from engine.errors import InvalidOrder
from engine.markets import Market, MarketCatalog
from engine.precision import Precision
from tests.engine.engine_support import Account

BTC = "BTC/USDT"


@pytest.fixture
def account() -> Account:
    return Account({"USDT": 100_000.0, "BTC": 1.0})


# -- rule 1: market orders -------------------------------------------------------------------

def test_market_buy_fills_at_the_ask_of_the_next_point_as_taker(account: Account) -> None:
    account.point(BTC, 60_000, bid=59_990, ask=60_010)
    order = account.engine.place(BTC, "buy", "market", 0.5)
    assert order.status == "open" and not account.engine.trades  # not at the point it was placed after
    assert account.point(BTC, 61_000, bid=60_990, ask=61_010) == 1
    trade = account.engine.trades[0]
    assert (trade.price, trade.amount, trade.taker) == (61_010, 0.5, True)
    assert trade.fee_cost == pytest.approx(61_010 * 0.5 * 0.001) and trade.fee_currency == "USDT"
    assert order.status == "closed" and order.filled == 0.5 and order.cost == 61_010 * 0.5
    assert account.total("BTC") == 1.5
    assert account.total("USDT") == 100_000.0 - (61_010 * 0.5 + trade.fee_cost)


def test_market_sell_fills_at_the_bid(account: Account) -> None:
    account.point(BTC, 60_000)
    account.engine.place(BTC, "sell", "market", 0.25)
    account.point(BTC, 59_000, bid=58_990, ask=59_010)
    assert account.engine.trades[0].price == 58_990
    assert account.total("BTC") == 0.75


def test_market_order_before_any_price_fills_at_the_first_point(account: Account) -> None:
    order = account.engine.place(BTC, "buy", "market", 0.1)
    assert order.reserved == 0.0  # nothing to price the reservation with yet
    account.point(BTC, 50_000)
    assert order.status == "closed" and account.engine.trades[0].price == 50_000


def test_slippage_worsens_market_fills_by_bps_rounded_to_the_tick() -> None:
    account = Account({"USDT": 100_000.0, "BTC": 1.0}, slippage_bps=10)
    account.point(BTC, 60_000)
    account.engine.place(BTC, "buy", "market", 0.1)
    account.engine.place(BTC, "sell", "market", 0.1, slippage_bps=25)
    account.point(BTC, 60_000.05)
    buy, sell = account.engine.trades
    assert buy.price == 60_060.05  # 60000.05 * 1.001 = 60060.05005, rounded to the 0.01 tick
    assert sell.price == 59_850.05  # 60000.05 * 0.9975 = 59850.049875


# -- rule 2: resting limits ------------------------------------------------------------------

def test_resting_buy_limit_fills_at_its_own_price_as_maker_when_the_ask_reaches_it(account: Account) -> None:
    account.point(BTC, 60_000)
    order = account.engine.place(BTC, "buy", "limit", 0.1, 59_000)
    assert order.status == "open"
    account.point(BTC, 59_500, continuous=True)
    assert order.status == "open"
    account.point(BTC, 58_500, bid=58_400, ask=58_600, continuous=True)
    trade = account.engine.trades[0]
    assert (trade.price, trade.taker) == (59_000, False)
    assert trade.fee_rate == account.markets.market(BTC).maker


def test_resting_sell_limit_fills_when_the_bid_reaches_it(account: Account) -> None:
    account.point(BTC, 60_000)
    order = account.engine.place(BTC, "sell", "limit", 0.1, 61_000)
    account.point(BTC, 61_005, bid=60_995, ask=61_015, continuous=True)  # last above, bid below: not yet
    assert order.status == "open"
    account.point(BTC, 61_020, bid=61_010, ask=61_030, continuous=True)
    assert order.status == "closed" and account.engine.trades[0].price == 61_000


def test_bar_opening_through_a_resting_limit_fills_at_the_open(account: Account) -> None:
    account.point(BTC, 60_000)
    buy = account.engine.place(BTC, "buy", "limit", 0.1, 59_000)
    sell = account.engine.place(BTC, "sell", "limit", 0.1, 62_000)
    account.bar(BTC, 58_000, 58_500, 57_000, 58_200)  # gaps down through 59000
    assert buy.status == "closed" and buy.trades[0].price == 58_000 and not buy.trades[0].taker
    account.bar(BTC, 62_500, 63_000, 62_400, 62_800)
    assert sell.trades[0].price == 62_500


def test_bar_trading_through_a_resting_limit_fills_at_the_limit(account: Account) -> None:
    account.point(BTC, 60_000)
    buy = account.engine.place(BTC, "buy", "limit", 0.1, 59_000)
    account.bar(BTC, 60_000, 60_100, 58_000, 59_500)
    assert buy.trades[0].price == 59_000


def test_live_ticks_are_gaps_a_tick_through_a_limit_fills_at_the_tick(account: Account) -> None:
    account.point(BTC, 60_000, bid=59_990, ask=60_010)
    buy = account.engine.place(BTC, "buy", "limit", 0.1, 59_000)
    account.point(BTC, 58_800, bid=58_790, ask=58_810)
    assert buy.trades[0].price == 58_810


# -- rule 3: limits through the price when placed --------------------------------------------

def test_limit_through_the_price_fills_at_once_at_that_price_as_taker(account: Account) -> None:
    account.point(BTC, 60_000, bid=59_990, ask=60_010)
    account.clock.advance(5000)
    buy = account.engine.place(BTC, "buy", "limit", 0.1, 61_000)
    assert buy.status == "closed"
    trade = buy.trades[0]
    assert (trade.price, trade.taker, trade.timestamp) == (60_010, True, account.clock.now_ms())
    sell = account.engine.place(BTC, "sell", "limit", 0.1, 59_000)
    assert sell.trades[0].price == 59_990


def test_ioc_and_fok_limits_are_cancelled_when_not_marketable(account: Account) -> None:
    account.point(BTC, 60_000)
    for tif in ("IOC", "FOK"):
        order = account.engine.place(BTC, "buy", "limit", 0.1, 59_000, time_in_force=tif)
        assert order.status == "canceled" and tif in (order.reason or "")
    assert account.used("USDT") == 0.0
    filled = account.engine.place(BTC, "buy", "limit", 0.1, 60_500, time_in_force="IOC")
    assert filled.status == "closed"


def test_post_only_refuses_a_limit_that_would_fill_at_once(account: Account) -> None:
    account.point(BTC, 60_000)
    with pytest.raises(InvalidOrder) as caught:
        account.engine.place(BTC, "buy", "limit", 0.1, 60_500, post_only=True)
    assert caught.value.details["price"] == 60_500
    assert not account.engine.orders
    resting = account.engine.place(BTC, "buy", "limit", 0.1, 59_500, time_in_force="PO")
    assert resting.status == "open" and resting.post_only


# -- rule 4: stops ---------------------------------------------------------------------------

def test_stop_loss_sell_triggers_on_last_not_on_the_bid(account: Account) -> None:
    account.point(BTC, 60_000)
    stop = account.engine.place(BTC, "sell", "market", 0.5, trigger_price=59_000, trigger_kind="stopLoss")
    assert stop.trigger_above is False
    account.point(BTC, 59_100, bid=58_900, ask=59_300)
    assert stop.status == "open" and not stop.triggered
    account.point(BTC, 58_950, bid=58_940, ask=58_960)  # a gap through the trigger: the bid of this tick
    assert stop.triggered and stop.trades[0].price == 58_940 and stop.trades[0].taker
    assert [r["action"] for r in account.records if r["event"] == "order"] == ["created", "triggered", "filled"]


def test_stop_market_passed_through_inside_a_bar_fills_at_the_trigger(account: Account) -> None:
    account.point(BTC, 60_000)
    stop = account.engine.place(BTC, "sell", "market", 0.5, trigger_price=59_000, trigger_kind="stopLoss")
    account.bar(BTC, 60_000, 60_200, 58_000, 58_500)
    assert stop.trades[0].price == 59_000


def test_stop_gapped_through_at_the_open_fills_at_the_open(account: Account) -> None:
    account.point(BTC, 60_000)
    stop = account.engine.place(BTC, "sell", "market", 0.5, trigger_price=59_000, trigger_kind="stopLoss")
    account.bar(BTC, 57_500, 58_000, 57_000, 57_800)
    assert stop.trades[0].price == 57_500


@pytest.mark.parametrize(("side", "kind", "above"), [
    ("sell", "stopLoss", False), ("sell", "takeProfit", True), ("buy", "stopLoss", True), ("buy", "takeProfit", False),
])
def test_stop_kinds_trigger_in_their_direction(account: Account, side: str, kind: str, above: bool) -> None:
    account.point(BTC, 60_000)
    level = 61_000 if above else 59_000
    stop = account.engine.place(BTC, side, "market", 0.1, trigger_price=level, trigger_kind=kind)
    assert stop.trigger_above is above
    account.point(BTC, 59_500 if above else 60_500)  # away from the level: nothing
    assert not stop.triggered
    account.point(BTC, level)
    assert stop.status == "closed"


def test_plain_trigger_direction_comes_from_the_last_price_or_is_given(account: Account) -> None:
    with pytest.raises(InvalidOrder, match="triggerDirection"):
        account.engine.place(BTC, "buy", "market", 0.1, trigger_price=61_000)
    account.point(BTC, 60_000)
    up = account.engine.place(BTC, "buy", "market", 0.1, trigger_price=61_000)
    down = account.engine.place(BTC, "buy", "market", 0.1, trigger_price=59_000)
    given = account.engine.place(BTC, "buy", "market", 0.1, trigger_price=59_000, trigger_above=True)
    assert (up.trigger_above, down.trigger_above, given.trigger_above) == (True, False, True)
    assert given.status == "open"
    account.point(BTC, 60_100)  # the stop said "above 59000" and last is above: it triggers
    assert given.status == "closed" and up.status == "open" and down.status == "open"


def test_stop_limit_rests_as_a_limit_once_triggered(account: Account) -> None:
    account.point(BTC, 60_000)
    order = account.engine.place(BTC, "buy", "limit", 0.1, 60_400, trigger_price=60_500)
    assert order.trigger_above is True
    account.point(BTC, 60_600, bid=60_590, ask=60_610)  # triggers; the ask is above the limit: rests
    assert order.triggered and order.status == "open"
    account.point(BTC, 60_380, bid=60_370, ask=60_390, continuous=True)
    assert order.trades[0].price == 60_400 and not order.trades[0].taker


def test_stop_limit_marketable_at_the_trigger_fills_there_as_taker(account: Account) -> None:
    account.point(BTC, 60_000)
    order = account.engine.place(BTC, "sell", "limit", 0.1, 58_900, trigger_price=59_000, trigger_kind="stopLoss")
    account.bar(BTC, 60_000, 60_100, 58_000, 58_200)
    assert order.trades[0].price == 59_000 and order.trades[0].taker


# -- points of a bar and the order of fills ---------------------------------------------------

def test_a_bar_is_open_then_the_nearer_extreme_then_the_farther_then_close(account: Account) -> None:
    account.point(BTC, 60_000)
    buy = account.engine.place(BTC, "buy", "limit", 0.1, 59_000)
    sell = account.engine.place(BTC, "sell", "limit", 0.1, 61_000)
    account.bar(BTC, 60_000, 61_500, 58_000, 60_000)  # the high is nearer the open
    assert [t.order_id for t in account.engine.trades] == [sell.id, buy.id]
    account2 = Account({"USDT": 100_000.0, "BTC": 1.0})
    account2.point(BTC, 60_000)
    buy2 = account2.engine.place(BTC, "buy", "limit", 0.1, 59_000)
    sell2 = account2.engine.place(BTC, "sell", "limit", 0.1, 61_000)
    account2.bar(BTC, 60_000, 62_000, 58_000, 60_000)  # a tie: the low first
    assert [t.order_id for t in account2.engine.trades] == [buy2.id, sell2.id]


def test_orders_reached_at_one_point_fill_market_first_then_by_distance(account: Account) -> None:
    account.point(BTC, 60_000)
    far = account.engine.place(BTC, "buy", "limit", 0.1, 58_000)
    near = account.engine.place(BTC, "buy", "limit", 0.1, 59_500)
    stop = account.engine.place(BTC, "sell", "market", 0.1, trigger_price=59_000, trigger_kind="stopLoss")
    market = account.engine.place(BTC, "buy", "market", 0.1)
    account.point(BTC, 57_000, continuous=True)
    assert [t.order_id for t in account.engine.trades] == [market.id, near.id, stop.id, far.id]


def test_every_fill_inside_a_bar_is_a_price_the_bar_reached(account: Account) -> None:
    account.point(BTC, 60_000)
    account.engine.place(BTC, "buy", "limit", 0.1, 59_123.45)
    account.engine.place(BTC, "sell", "market", 0.1, trigger_price=58_000, trigger_kind="stopLoss")
    account.engine.place(BTC, "buy", "market", 0.1)
    account.bar(BTC, 59_900, 60_050, 57_000, 57_500)
    assert len(account.engine.trades) == 3
    assert all(57_000 <= t.price <= 60_050 for t in account.engine.trades)


# -- fees ------------------------------------------------------------------------------------

def _market(fee_side: str) -> MarketCatalog:
    return MarketCatalog([Market("ETH/USDT", "ETH", "USDT", amount_precision=Precision(0.0001),
                                 price_precision=Precision(0.01), maker=0.001, taker=0.002, fee_side=fee_side)],
                         exchange_id="binance")


@pytest.mark.parametrize(("fee_side", "buy_fee_in", "sell_fee_in"), [
    ("quote", "USDT", "USDT"), ("get", "ETH", "USDT"), ("give", "USDT", "ETH"), ("base", "ETH", "ETH"),
])
def test_fees_follow_ccxt_fee_side(fee_side: str, buy_fee_in: str, sell_fee_in: str) -> None:
    account = Account({"USDT": 10_000.0, "ETH": 10.0}, markets=_market(fee_side))
    account.point("ETH/USDT", 2000)
    account.engine.place("ETH/USDT", "buy", "market", 1)
    account.engine.place("ETH/USDT", "sell", "market", 1)
    account.point("ETH/USDT", 2000)
    buy, sell = account.engine.trades
    assert (buy.fee_currency, sell.fee_currency) == (buy_fee_in, sell_fee_in)
    for trade in (buy, sell):
        assert trade.fee_cost == pytest.approx(0.002 * (2000 if trade.fee_currency == "USDT" else 1))
    fees = {"USDT": 0.0, "ETH": 0.0}
    for trade in (buy, sell):
        fees[trade.fee_currency] += trade.fee_cost
    assert account.total("USDT") == pytest.approx(10_000 - fees["USDT"], abs=1e-9)
    assert account.total("ETH") == pytest.approx(10 - fees["ETH"], abs=1e-12)


def test_engine_fee_rates_override_the_markets() -> None:
    account = Account({"USDT": 10_000.0}, maker=0.0, taker=0.0005)
    account.point(BTC, 50_000)
    account.engine.place(BTC, "buy", "market", 0.01)
    account.engine.place(BTC, "buy", "limit", 0.01, 49_000)
    account.point(BTC, 48_000, continuous=True)
    taker, maker = account.engine.trades
    assert (taker.fee_rate, maker.fee_rate, maker.fee_cost) == (0.0005, 0.0, 0.0)

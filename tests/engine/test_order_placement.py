"""Placing orders: precision and limits, reservations, clientOrderId, sizing by cost, owners."""

from __future__ import annotations

import math

import pytest

from engine.errors import InsufficientBalance, InvalidOrder, InvalidSymbol, OrderNotFound
from engine.markets import Market, MarketCatalog
from engine.matching import ALL_IN
from engine.precision import Precision
from engine.sim_markets import sim_catalog
from tests.engine.engine_support import START_MS, Account

BTC = "BTC/USDT"


@pytest.fixture
def account() -> Account:
    account = Account({"USDT": 10_000.0, "BTC": 1.0})
    account.point(BTC, 60_000)
    return account


# -- precision and limits --------------------------------------------------------------------

def test_amounts_are_truncated_and_prices_rounded(account: Account) -> None:
    order = account.engine.place(BTC, "buy", "limit", 0.0123456789, 50_000.126)
    assert (order.amount, order.price) == (0.01234, 50_000.13)
    stop = account.engine.place(BTC, "sell", "market", 0.019999, trigger_price=55_000.004, trigger_kind="stopLoss")
    assert (stop.amount, stop.trigger_price) == (0.01999, 55_000.0)


def test_minimum_amount_is_checked_after_truncation(account: Account) -> None:
    with pytest.raises(InvalidOrder, match="truncates to 0") as caught:
        account.engine.place(BTC, "buy", "limit", 0.000009, 50_000)
    assert caught.value.details["amount"] == 0.000009
    market = MarketCatalog([Market("X/USDT", "X", "USDT", amount_precision=Precision(0.1), price_precision=Precision(0.01),
                                   min_amount=1.0, max_amount=100.0)])
    other = Account({"USDT": 10_000.0}, markets=market)
    with pytest.raises(InvalidOrder, match="outside") as caught:
        other.engine.place("X/USDT", "buy", "limit", 1.09 - 0.1, 10)  # 0.99 truncates to 0.9 < 1
    assert caught.value.details["minAmount"] == 1.0 and caught.value.details["amount"] == 0.9
    with pytest.raises(InvalidOrder, match="outside"):
        other.engine.place("X/USDT", "buy", "limit", 100.1, 10)


def test_minimum_cost_is_checked_after_rounding(account: Account) -> None:
    # 0.0001 * 50_004 = 5.0004 >= 5 before rounding the amount; 0.00009999 truncates to 0.00009: 4.5 < 5
    with pytest.raises(InvalidOrder, match="minimum cost") as caught:
        account.engine.place(BTC, "buy", "limit", 0.00009999, 50_004)
    assert caught.value.details["minCost"] == 5.0 and caught.value.details["amount"] == 0.00009
    with pytest.raises(InvalidOrder, match="minimum cost"):
        account.engine.place(BTC, "sell", "market", 0.00008)  # against the last bid
    with pytest.raises(InvalidOrder, match="minimum cost"):
        account.engine.place(BTC, "buy", "market", cost=4.99)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"side": "hold"}, "side"), ({"type": "stop"}, "type"), ({"amount": -1}, "positive"), ({"amount": math.nan}, "positive"),
    ({"amount": "lots"}, "number"), ({"amount": None}, "required"), ({"price": None}, "price is required"),
    ({"price": 0.001}, "rounds to 0"), ({"price": math.inf}, "positive"), ({"time_in_force": "DAY"}, "timeInForce"),
])
def test_bad_orders_are_invalid_and_place_nothing(account: Account, kwargs: dict, message: str) -> None:
    order = {"symbol": BTC, "side": "buy", "type": "limit", "amount": 0.1, "price": 50_000, **kwargs}
    with pytest.raises(InvalidOrder, match=message) as caught:
        account.engine.place(**order)
    assert caught.value.code == "INVALID_ORDER" and caught.value.details["symbol"] == BTC
    assert not account.engine.orders and account.used("USDT") == 0.0


def test_unknown_symbols_are_invalid_with_suggestions(account: Account) -> None:
    with pytest.raises(InvalidSymbol) as caught:
        account.engine.place("BTC/USDX", "buy", "market", 0.1)
    assert caught.value.code == "INVALID_SYMBOL" and "BTC/USDT" in caught.value.details["suggestions"]
    by_id = account.engine.place("BTCUSDT", "buy", "limit", 0.1, 50_000)
    assert by_id.symbol == BTC


def test_only_active_markets_and_contracts_of_one_take_orders() -> None:
    catalog = MarketCatalog([
        Market("BTC/USDT:USDT", "BTC", "USDT", type="swap", settle="USDT", amount_precision=Precision(0.001),
               price_precision=Precision(0.1), contract_size=0.001),
        Market("OLD/USDT", "OLD", "USDT", active=False, amount_precision=Precision(1), price_precision=Precision(0.01)),
    ])
    account = Account({"USDT": 1000.0}, markets=catalog)
    with pytest.raises(InvalidOrder, match="only 1 is simulated"):
        account.engine.place("BTC/USDT:USDT", "buy", "limit", 0.01, 50_000)
    with pytest.raises(InvalidOrder, match="not active"):
        account.engine.place("OLD/USDT", "buy", "limit", 1, 10)


def test_orders_carry_the_market_clock_time(account: Account) -> None:
    account.clock.set(START_MS + 123_456)
    order = account.engine.place(BTC, "buy", "limit", 0.1, 50_000)
    assert order.timestamp == START_MS + 123_456 == order.to_ccxt()["timestamp"]


# -- reservations ----------------------------------------------------------------------------

def test_open_orders_reserve_cost_and_fee_and_release_on_cancel(account: Account) -> None:
    buy = account.engine.place(BTC, "buy", "limit", 0.1, 50_000)
    assert buy.reserved == 5_000 + 5_000 * 0.001 == account.used("USDT")  # cost + fee at the larger rate
    assert account.free("USDT") == 10_000 - account.used("USDT")
    sell = account.engine.place(BTC, "sell", "limit", 0.4, 70_000)
    assert account.used("BTC") == 0.4 and account.free("BTC") == 0.6
    account.engine.cancel(buy.id)
    account.engine.cancel(sell.id)
    assert (account.used("USDT"), account.free("USDT"), account.used("BTC")) == (0.0, 10_000.0, 0.0)
    assert [r["action"] for r in account.records if r["event"] == "order"] == ["created"] * 2 + ["canceled"] * 2


def test_insufficient_balance_says_what_was_needed_and_available(account: Account) -> None:
    account.engine.place(BTC, "buy", "limit", 0.1, 50_000)  # 5005 reserved
    with pytest.raises(InsufficientBalance) as caught:
        account.engine.place(BTC, "buy", "limit", 0.1, 50_000)
    details = caught.value.details
    assert caught.value.code == "INSUFFICIENT_BALANCE"
    assert details["currency"] == "USDT" and details["needed"] == 5005.0 and details["available"] == 10_000 - 5005.0
    assert len(account.engine.orders) == 1
    with pytest.raises(InsufficientBalance, match="BTC"):
        account.engine.place(BTC, "sell", "market", 1.5)


def test_cancel_errors(account: Account) -> None:
    with pytest.raises(OrderNotFound):
        account.engine.cancel("999")
    order = account.engine.place(BTC, "buy", "limit", 0.1, 61_000)  # fills at once
    with pytest.raises(InvalidOrder) as caught:
        account.engine.cancel(order.id)
    assert caught.value.details["status"] == "closed"


def test_a_market_buy_the_gap_makes_unaffordable_is_cancelled_with_a_reason() -> None:
    account = Account({"USDT": 6_100.0})
    account.point(BTC, 60_000)
    order = account.engine.place(BTC, "buy", "market", 0.1)  # reserves 6006.006
    account.point(BTC, 65_000)  # needs 6506.5
    assert order.status == "canceled" and "insufficient USDT" in (order.reason or "")
    assert (account.total("USDT"), account.used("USDT"), account.engine.trades) == (6_100.0, 0.0, [])


# -- clientOrderId ---------------------------------------------------------------------------

def test_a_second_create_with_the_same_client_order_id_returns_the_first(account: Account) -> None:
    first = account.engine.place(BTC, "buy", "limit", 0.1, 50_000, client_order_id="bot-1-grid-3")
    again = account.engine.place(BTC, "buy", "limit", 0.2, 51_000, client_order_id="bot-1-grid-3")
    assert again is first and first.amount == 0.1 and len(account.engine.orders) == 1
    account.engine.cancel(first.id)
    assert account.engine.place(BTC, "buy", "limit", 0.1, 50_000, client_order_id="bot-1-grid-3") is first
    with pytest.raises(InvalidOrder, match="already used") as caught:
        account.engine.place(BTC, "sell", "limit", 0.1, 70_000, client_order_id="bot-1-grid-3")
    assert caught.value.details["existingOrderId"] == first.id


def test_client_order_ids_are_assigned_and_the_auto_prefix_is_reserved(account: Account) -> None:
    a = account.engine.place(BTC, "buy", "limit", 0.01, 50_000)
    b = account.engine.place(BTC, "buy", "limit", 0.01, 50_000)
    assert a.client_order_id != b.client_order_id and a.client_order_id.startswith("auto-")
    assert account.engine.order_by_client_id(b.client_order_id) is b
    with pytest.raises(InvalidOrder, match="reserved"):
        account.engine.place(BTC, "buy", "limit", 0.1, 50_000, client_order_id="auto-77")


# -- sizing by cost and whole units ----------------------------------------------------------

def test_a_cost_buy_resolves_its_amount_at_the_fill_price_fee_included(account: Account) -> None:
    order = account.engine.place(BTC, "buy", "market", cost=1_000)
    assert order.reserved == 1_000 and math.isnan(order.amount)
    account.point(BTC, 40_000)
    trade = order.trades[0]
    assert trade.amount == 0.02497  # 1000 / (40000 * 1.001) = 0.024975..., truncated to 0.00001
    assert trade.cost + trade.fee_cost <= 1_000
    assert account.total("USDT") == 10_000 - (trade.cost + trade.fee_cost)


def test_all_in_whole_units_like_backtesting_py() -> None:
    account = Account({"USDT": 10_000.0}, amount_step=1.0)
    account.point("ETH/USDT", 3_000)
    cash = account.free("USDT")
    order = account.engine.place("ETH/USDT", "buy", "market", cost=cash * ALL_IN)
    account.point("ETH/USDT", 3_210.55)
    # backtesting.py: size = int(margin_available * F // (price + (F * price * commission) / F)), F = 1 - 2**-52
    assert order.amount == int(cash * ALL_IN // (3_210.55 + (ALL_IN * 3_210.55 * 0.001) / ALL_IN)) == 3
    spent = order.cost + order.fee_cost
    assert account.total("USDT") == 10_000 - spent and account.total("ETH") == 3.0


def test_a_cost_order_that_can_not_buy_one_whole_unit_is_cancelled_not_filled() -> None:
    account = Account({"USDT": 10_000.0}, amount_step=1.0)
    account.point("ETH/USDT", 3_000)
    order = account.engine.place("ETH/USDT", "buy", "market", cost=2_990)
    account.point("ETH/USDT", 2_995)  # one unit costs 2995 + 2.995 fee > 2990
    assert order.status == "canceled" and "minimum amount" in (order.reason or "")
    assert account.total("USDT") == 10_000.0 and account.used("USDT") == 0.0 and not account.engine.trades


def test_an_all_in_budget_never_overdraws() -> None:
    account = Account({"USDT": 1_234.5678})
    account.point("SOL/USDT", 150)
    order = account.engine.place("SOL/USDT", "buy", "market", cost=account.free("USDT"))
    account.point("SOL/USDT", 149.937)
    assert order.status == "closed" and account.total("USDT") >= 0.0
    assert order.cost + order.fee_cost <= 1_234.5678


def test_amount_step_per_order_and_per_account() -> None:
    account = Account({"USDT": 100_000.0}, amount_step=1.0)
    account.point("ETH/USDT", 3_000)
    assert account.engine.place("ETH/USDT", "buy", "limit", 2.7, 2_900).amount == 2.0
    assert account.engine.place("ETH/USDT", "buy", "limit", 2.7, 2_900, amount_step=0.5).amount == 2.5
    assert account.engine.place("ETH/USDT", "buy", "limit", 2.7, 2_900, amount_step=0.0).amount == 2.7
    with pytest.raises(InvalidOrder, match="step"):
        account.engine.place("ETH/USDT", "buy", "limit", 0.7, 2_900)
    with pytest.raises(InvalidOrder, match="market buys"):
        account.engine.place("ETH/USDT", "sell", "market", cost=100)


# -- owners ----------------------------------------------------------------------------------

def test_each_owner_sells_only_its_own_position() -> None:
    account = Account({"USDT": 100_000.0})
    account.point(BTC, 50_000)
    account.engine.place(BTC, "buy", "market", 0.2, owner="alice")
    account.engine.place(BTC, "buy", "market", 0.1, owner="bob")
    account.point(BTC, 50_000)
    with pytest.raises(InsufficientBalance) as caught:
        account.engine.place(BTC, "sell", "market", 0.15, owner="bob")
    assert caught.value.details["owner"] == "bob" and caught.value.details["available"] == 0.1
    account.engine.place(BTC, "sell", "limit", 0.1, 60_000, owner="bob")
    with pytest.raises(InsufficientBalance):  # bob's 0.1 is reserved by his open sell
        account.engine.place(BTC, "sell", "market", 0.05, owner="bob")
    account.engine.place(BTC, "sell", "market", 0.2, owner="alice")
    account.point(BTC, 55_000)
    assert account.engine.position("alice", BTC).amount == 0.0
    assert account.engine.position("bob", BTC).amount == 0.1
    assert account.total("BTC") == pytest.approx(0.1)


def test_average_cost_pnl_per_owner() -> None:
    account = Account({"USDT": 100_000.0})
    account.point("ETH/USDT", 100)
    for price in (100, 200):
        account.engine.place("ETH/USDT", "buy", "market", 1, owner="t1")
        account.point("ETH/USDT", price)
    position = account.engine.position("t1", "ETH/USDT")
    assert position.amount == 2 and position.cost == pytest.approx(300 * 1.001)
    assert position.average_cost == pytest.approx(150 * 1.001)
    account.engine.place("ETH/USDT", "sell", "market", 1, owner="t1")
    account.point("ETH/USDT", 300)
    assert position.amount == 1 and position.cost == pytest.approx(150 * 1.001)
    assert position.realized_pnl == pytest.approx(300 * 0.999 - 150 * 1.001)
    assert position.fees == pytest.approx(0.1 + 0.2 + 0.3)
    account.engine.place("ETH/USDT", "sell", "market", 1, owner="t1")
    account.point("ETH/USDT", 90)
    assert position.amount == 0 and position.cost == 0
    assert position.realized_pnl == pytest.approx(300 * 0.999 + 90 * 0.999 - 300 * 1.001)
    assert position.to_dict()["averageCost"] is None


def test_orders_without_owner_move_balances_only() -> None:
    account = Account({"USDT": 10_000.0, "BTC": 1.0})
    account.point(BTC, 50_000)
    account.engine.place(BTC, "sell", "market", 0.5)
    account.point(BTC, 50_000)
    assert account.engine.positions == {} and account.total("BTC") == 0.5


def test_sim_catalog_is_independent_per_call() -> None:
    first, second = sim_catalog(), sim_catalog()
    first.add(Market("NEW/USDT", "NEW", "USDT", amount_precision=Precision(1), price_precision=Precision(0.01)))
    assert "NEW/USDT" in first and "NEW/USDT" not in second


def test_all_in_sizes_equal_backtesting_py_s_at_an_exact_tie() -> None:
    """backtesting.py's per-unit price `p + (F * p * c) / F` is one ulp below `p + p * c` here,
    and the budget is exactly 40 of its units: it buys 40, and so must we (`p + p * c` gives 39)."""
    price, rate, cash = 222.66, 0.00075, 8913.079800000001
    assert (cash * ALL_IN) // (price + price * rate) == 39
    markets = MarketCatalog([Market("ABC/USD", "ABC", "USD", amount_precision=Precision(1.0),
                                    price_precision=Precision(0.01), maker=rate, taker=rate)])
    account = Account({"USD": cash}, markets=markets, amount_step=1.0)
    account.point("ABC/USD", 200)
    order = account.engine.place("ABC/USD", "buy", "market", cost=account.free("USD") * ALL_IN)
    account.point("ABC/USD", price)
    assert order.status == "closed" and order.amount == 40

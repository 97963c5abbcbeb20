"""The ledger: free/used/total, reservations, exact checks, and orders racing for the same funds."""

from __future__ import annotations

import asyncio
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.clock import ManualClock
from engine.errors import InsufficientBalance
from engine.ledger import Ledger, Reservations, exact
from engine.sim_exchange import SimExchange


def test_reserve_release_free_used_total() -> None:
    ledger = Ledger({"USDT": 100.0})
    ledger.reserve("1", "USDT", 30.0)
    ledger.reserve("2", "USDT", 50.0)
    assert (ledger.free("USDT"), ledger.used("USDT"), ledger.total("USDT")) == (20.0, 80.0, 100.0)
    assert ledger.release("1", "USDT") == 30.0 and ledger.release("1", "USDT") == 0.0
    assert ledger.balances() == {"USDT": (50.0, 50.0, 100.0)}
    ledger.reserve("2", "USDT", 100.0)  # replacing its own reservation may use what it held
    assert ledger.free("USDT") == 0.0 and ledger.reserved("2", "USDT") == 100.0


def test_a_reservation_beyond_the_free_amount_is_refused_and_changes_nothing() -> None:
    ledger = Ledger({"BTC": 1.0})
    ledger.reserve("1", "BTC", 0.7)
    with pytest.raises(InsufficientBalance) as caught:
        ledger.reserve("2", "BTC", 0.3000000000000001, context={"symbol": "BTC/USDT"})  # 1.0 - 0.7 leaves 0.30000000000000004
    assert caught.value.details == {"currency": "BTC", "symbol": "BTC/USDT", "needed": 0.3000000000000001,
                                    "available": 1.0 - 0.7}
    assert ledger.used("BTC") == 0.7 and ledger.reserved("2", "BTC") == 0.0
    with pytest.raises(InsufficientBalance):
        ledger.reserve("3", "ETH", 1e-300)  # nothing at all of a currency never seen


def test_checks_are_exact_where_floats_would_round() -> None:
    # 0.1 + 0.2 reserved out of 0.30000000000000004: the float sum says 0.30000000000000004 fits; exactly it does
    ledger = Ledger({"X": 0.1 + 0.2})
    ledger.reserve("a", "X", 0.1)
    ledger.reserve("b", "X", 0.2)
    assert ledger.free("X") >= 0.0
    with pytest.raises(InsufficientBalance):
        ledger.reserve("c", "X", 5e-17)  # 0.30000000000000004 - 0.1 - 0.2 is 2.77e-17 exactly
    ledger.reserve("c", "X", 2e-17)
    assert 0.0 <= ledger.used("X") <= ledger.total("X")


def test_transfer_pays_from_the_reservation_and_the_free_amount_or_changes_nothing() -> None:
    ledger = Ledger({"USDT": 100.0})
    ledger.reserve("buy", "USDT", 60.0)
    ledger.reserve("other", "USDT", 30.0)
    assert not ledger.transfer("buy", "USDT", 70.0 + 1e-9, "BTC", 0.001)  # 60 reserved + 10 free
    assert ledger.balances() == {"USDT": (10.0, 90.0, 100.0)}
    assert ledger.transfer("buy", "USDT", 70.0, "BTC", 0.001)
    assert ledger.balances() == {"USDT": (0.0, 30.0, 30.0), "BTC": (0.001, 0.0, 0.001)}


def test_credits_must_be_finite_and_non_negative() -> None:
    ledger = Ledger()
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError):
            ledger.credit("X", bad)


@settings(max_examples=300, deadline=None)
@given(st.floats(0.0, 1e6), st.lists(st.floats(0.0, 1e5), max_size=12), st.randoms(use_true_random=False))
def test_used_is_the_correctly_rounded_sum_whatever_the_order(total: float, amounts: list[float], rnd) -> None:
    forward, shuffled = Ledger({"X": total}), Ledger({"X": total})
    accepted = []
    for i, amount in enumerate(amounts):
        try:
            forward.reserve(str(i), "X", amount)
            accepted.append(i)
        except InsufficientBalance:
            assert math.fsum([total, -amount, *(-amounts[j] for j in accepted)]) < 0
        assert 0.0 <= forward.used("X") <= forward.total("X") and forward.free("X") >= 0.0
    order = list(accepted)
    rnd.shuffle(order)
    for i in order:
        shuffled.reserve(str(i), "X", amounts[i])
    assert forward.used("X") == shuffled.used("X") == math.fsum(amounts[i] for i in accepted)
    for i in accepted[::2]:
        forward.release(str(i), "X")
    assert forward.used("X") == math.fsum(amounts[i] for i in accepted[1::2])


async def test_orders_racing_for_the_same_funds_never_overdraw() -> None:
    exchange = SimExchange(clock=ManualClock(0), balances={"USDT": 10_000.0})
    exchange.on_price("BTC/USDT", 0, 50_000, 50_000, 50_000)
    # each wants 60% of the account; started together, as two bots would
    results = await asyncio.gather(
        *(exchange.create_order("BTC/USDT", "limit", "buy", 0.12, 50_000) for _ in range(2)),
        *(exchange.create_order("BTC/USDT", "market", "buy", None, None, {"cost": 6_000}) for _ in range(2)),
        return_exceptions=True)
    placed = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, InsufficientBalance)]
    assert len(placed) == 1 and len(refused) == 3
    balance = await exchange.fetch_balance()
    assert balance["USDT"]["used"] <= balance["USDT"]["total"] and balance["USDT"]["free"] >= 0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["hold", "drop"]), st.integers(0, 6),
                          st.one_of(st.floats(0.0, 1e9), st.floats(0.0, 1e-6), st.sampled_from([0.1, 0.2, 0.3]))),
                max_size=40),
       st.floats(0.0, 1e9), st.floats(0.0, 1e9), st.integers(0, 7))
def test_reservations_sum_and_room_are_exact(operations: list, total: float, amount: float, exclude: int) -> None:
    reservations, held = Reservations(), {}
    for action, key, value in operations:
        if action == "hold":
            reservations.hold(str(key), value)
            held[str(key)] = value
        else:
            assert reservations.drop(str(key)) == held.pop(str(key), 0.0)
        assert reservations.total == math.fsum(held.values()) and len(reservations) == len(held)
    others = [v for k, v in held.items() if k != str(exclude)]
    assert reservations.room(total, amount, str(exclude)) == (math.fsum([total, -amount, *(-v for v in others)]) >= 0)
    kept = exact(0.1)
    assert reservations.room(total, amount, str(exclude), kept) == (
        math.fsum([total, -amount, -0.1, *(-v for v in others)]) >= 0)


def test_many_open_orders_cost_no_more_per_reservation() -> None:
    ledger = Ledger({"USDT": 1e9})
    for i in range(20_000):  # each check and sum is O(1): this would be quadratic with sums over the orders
        ledger.reserve(str(i), "USDT", 0.1 + i)
    assert ledger.used("USDT") == math.fsum(0.1 + i for i in range(20_000))
    assert ledger.transfer("7", "USDT", 7.1, "BTC", 1.0) and ledger.reserved("7", "USDT") == 0.0


def test_fills_within_their_reservations_never_round_the_total_below_what_is_still_reserved() -> None:
    # Found by the grid's property test: five sells of 0.22246997 reserve a total of five buys
    # exactly, but each payment rounds `total - pay`, and the last one used to leave -5.6e-17.
    amount, count = 0.22246997, 5
    ledger = Ledger()
    for _ in range(count):
        ledger.credit("BTC", amount)
    for k in range(count):
        ledger.reserve(str(k), "BTC", amount)
    for k in range(count):
        assert ledger.transfer(str(k), "BTC", amount, "USDT", 1.0)
        free, used, total = ledger.balances()["BTC"]
        assert free >= 0.0 and total >= used >= 0.0
    assert ledger.total("BTC") >= 0.0 and ledger.used("BTC") == 0.0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(1e-8, 10.0), min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_paying_every_reservation_in_any_order_leaves_nothing_negative(amounts: list[float], order: object) -> None:
    ledger = Ledger()
    for amount in amounts:
        ledger.credit("BTC", amount)
    paying = []
    for k, amount in enumerate(amounts):
        try:
            ledger.reserve(str(k), "BTC", amount)
        except InsufficientBalance:  # the credits' rounded sum can be an ulp short of the last one
            continue
        paying.append((k, amount))
    order.shuffle(paying)  # type: ignore[attr-defined]
    for k, amount in paying:
        assert ledger.transfer(str(k), "BTC", amount, "USDT", 1.0)
        free, used, total = ledger.balances()["BTC"]
        assert free >= 0.0 and total >= used >= 0.0

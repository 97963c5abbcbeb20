"""A paper account survives a restart: a snapshot or its journal gives back identical balances,
open orders, positions and trades, and the rebuilt account goes on exactly as the original."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from engine.journal import replay, restore, snapshot
from engine.matching import MatchingEngine
from engine.sim_markets import sim_catalog
from tests.engine.engine_support import Account

SYMBOLS = ("BTC/USDT", "ETH/USDT", "ETH/BTC")


def busy_account(seed: int) -> Account:
    """An account after a few hundred random orders, points, bars and cancels."""
    rnd = random.Random(seed)
    account = Account({"USDT": 50_000.0, "BTC": 1.0, "ETH": 5.0})
    prices = {"BTC/USDT": 60_000.0, "ETH/USDT": 3_000.0, "ETH/BTC": 0.05}
    for symbol, price in prices.items():
        account.point(symbol, price)
    for step in range(400):
        symbol = rnd.choice(SYMBOLS)
        price = prices[symbol]
        action = rnd.random()
        try:
            if action < 0.3:
                side = rnd.choice(["buy", "sell"])
                account.engine.place(symbol, side, rnd.choice(["market", "limit"]), rnd.uniform(0.001, 0.2),
                                     price * rnd.uniform(0.97, 1.03), owner=rnd.choice([None, "t1", "t2"]),
                                     client_order_id=f"c{step}" if rnd.random() < 0.5 else None)
            elif action < 0.4:
                account.engine.place(symbol, rnd.choice(["buy", "sell"]), "market", rnd.uniform(0.001, 0.1),
                                     trigger_price=price * rnd.uniform(0.97, 1.03),
                                     trigger_kind=rnd.choice(["stopLoss", "takeProfit"]))
            elif action < 0.45:
                account.engine.place(symbol, "buy", "market", cost=rnd.uniform(10, 500), amount_step=rnd.choice([0, 1]))
            elif action < 0.55 and account.engine.open_orders():
                account.engine.cancel(rnd.choice(account.engine.open_orders()).id)
            elif action < 0.8:
                prices[symbol] = price * rnd.uniform(0.98, 1.02)
                account.point(symbol, prices[symbol], bid=prices[symbol] * 0.9995, ask=prices[symbol] * 1.0005)
            else:
                moves = [price * rnd.uniform(0.97, 1.03) for _ in range(4)]
                account.bar(symbol, moves[0], max(moves), min(moves), moves[3])
                prices[symbol] = moves[3]
        except Exception as error:
            assert getattr(error, "code", None) in ("INSUFFICIENT_BALANCE", "INVALID_ORDER"), error
    return account


def observed(engine: MatchingEngine) -> tuple[Any, ...]:
    return (engine.balance(), [o.to_ccxt() for o in engine.orders.values()], [t.to_ccxt() for t in engine.trades],
            sorted((k, p.to_dict()) for k, p in engine.positions.items() if p.amount or p.realized_pnl or p.reserved),
            engine.points())


def go_on(engine: MatchingEngine, seed: int) -> None:
    """The same future for two accounts: more orders and prices."""
    rnd = random.Random(seed)
    for symbol in SYMBOLS:
        _, _, _, last = engine.last_point(symbol)
        engine.place(symbol, "buy", "market", cost=100.0 if symbol.endswith("USDT") else 0.001)
        for _ in range(20):
            last *= rnd.uniform(0.98, 1.02)
            engine.on_price(symbol, engine.clock.now_ms(), last, last, last)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_snapshot_and_journal_rebuild_the_same_account(seed: int) -> None:
    account = busy_account(seed)
    engine = account.engine
    assert len(engine.trades) > 20 and engine.open_orders()  # the scenario did something
    state = json.loads(json.dumps(snapshot(engine), allow_nan=False))
    records = json.loads(json.dumps(account.records, allow_nan=False))
    from_snapshot = restore(state, sim_catalog(), account.clock)
    from_journal = replay(records, sim_catalog(), account.clock)
    expected = observed(engine)
    assert observed(from_snapshot) == expected
    assert observed(from_journal)[:4] == expected[:4]  # prices are not journaled; they come back with the feed
    for symbol, (timestamp, bid, ask, last) in engine.points().items():
        from_journal.set_point(symbol, timestamp, bid, ask, last)
    for rebuilt in (from_snapshot, from_journal, engine):
        go_on(rebuilt, seed)
    assert observed(from_snapshot) == observed(from_journal) == observed(engine)


def test_the_journal_of_a_rebuilt_account_continues_the_original() -> None:
    account = busy_account(7)
    later: list[dict[str, Any]] = []
    rebuilt = replay(account.records, sim_catalog(), account.clock, journal=later.append)
    assert later == []  # rebuilding writes nothing
    for symbol, point in account.engine.points().items():
        rebuilt.set_point(symbol, *point)
    go_on(rebuilt, 7)
    twice = replay(account.records + later, sim_catalog(), account.clock)
    assert observed(twice)[:4] == observed(rebuilt)[:4]
    assert next(int(r["order"]["id"]) for r in later if r["event"] == "order") == max(map(int, account.engine.orders)) + 1


def test_a_bot_reconciling_after_a_restart_places_nothing_twice() -> None:
    account = Account()
    account.point("BTC/USDT", 60_000)
    first = account.engine.place("BTC/USDT", "buy", "limit", 0.01, 59_000, client_order_id="bot7-entry")
    rebuilt = replay(account.records, sim_catalog(), account.clock)
    again = rebuilt.place("BTC/USDT", "buy", "limit", 0.01, 59_000, client_order_id="bot7-entry")
    assert again.id == first.id and len(rebuilt.open_orders()) == 1
    assert rebuilt.balance() == account.engine.balance()


def test_journal_records_have_the_documented_shapes() -> None:
    account = Account({"USDT": 1_000.0})
    account.point("ETH/USDT", 2_000)
    order = account.engine.place("ETH/USDT", "buy", "market", 0.1, owner="t1")
    account.point("ETH/USDT", 2_001)
    deposit, created, trade, filled = account.records
    assert deposit == {"event": "deposit", "currency": "USDT", "amount": 1_000.0, "timestamp": account.records[0]["timestamp"]}
    assert (created["event"], created["action"], created["order"]["status"]) == ("order", "created", "open")
    assert (filled["action"], filled["order"]["status"], filled["order"]["id"]) == ("filled", "closed", order.id)
    assert trade["event"] == "trade" and trade["trade"]["order"] == order.id and trade["trade"]["price"] == 2_001
    assert set(created["order"]["info"]) == {"owner", "sequence", "reserved", "ownerReserved", "triggerKind",
                                             "triggerAbove", "triggered", "cost", "amountStep", "slippage", "reason"}
    assert created["order"]["info"]["reserved"] == {"currency": "USDT", "amount": order.to_ccxt()["amount"] * 2_000 * 1.001}
    assert trade["trade"]["info"] == {"owner": "t1", "clientOrderId": order.client_order_id}
    json.dumps(account.records, allow_nan=False)


def test_unknown_versions_and_events_are_refused() -> None:
    account = Account()
    with pytest.raises(ValueError, match="version"):
        restore({**snapshot(account.engine), "version": 99}, sim_catalog(), account.clock)
    with pytest.raises(ValueError, match="event"):
        replay([{"event": "withdrawal"}], sim_catalog(), account.clock)


def test_a_crash_between_a_trade_and_its_order_record_fills_nothing_twice() -> None:
    account = Account({"USDT": 10_000.0})
    account.point("ETH/USDT", 2_000)
    account.engine.place("ETH/USDT", "buy", "market", 1.0)
    account.point("ETH/USDT", 2_000)
    assert account.records[-1]["action"] == "filled"
    rebuilt = replay(account.records[:-1], sim_catalog(), account.clock)  # the filled record never written
    assert rebuilt.open_orders() == [] and rebuilt.balance() == account.engine.balance()
    assert rebuilt.orders["1"].to_ccxt() == account.engine.orders["1"].to_ccxt()

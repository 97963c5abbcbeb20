"""The ledger with margin never drifts: a hypothesis state machine drives one account's
perpetual positions (several owners, two symbols, leverage changes, market, limit, stop and
reduce-only orders, cancels, price points, bars, funding every minute, deposits, liquidations)
and after every step checks that

- equity = balance + unrealized P&L, where the balance (the settle currency's total) is the
  deposits plus every position's realized P&L, funding and fees, minus what liquidations
  forfeited, and the realized and unrealized P&L are recomputed from the trades alone (one-way
  positions at average entry), never read from the engine (tolerance below);
- `used` is exactly the open orders' reservations plus the positions' isolated margins,
  `0 <= used <= total`, `free >= 0`;
- every position's size is the signed sum of its trades; a flat one holds no margin, an open
  one holds some and is not beyond its liquidation price at the last price (it would have
  been liquidated), whose level `levels()` reports;
- a refused order changes nothing;

and at the end that a snapshot and the journal both rebuild the same account (balances,
open orders, positions, liquidation levels).

Tolerance: each fill, funding payment or deposit is one float update of the total, and the
expected value is summed exactly (`math.fsum`) from terms that are themselves a product or
two, so the bound is `(updates + 4 * terms) * 2**-52 * M`, `M` the largest magnitude seen.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from engine.errors import InsufficientBalance, InvalidOrder
from engine.journal import replay, restore, snapshot
from engine.markets import MarketCatalog
from engine.matching import MatchingEngine
from engine.sim_markets import perpetual_market
from tests.engine.engine_support import Account

SYMBOLS = ["BTC/USDT:USDT", "ETH/USDT:USDT"]
START_PRICES = {"BTC/USDT:USDT": 60_000.0, "ETH/USDT:USDT": 3_000.0}
OWNERS = [None, "alice", "bob"]
factors = st.floats(0.85, 1.15)


def catalog() -> MarketCatalog:
    return MarketCatalog([
        perpetual_market("BTC/USDT:USDT", 60_000.0, max_leverage=125, maintenance_margin_rate=0.004,
                         funding_rate=0.0005, funding_interval_hours=1 / 60),
        perpetual_market("ETH/USDT:USDT", 3_000.0, maker=0.0, taker=0.001, funding_rate=-0.0003,
                         funding_interval_hours=1 / 60),
    ])


class MarginMachine(RuleBasedStateMachine):
    @initialize(usdt=st.floats(1_000.0, 1e6))
    def start(self, usdt: float) -> None:
        self.account = Account({"USDT": usdt}, markets=catalog())
        self.engine = self.account.engine
        self.prices = dict(START_PRICES)
        self.updates = 1
        for symbol, price in self.prices.items():
            self.account.point(symbol, price)

    # -- settings and orders -------------------------------------------------------------------

    @rule(symbol=st.sampled_from(SYMBOLS), owner=st.sampled_from(OWNERS), leverage=st.sampled_from([1, 3, 10, 25, 50, 75]))
    def set_leverage(self, symbol: str, owner: str | None, leverage: int) -> None:
        self.engine.set_leverage(owner, symbol, leverage)

    def _place(self, **order) -> None:
        before = self._observable()
        try:
            self.engine.place(**order)
        except (InvalidOrder, InsufficientBalance) as refused:
            assert self._observable() == before
            event(f"refused: {refused.code}")

    def _amount(self, symbol: str, size: float) -> float:
        return max(self.engine.ledger.total("USDT"), 10.0) / self.prices[symbol] * size

    @rule(symbol=st.sampled_from(SYMBOLS), side=st.sampled_from(["buy", "sell"]), size=st.floats(0.001, 3.0),
          owner=st.sampled_from(OWNERS), reduce_only=st.booleans())
    def market_order(self, symbol: str, side: str, size: float, owner: str | None, reduce_only: bool) -> None:
        amount = self._amount(symbol, size)
        held = abs(self.engine.futures.contracts(owner, symbol))
        if reduce_only and held:
            amount = held * min(size, 1.0)
        self._place(symbol=symbol, side=side, type="market", amount=amount, owner=owner, reduce_only=reduce_only)

    @rule(symbol=st.sampled_from(SYMBOLS), side=st.sampled_from(["buy", "sell"]), size=st.floats(0.001, 3.0),
          offset=st.floats(0.9, 1.1), owner=st.sampled_from(OWNERS), reduce_only=st.booleans())
    def limit_order(self, symbol: str, side: str, size: float, offset: float, owner: str | None,
                    reduce_only: bool) -> None:
        held = abs(self.engine.futures.contracts(owner, symbol))
        amount = held * min(size, 1.0) if reduce_only and held else self._amount(symbol, size)
        self._place(symbol=symbol, side=side, type="limit", amount=amount, price=self.prices[symbol] * offset,
                    owner=owner, reduce_only=reduce_only)

    @rule(symbol=st.sampled_from(SYMBOLS), side=st.sampled_from(["buy", "sell"]), size=st.floats(0.001, 1.0),
          offset=st.floats(0.9, 1.1), kind=st.sampled_from(["stopLoss", "takeProfit"]), owner=st.sampled_from(OWNERS))
    def stop_order(self, symbol: str, side: str, size: float, offset: float, kind: str, owner: str | None) -> None:
        held = abs(self.engine.futures.contracts(owner, symbol))
        self._place(symbol=symbol, side=side, type="market", amount=held * size if held else self._amount(symbol, size),
                    trigger_price=self.prices[symbol] * offset, trigger_kind=kind, owner=owner, reduce_only=bool(held))

    @precondition(lambda self: self.engine.open_orders())
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order = data.draw(st.sampled_from(self.engine.open_orders()))
        self.engine.cancel(order.id)

    @rule(amount=st.floats(1.0, 10_000.0))
    def deposit(self, amount: float) -> None:
        self.engine.deposit("USDT", amount)
        self.updates += 1

    # -- prices ------------------------------------------------------------------------------

    @rule(symbol=st.sampled_from(SYMBOLS), factor=factors, spread=st.floats(0.0, 0.002), continuous=st.booleans())
    def price_point(self, symbol: str, factor: float, spread: float, continuous: bool) -> None:
        last = self.prices[symbol] = self.prices[symbol] * factor
        self.account.point(symbol, last, bid=last * (1 - spread), ask=last * (1 + spread), continuous=continuous)

    @rule(symbol=st.sampled_from(SYMBOLS), moves=st.tuples(factors, factors, factors, factors))
    def bar(self, symbol: str, moves: tuple[float, float, float, float]) -> None:
        prices = [self.prices[symbol] * factor for factor in moves]
        self.account.bar(symbol, prices[0], max(prices), min(prices), prices[3])
        self.prices[symbol] = prices[3]

    # -- invariants --------------------------------------------------------------------------

    def _observable(self) -> tuple:
        return (self.engine.balance(), len(self.engine.orders), len(self.engine.trades),
                {key: (p.contracts, p.margin) for key, p in self.engine.futures.positions.items()})

    def _replayed(self) -> dict[tuple[str | None, str], tuple[float, float, list[float]]]:
        """(contracts, entry, realized P&L terms) per position, from the trades alone."""
        books: dict[tuple[str | None, str], tuple[float, float, list[float]]] = defaultdict(lambda: (0.0, 0.0, []))
        for trade in self.engine.trades:
            key = (trade.owner, trade.symbol)
            contracts, entry, realized = books[key]
            signed = trade.amount if trade.side == "buy" else -trade.amount
            if contracts and (contracts > 0) != (signed > 0):
                closing = min(abs(signed), abs(contracts))
                realized.append(closing * (trade.price - entry) * (1 if contracts > 0 else -1))
                rest = contracts + signed
                if abs(rest) <= 1e-9 * abs(signed):
                    rest = 0.0
                if rest and (rest > 0) != (contracts > 0):
                    entry = trade.price
            else:
                rest = contracts + signed
                entry = (abs(contracts) * entry + trade.amount * trade.price) / abs(rest)
            books[key] = (rest, entry if rest else 0.0, realized)
        return books

    @invariant()
    def equity_is_balance_plus_unrealized_pnl(self) -> None:
        books = self._replayed()
        deposits = [r["amount"] for r in self.account.records if r["event"] == "deposit"]
        funding = [r["amount"] for r in self.account.records if r["event"] == "funding"]
        fees = [-t.fee_cost for t in self.engine.trades]
        forfeited = [-p.forfeited for p in self.engine.futures.positions.values()]
        realized = [term for _, _, terms in books.values() for term in terms]
        unrealized = [contracts * (self.engine.last_point(symbol)[3] - entry)
                      for (_, symbol), (contracts, entry, _) in books.items() if contracts]
        terms = deposits + funding + fees + forfeited + realized
        balance = self.engine.ledger.total("USDT")
        magnitude = max([abs(balance), *(abs(t) for t in terms + unrealized), math.fsum(deposits)])
        tolerance = (self.updates + len(self.engine.trades) + len(funding) + 4 * len(terms)) * 2.0**-52 * magnitude
        assert abs(balance - math.fsum(terms)) <= tolerance, (balance, math.fsum(terms), tolerance)
        engine_unrealized = [p.unrealized_pnl(self.engine.last_point(p.symbol)[3])
                             for p in self.engine.futures.positions.values() if p.contracts]
        equity = balance + math.fsum(engine_unrealized)
        # the engine's unrealized P&L against the trades' (entries averaged in another order: a looser bound)
        assert abs(equity - math.fsum(terms + unrealized)) <= tolerance * 64, (equity, math.fsum(terms + unrealized))

    @invariant()
    def used_is_the_orders_plus_the_margins(self) -> None:
        held = [o.reserved for o in self.engine.open_orders() if o.reserve_currency == "USDT"]
        held += [p.margin for p in self.engine.futures.positions.values() if p.margin]
        free, used, total = self.engine.balance().get("USDT", (0.0, 0.0, 0.0))
        assert total >= 0.0 and 0.0 <= used <= total and free == total - used and free >= 0.0
        assert used == math.fsum(held)

    @invariant()
    def positions_follow_their_trades_and_stay_within_liquidation(self) -> None:
        books = self._replayed()
        for (owner, symbol), position in self.engine.futures.positions.items():
            contracts, entry, _ = books[(owner, symbol)]
            assert position.contracts == pytest_approx(contracts), (position.contracts, contracts)
            if not position.contracts:
                assert position.margin == 0.0
                continue
            assert position.margin > 0.0 and position.entry_price == pytest_approx(entry)
            last, level = self.engine.last_point(symbol)[3], position.liquidation_price()
            assert (last > level) if position.contracts > 0 else (last < level)
        for symbol in SYMBOLS:
            below, above = self.engine.futures.levels(symbol)
            down, up = self.engine.levels(symbol)
            assert (down >= below and up <= above) or down == math.inf

    def teardown(self) -> None:
        if not hasattr(self, "engine"):
            return
        liquidations = sum(1 for o in self.engine.orders.values() if o.client_order_id.startswith("liquidation-"))
        event(f"liquidations: {min(liquidations, 3)}{'+' if liquidations >= 3 else ''}")
        event(f"funding payments: {sum(1 for r in self.account.records if r['event'] == 'funding') > 0}")
        # a snapshot and the journal both rebuild the same account, positions and liquidation levels
        state = json.loads(json.dumps(snapshot(self.engine)))
        records = json.loads(json.dumps(self.account.records))
        expected = self._rebuilt_view(self.engine)
        for rebuilt in (restore(state, catalog(), self.account.clock), replay(records, catalog(), self.account.clock)):
            for symbol, (timestamp, bid, ask, last) in self.engine.points().items():
                rebuilt.set_point(symbol, timestamp, bid, ask, last)
            assert self._rebuilt_view(rebuilt) == expected

    @staticmethod
    def _rebuilt_view(engine: MatchingEngine) -> tuple:
        return (engine.balance(), [o.to_ccxt() for o in engine.open_orders()],
                sorted((str(k), p.to_dict()) for k, p in engine.futures.positions.items()),
                [engine.levels(symbol) for symbol in SYMBOLS])


def pytest_approx(value: float) -> object:
    return pytest.approx(value, rel=1e-9, abs=1e-12)


MarginMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=50, deadline=None)
test_equity_is_balance_plus_unrealized_pnl = MarginMachine.TestCase

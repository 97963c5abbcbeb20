"""The ledger never drifts: a hypothesis state machine drives one account through any sequence of
orders, price points, bars, cancels, deposits and fills, and after every step checks that

- every total equals the start plus deposits plus the fills minus the fees, recomputed from
  the trades alone (tolerance below);
- `used` is exactly the sum of the open orders' reservations, `0 <= used <= total`,
  `free = total - used >= 0`, no total below zero;
- owners' positions are never negative and never hold more than the account;
- every fill is at a price the market reached in that step;
- a refused order changes nothing;

and at the end that a snapshot and the journal both rebuild the same account.

Tolerance of the totals: the engine updates a total with one float addition per fill or
deposit (`total + get`, `total - pay`), and `pay`/`get` add or subtract the fee once, so
each of the `n` updates is off by at most half an ulp of the running total plus half an
ulp of the term: `|engine - exact| <= n * 2**-52 * M`, `M` the largest magnitude among the
running totals and the terms. The expected value is summed exactly (`math.fsum`).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from engine.errors import InsufficientBalance, InvalidOrder
from engine.journal import replay, restore, snapshot
from engine.markets import MarketCatalog
from engine.sim_markets import sim_catalog, spot_market
from tests.engine.engine_support import Account

SYMBOLS = ["BTC/USDT", "ETH/USDT", "ETH/BTC", "SOL/USDT"]
START_PRICES = {"BTC/USDT": 60_000.0, "ETH/USDT": 3_000.0, "ETH/BTC": 0.05, "SOL/USDT": 150.0}
OWNERS = [None, "alice", "bob"]
factors = st.floats(0.9, 1.1)
sizes = st.one_of(st.floats(0.001, 0.3), st.floats(0.001, 1.2))  # of what the account could afford


def catalog() -> MarketCatalog:
    markets = sim_catalog()
    sol = spot_market("SOL/USDT", 150.0, maker=0.0008, taker=0.0012)
    sol.fee_side = "get"  # fee in what is received: base on buys, quote on sells
    markets.add(sol)
    return markets


class LedgerMachine(RuleBasedStateMachine):
    @initialize(usdt=st.floats(1000.0, 1e6), btc=st.floats(0.1, 5.0), eth=st.floats(1.0, 50.0))
    def start(self, usdt: float, btc: float, eth: float) -> None:
        balances = {"USDT": usdt, "BTC": btc, "ETH": eth}
        self.account = Account(balances, markets=catalog())
        self.engine = self.account.engine
        self.prices = dict(START_PRICES)
        self.updates = len(balances)
        for symbol, price in self.prices.items():
            self.account.point(symbol, price)

    # -- orders ------------------------------------------------------------------------------

    def _place(self, **order) -> None:
        before = self._observable()
        trades = len(self.engine.trades)
        symbol = order["symbol"]
        try:
            self.engine.place(**order)
        except (InvalidOrder, InsufficientBalance) as refused:
            assert self._observable() == before  # refused: nothing changed
            event(f"refused: {refused.code}")
            return
        _, bid, ask, _ = self.engine.last_point(symbol)
        for trade in self.engine.trades[trades:]:  # rule 3: at the point it was placed at
            assert trade.price in (bid, ask)

    @rule(symbol=st.sampled_from(SYMBOLS), side=st.sampled_from(["buy", "sell"]), size=sizes,
          owner=st.sampled_from(OWNERS))
    def market_order(self, symbol: str, side: str, size: float, owner: str | None) -> None:
        self._place(symbol=symbol, side=side, type="market", amount=self._amount(symbol, side, size), owner=owner)

    @rule(symbol=st.sampled_from(SYMBOLS), fraction=st.floats(0.01, 1.0), whole=st.booleans(),
          owner=st.sampled_from(OWNERS))
    def cost_buy(self, symbol: str, fraction: float, whole: bool, owner: str | None) -> None:
        quote = self.engine.markets.market(symbol).quote
        self._place(symbol=symbol, side="buy", type="market", cost=max(self.engine.ledger.free(quote) * fraction, 1e-9),
                    amount_step=1.0 if whole else None, owner=owner)

    @rule(symbol=st.sampled_from(SYMBOLS), side=st.sampled_from(["buy", "sell"]), size=sizes,
          offset=st.floats(0.9, 1.1), owner=st.sampled_from(OWNERS), tif=st.sampled_from(["GTC", "GTC", "IOC"]))
    def limit_order(self, symbol: str, side: str, size: float, offset: float, owner: str | None, tif: str) -> None:
        self._place(symbol=symbol, side=side, type="limit", amount=self._amount(symbol, side, size),
                    price=self.prices[symbol] * offset, owner=owner, time_in_force=tif)

    @rule(symbol=st.sampled_from(SYMBOLS), side=st.sampled_from(["buy", "sell"]), size=sizes,
          offset=st.floats(0.9, 1.1), kind=st.sampled_from(["stopLoss", "takeProfit", "trigger"]),
          limit=st.one_of(st.none(), st.floats(0.95, 1.05)), owner=st.sampled_from(OWNERS))
    def stop_order(self, symbol: str, side: str, size: float, offset: float, kind: str, limit: float | None,
                   owner: str | None) -> None:
        trigger = self.prices[symbol] * offset
        self._place(symbol=symbol, side=side, type="market" if limit is None else "limit",
                    amount=self._amount(symbol, side, size), price=None if limit is None else trigger * limit,
                    trigger_price=trigger, trigger_kind=kind, owner=owner)

    def _amount(self, symbol: str, side: str, size: float) -> float:
        """`size` of what the account could afford (beyond 1: refusals get tested too)."""
        market = self.engine.markets.market(symbol)
        if side == "sell":
            return max(self.engine.ledger.total(market.base), market.min_amount) * size
        return max(self.engine.ledger.total(market.quote), 10.0) / self.prices[symbol] * size

    @precondition(lambda self: self.engine.open_orders())
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order = data.draw(st.sampled_from(self.engine.open_orders()))
        self.engine.cancel(order.id)
        assert order.status == "canceled" and order.reserved == 0.0

    @rule(currency=st.sampled_from(["USDT", "BTC", "ETH"]), amount=st.floats(0.01, 1000.0))
    def deposit(self, currency: str, amount: float) -> None:
        self.engine.deposit(currency, amount)
        self.updates += 1

    # -- prices ------------------------------------------------------------------------------

    @rule(symbol=st.sampled_from(SYMBOLS), factor=factors, spread=st.floats(0.0, 0.002), continuous=st.booleans())
    def price_point(self, symbol: str, factor: float, spread: float, continuous: bool) -> None:
        prev = self.prices[symbol]
        last = self.prices[symbol] = prev * factor
        bid, ask = last * (1 - spread), last * (1 + spread)
        trades = len(self.engine.trades)
        self.account.point(symbol, last, bid=bid, ask=ask, continuous=continuous)
        for trade in self.engine.trades[trades:]:
            if continuous:
                assert min(prev, bid) <= trade.price <= max(prev, ask)
            else:
                assert trade.price in (bid, ask)

    @rule(symbol=st.sampled_from(SYMBOLS), moves=st.tuples(factors, factors, factors, factors))
    def bar(self, symbol: str, moves: tuple[float, float, float, float]) -> None:
        prices = [self.prices[symbol] * factor for factor in moves]
        opening, closing = prices[0], prices[3]
        high, low = max(prices), min(prices)
        trades = len(self.engine.trades)
        self.account.bar(symbol, opening, high, low, closing)
        self.prices[symbol] = closing
        for trade in self.engine.trades[trades:]:
            assert low <= trade.price <= high

    # -- invariants --------------------------------------------------------------------------

    def _observable(self) -> tuple:
        return (self.engine.balance(), len(self.engine.orders), len(self.engine.trades),
                {key: (p.amount, p.reserved.as_dict()) for key, p in self.engine.positions.items()})

    @invariant()
    def balances_are_consistent_and_never_negative(self) -> None:
        reserved: defaultdict[str, list[float]] = defaultdict(list)
        for order in self.engine.open_orders():
            if order.reserve_currency is not None:
                reserved[order.reserve_currency].append(order.reserved)
        for currency, (free, used, total) in self.engine.balance().items():
            assert total >= 0.0 and 0.0 <= used <= total and free == total - used and free >= 0.0
            assert used == math.fsum(reserved[currency])

    @invariant()
    def totals_are_start_plus_fills_minus_fees(self) -> None:
        terms: defaultdict[str, list[float]] = defaultdict(list)
        for record in self.account.records:
            if record["event"] == "deposit":
                terms[record["currency"]].append(record["amount"])
        for trade in self.engine.trades:
            base, quote = trade.symbol.split("/")
            sign = 1.0 if trade.side == "buy" else -1.0
            terms[base].append(sign * trade.amount)
            terms[quote].append(-sign * trade.cost)
            terms[trade.fee_currency].append(-trade.fee_cost)
        updates = self.updates + len(self.engine.trades)
        for currency, total in self.engine.ledger.totals().items():
            values = terms[currency]
            magnitude = max([abs(total), *(abs(v) for v in values)], default=0.0)
            running, peak = 0.0, 0.0
            for value in values:
                running += value
                peak = max(peak, abs(running))
            tolerance = updates * 2.0**-52 * max(magnitude, peak)
            assert abs(total - math.fsum(values)) <= tolerance, (currency, total, math.fsum(values), tolerance)

    @invariant()
    def positions_are_within_the_account(self) -> None:
        held: defaultdict[str, float] = defaultdict(float)
        for position in self.engine.positions.values():
            assert position.amount >= 0.0 and position.cost >= 0.0
            assert position.reserved.total <= position.amount
            held[position.base] += position.amount
        for currency, amount in held.items():
            assert amount <= self.engine.ledger.total(currency) * (1 + 1e-12) + 1e-12

    @invariant()
    def levels_match_the_open_orders(self) -> None:
        for symbol in SYMBOLS:
            orders = self.engine.open_orders(symbol)
            if any(o.type == "market" and (o.trigger_price != o.trigger_price or o.triggered) for o in orders):
                assert self.engine.levels(symbol) == (math.inf, -math.inf)
                continue
            stops = [o for o in orders if o.trigger_price == o.trigger_price and not o.triggered]
            limits = [o for o in orders if o not in stops]
            down = max([o.price for o in limits if o.side == "buy"] + [o.trigger_price for o in stops if not o.trigger_above],
                       default=-math.inf)
            up = min([o.price for o in limits if o.side == "sell"] + [o.trigger_price for o in stops if o.trigger_above],
                     default=math.inf)
            assert self.engine.levels(symbol) == (down, up)

    @invariant()
    def orders_are_consistent(self) -> None:
        for order in self.engine.orders.values():
            if order.status == "closed":
                assert order.filled == order.amount > 0 and len(order.trades) == 1 and order.reserved == 0.0
            elif order.status == "canceled":
                assert order.filled == 0.0 and order.reserved == 0.0 and order.owner_reserved == 0.0

    def teardown(self) -> None:
        if not hasattr(self, "engine"):
            return
        event(f"fills: {min(len(self.engine.trades), 10)}{'+' if len(self.engine.trades) >= 10 else ''}")
        event(f"cancelled by the engine: {sum(1 for o in self.engine.orders.values() if o.reason) > 0}")
        state = json.loads(json.dumps(snapshot(self.engine)))
        records = json.loads(json.dumps(self.account.records))
        expected = (self.engine.balance(), [o.to_ccxt() for o in self.engine.open_orders()],
                    [p.to_dict() for p in self.engine.positions.values()])
        for rebuilt in (restore(state, catalog(), self.account.clock), replay(records, catalog(), self.account.clock)):
            assert (rebuilt.balance(), [o.to_ccxt() for o in rebuilt.open_orders()],
                    [rebuilt.positions[k].to_dict() for k in self.engine.positions]) == expected


LedgerMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=50, deadline=None)
test_the_ledger_never_drifts = LedgerMachine.TestCase

"""The matching engine: one account's orders filled against price points, by one set of rules.

Paper accounts (through `engine.sim_exchange.SimExchange`) and backtests use this same
engine. It knows an account's balances (`engine.ledger.Ledger`), each owner's positions
(`engine.positions.Position`), and per symbol the last price point and the resting orders.

Price points
    A point is `(timestamp, bid, ask, last)` for one symbol (`on_price`). Live points are the
    ticker's; replayed and backtest points have `bid == ask == last`. A bar is played as four
    points (`play_bar`): the open, the extreme nearer to the open (the low on a tie), the
    farther extreme, the close. A point is *continuous* when the price moved through every
    level between the previous point and it (the three points after a bar's open); other
    points (a bar's open, live ticks) are *gaps*: nothing is known between them.

Fill rules (tested one by one in `tests/engine/test_fill_rules.py`)
    1. A market order fills at the first price point after it is placed: a buy at the ask,
       a sell at the bid, as taker; with slippage `s` (bps) at `ask * (1 + s/1e4)` or
       `bid * (1 - s/1e4)`, rounded to the price precision.
    2. A resting limit fills when the market trades through it (buy: `ask <= price`; sell:
       `bid >= price`), as maker, at its own price on a continuous point that moved through
       it, and at the point's price (ask for a buy, bid for a sell; never worse than the
       limit) otherwise, so a bar opening through it fills at the open, as backtesting.py
       does.
    3. A limit already through the last point when it is placed fills at once at that
       point's price (ask for a buy, bid for a sell), as taker. With `time_in_force`
       IOC or FOK it is cancelled if it can not; with `post_only` (or `PO`) such an order
       is refused (`InvalidOrder`).
    4. A stop (`trigger_price`; kinds `trigger`, `stopLoss`, `takeProfit`) triggers on
       `last`: upwards (`last >= trigger`) or downwards (`last <= trigger`). A stop-loss
       sell and a take-profit buy trigger downwards, a stop-loss buy and a take-profit
       sell upwards, a plain trigger towards the trigger from the last price when placed
       (or as `trigger_above` says). Once triggered a stop-market fills as taker at the
       trigger price on a continuous point that moved through it, and at the point's price
       otherwise (a gap, or a stop placed already beyond its trigger: it triggers at the
       next point); a stop-limit becomes a limit placed at that moment (rule 3 at that
       price, else it rests under rule 2).
    5. Orders reached at the same point fill in the order the price reached them: market
       orders first, then by distance of their level from the previous point's `last`,
       then by placement.
    Every fill is at a price the market reached (slippage aside), and fills whole: an
    order is `open` until it is `closed` (filled) or `canceled`.

Amounts, prices, limits
    Amounts are truncated (ccxt `amount_to_precision`), then to the order's or account's
    `amount_step` (whole units: `1.0`); prices and triggers are rounded
    (`price_to_precision`). Then `limits.amount.min/max`, `limits.price.min/max` and
    `limits.cost.min` (against the limit, trigger or last price; the budget of an order
    sized by cost) are checked: any failure raises `InvalidOrder` with a message and
    `details`, nothing is placed.

Sizing by cost
    `cost=` (ccxt's `cost` param, `createMarketBuyOrderWithCost`) is a quote budget for a
    market buy, fee included: at the fill price `p` the amount is the largest that
    `amount * p * (1 + fee rate)` fits in the budget (fee in quote; `budget / p` when the
    fee is charged in base), truncated to precision, or `budget // (p + (F * p * rate) / F)`
    whole steps with an amount step, `F = ALL_IN`: backtesting.py's all-in sizing, whose
    per-unit price carries the fee through its size fraction `F` and so can differ from
    `p * (1 + rate)` by one ulp; computed its way, whole-unit counts equal its own even at
    exact ties. An all-in order is `cost = free * ALL_IN` (backtesting.py's `buy()` spends
    `margin_available * (1 - 2**-52)`). An order that can not buy the minimum amount (one
    whole unit) when it would fill is cancelled, not filled, with `reason` (backtesting.py
    cancels it too).

Fees and funds
    Fee rates are the market's `maker`/`taker` unless the engine overrides them; the fee is
    charged in the currency ccxt's `feeSide` names (`Market.fee_currency`; `quote` on
    `sim`): on top of what a buy pays, or out of what it gets. Placing an order reserves
    what it may pay (`used`): a buy its amount at the limit, trigger or last ask (or its
    budget) plus the fee at the larger rate, a sell its amount plus a fee in base; a sell
    of an owner also reserves from that owner's position. Not enough raises
    `InsufficientBalance` (details `currency`, `needed`, `available`) and places nothing.
    A cancel releases the reservation; a fill pays from it plus the free funds. A market
    buy whose price gapped beyond its reservation and the free funds is cancelled at the
    fill with `reason`. No method awaits, so nothing races between a check and its
    reservation.

Owners
    Orders carry an optional `owner` (a trader). An owner's sells are limited to its own
    position, and each position keeps average-cost P&L (`engine.positions`). What owners
    hold is theirs: no other order (another trader's, or one without owner, which moves
    balances only) may pay with it, so nobody closes or spends a trader's position.

clientOrderId
    Unique per account. Placing again with a `client_order_id` already used by an order
    of the same symbol, side and type returns that order unchanged (open or not), so a bot
    that reconciles after a restart never places anything twice; with another symbol,
    side or type it is an `InvalidOrder`. Without one the engine assigns `auto-<id>`; the
    `auto-` prefix is reserved.

Futures (issue 18)
    Linear perpetuals (markets of type `swap`, contract size 1) take the same orders and
    fill rules; what differs is what a fill settles and reserves, in `engine.futures`
    (`engine.futures.account` has the rules): orders reserve initial margin and fee on the
    market's `settle` currency through the same ledger, a fill settles through
    `Futures.settle` (signed positions per owner with entry price and isolated margin,
    one-way mode) instead of `_settle`, `reduce_only` orders may only reduce a position.
    Each position's liquidation price is added to the stop levels (`levels()` reports it
    like a stop, so the bar-skipping loop visits the bar that liquidates); a point that
    reaches it, after the orders it fills, liquidates (rule 4's prices: the level on a
    continuous point through it, else the point's price). Funding is paid at the first
    point at or after each funding time, before its orders. The last price is the mark
    price. Orders sized by `cost` and contract sizes other than 1 are refused on swaps.

Time
    `timestamp` of an order is the injected clock's (market time) when it is placed;
    trades carry the timestamp of the point they filled at.

Journal
    Every change is passed, JSON-able, to the `journal` callback (see `engine.journal`):
    `{"event": "deposit", "currency", "amount", "timestamp"}`, `{"event": "order", "action":
    "created" | "triggered" | "filled" | "canceled", "order": <ccxt order>}` and
    `{"event": "trade", "trade": <ccxt trade>}` (a fill writes the trade, then the order).

Driving it fast (backtests)
    The engine does nothing at a point unless the point reaches a level: `levels(symbol)`
    gives `(down, up)`, and for `bid == ask == last == p` a point matters only if
    `p <= down` or `p >= up` (`down` is +inf while a market order waits for its point).
    A bar matters only if `low <= down or high >= up`; `next_touch` finds the next such bar
    with numpy, so a loop calls `play_bar` only there and where its strategy places orders
    (play the deciding bar first, so the engine knows the price; a skipped bar can not
    have filled anything). Trades are appended to `engine.trades`; `play_bar` and
    `on_price` return how many fills happened. Backtesting.py's `trade_on_close` (the
    `close` fill model) is: place the order, then play the deciding bar's close again as
    a point. Give the engine no journal, and run the loop with Python's cyclic garbage
    collector off (`gc.disable()`, then `gc.enable()`): the engine makes no reference
    cycles, and the collector's passes over the growing lists of orders and trades would
    cost more than the matching (bench/matching_engine.py measures both).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from .clock import Clock
from .errors import InvalidOrder, OrderNotFound
from .futures.account import LIQUIDATION_PREFIX, Futures
from .ledger import Ledger
from .markets import Market, MarketCatalog
from .orders import NAN, Order, Trade
from .positions import Position
from .precision import TICK_SIZE, Precision

__all__ = ["ALL_IN", "Journal", "MatchingEngine", "bar_points", "next_touch"]

Journal = Callable[[dict[str, Any]], None]
"""Receives each state change as a JSON-able record."""

INF = math.inf
ALL_IN = 1.0 - sys.float_info.epsilon
"""The share of the free quote an all-in buy spends: backtesting.py's `_FULL_EQUITY`
(`1 - 2**-52`, shown as `.9999` in its reprs), so all-in sizes equal its own."""
AUTO_PREFIX = "auto-"
TRIGGER_KINDS = ("trigger", "stopLoss", "takeProfit")
TIMES_IN_FORCE = ("GTC", "IOC", "FOK", "PO")
_SIDES = ("buy", "sell")
_TYPES = ("market", "limit")


class _Book:
    """One symbol: the last point, the orders waiting for a point, the cached levels, and the
    market's fee rates and fee currencies (read once, when the engine first sees the symbol)."""

    __slots__ = ("ask", "bid", "buy_fee_in_quote", "buy_max", "buys", "down", "last", "liq_above", "liq_below", "maker",
                 "market", "pending", "sell_fee_in_quote", "sell_min", "sells", "stop_above", "stop_below", "stops",
                 "swap", "taker", "timestamp", "up")

    def __init__(self, market: Market, maker: float | None, taker: float | None) -> None:
        self.market = market
        self.maker = market.maker if maker is None else maker
        self.taker = market.taker if taker is None else taker
        self.buy_fee_in_quote = market.fee_currency("buy") == market.quote
        self.sell_fee_in_quote = market.fee_currency("sell") == market.quote
        self.bid = self.ask = self.last = NAN
        self.timestamp: int | None = None
        self.pending: list[Order] = []
        self.buys: list[Order] = []
        self.sells: list[Order] = []
        self.stops: list[Order] = []
        self.swap = not market.spot
        self.liq_below, self.liq_above = -INF, INF  # liquidation levels of the positions (swaps)
        self.relevel()

    def relevel(self) -> None:
        buy_max = stop_below = -INF
        sell_min = stop_above = INF
        for order in self.buys:
            if order.price > buy_max:
                buy_max = order.price
        for order in self.sells:
            if order.price < sell_min:
                sell_min = order.price
        for order in self.stops:
            level = order.trigger_price
            if order.trigger_above:
                if level < stop_above:
                    stop_above = level
            elif level > stop_below:
                stop_below = level
        if self.liq_below > stop_below:
            stop_below = self.liq_below
        if self.liq_above < stop_above:
            stop_above = self.liq_above
        self.buy_max, self.sell_min, self.stop_below, self.stop_above = buy_max, sell_min, stop_below, stop_above
        self.refresh()

    def refresh(self) -> None:
        """`down` and `up` from the cached levels of each list (the lists unchanged)."""
        if self.pending:
            self.down, self.up = INF, -INF
        else:
            self.down = self.buy_max if self.buy_max > self.stop_below else self.stop_below
            self.up = self.sell_min if self.sell_min < self.stop_above else self.stop_above

    def remove(self, order: Order) -> None:
        for orders in (self.pending, self.buys, self.sells, self.stops):
            if order in orders:
                orders.remove(order)
                return


class MatchingEngine:
    """One account on one exchange's markets: balances, orders, fills, positions.

    `markets`: the exchange's `MarketCatalog`; `clock`: the market clock (orders'
    timestamps); `balances`: starting totals by currency (deposits, journaled);
    `journal`: called with every change; `maker`/`taker`: fee rates for every market
    instead of the market's own; `slippage_bps`: default slippage of market fills;
    `amount_step`: default whole-unit step of every order (0.0: the market's precision only).

    Public state: `ledger`, `orders` (every order by id, in placement order), `trades`
    (every fill, in order), `positions` (spot, by `(owner, symbol)`), `futures`
    (`engine.futures.Futures`: perpetual positions and leverage settings).
    """

    def __init__(self, markets: MarketCatalog, clock: Clock, balances: Mapping[str, float] | None = None, *,
                 journal: Journal | None = None, maker: float | None = None, taker: float | None = None,
                 slippage_bps: float = 0.0, amount_step: float = 0.0) -> None:
        self.markets = markets
        self.clock = clock
        self.journal = journal
        self.maker = maker
        self.taker = taker
        self.slippage_bps = float(slippage_bps)
        self.amount_step = float(amount_step)
        self.ledger = Ledger()
        self.orders: dict[str, Order] = {}
        self.trades: list[Trade] = []
        self.positions: dict[tuple[str, str], Position] = {}
        self.futures = Futures(self.ledger)
        self._open: dict[str, Order] = {}
        self._by_client: dict[str, Order] = {}
        self._books: dict[str, _Book] = {}
        self._steps: dict[float, Precision] = {}
        self._next_order = 1
        self._next_trade = 1
        for currency, amount in (balances or {}).items():
            self.deposit(currency, amount)

    # -- funds ------------------------------------------------------------------------------

    def deposit(self, currency: str, amount: float) -> None:
        """Add `amount` (finite, > 0) of `currency` to the account (journaled)."""
        amount = float(amount)
        if not 0.0 < amount < INF:
            raise ValueError(f"a deposit must be a positive amount, not {amount!r}")
        self.ledger.credit(currency, amount)
        if self.journal is not None:
            self.journal({"event": "deposit", "currency": currency, "amount": amount, "timestamp": self.clock.now_ms()})

    def balance(self) -> dict[str, tuple[float, float, float]]:
        """`{currency: (free, used, total)}`."""
        return {str(key): value for key, value in self.ledger.balances().items()}

    def position(self, owner: str, symbol: str) -> Position:
        """`owner`'s position on `symbol` (an empty, unlisted one if it never traded it)."""
        market = self.markets.market(symbol)
        return self.positions.get((owner, market.symbol)) or Position(owner, market.symbol, market.base)

    def _position(self, owner: str, symbol: str) -> Position:
        """`owner`'s position on `symbol`, listed (a fill or a restored order has it hold something)."""
        key = (owner, symbol)
        position = self.positions.get(key)
        if position is None:
            position = self.positions[key] = Position(owner, symbol, self.markets.market(symbol).base)
        return position

    # -- orders -----------------------------------------------------------------------------

    def place(self, symbol: str, side: str, type: str, amount: float | None = None, price: float | None = None, *,
              cost: float | None = None, trigger_price: float | None = None, trigger_kind: str = "trigger",
              trigger_above: bool | None = None, client_order_id: str | None = None, owner: str | None = None,
              amount_step: float | None = None, time_in_force: str = "GTC", post_only: bool = False,
              slippage_bps: float | None = None, reduce_only: bool = False) -> Order:
        """Place an order; returns it (`open`, or already `closed` by rule 3, or `canceled`
        as IOC/FOK). `amount` in base, or `cost` (quote budget, market buys); `price` for a
        limit; `trigger_price` makes a stop of `trigger_kind`; `reduce_only` (swaps) may only
        reduce `owner`'s position. Raises `InvalidSymbol`, `InvalidOrder`
        (`ReduceOnlyRejected`), `InsufficientBalance`; on error nothing is placed."""
        if client_order_id is not None:
            existing = self._by_client.get(client_order_id)
            if existing is not None:
                return self._same_order(existing, symbol, side, type)
            if client_order_id.startswith(AUTO_PREFIX):
                raise InvalidOrder(f"clientOrderId prefix {AUTO_PREFIX!r} is reserved", clientOrderId=client_order_id)
        book = self._books.get(symbol) or self._book(symbol)
        market = book.market
        details = {"symbol": market.symbol, "side": side, "type": type}
        if not (side in _SIDES and type in _TYPES and market.active and time_in_force in TIMES_IN_FORCE
                and (market.spot or market.contract_size == 1.0)):
            raise self._refusal(market, side, type, time_in_force, details)
        if reduce_only and market.spot:
            raise InvalidOrder("reduceOnly is for perpetual (swap) markets", **details)
        post_only = post_only or time_in_force == "PO"
        if post_only and type != "limit":
            raise InvalidOrder("postOnly is for limit orders", **details)
        step = self.amount_step
        if amount_step is not None:
            step = float(amount_step)
            if not 0.0 <= step < INF:
                raise InvalidOrder(f"amountStep must be a positive number, not {amount_step!r}", **details)
        slippage = self.slippage_bps / 10_000
        if slippage_bps is not None:
            slippage = float(slippage_bps) / 10_000
            if not 0.0 <= slippage < 1.0:
                raise InvalidOrder(f"slippage must be between 0 and 10000 bps, not {slippage_bps!r}", **details)

        limit = NAN
        if type == "limit":
            limit = self._price(market, price, "price", details)
        trigger = NAN
        if trigger_price is not None:
            if trigger_kind not in TRIGGER_KINDS:
                raise InvalidOrder(f"trigger kind must be one of {TRIGGER_KINDS}", **details)
            trigger = self._price(market, trigger_price, "triggerPrice", details)
            trigger_above = self._trigger_direction(book, side, trigger, trigger_kind, trigger_above, details)
        budget = NAN
        if cost is not None:
            if amount is not None:
                raise InvalidOrder("give an amount or a cost, not both", **details)
            if side != "buy" or type != "market" or not market.spot:
                raise InvalidOrder("sizing by cost is for spot market buys", **details)
            budget = float(cost)
            if not 0.0 < budget < INF:
                raise InvalidOrder(f"cost must be a positive number, not {cost!r}", cost=cost, **details)
            if budget < market.min_cost:
                raise InvalidOrder(f"cost {budget!r} is below the minimum cost {market.min_cost!r} of {market.symbol}",
                                   cost=budget, minCost=market.min_cost, **details)
            amount_value = NAN
        else:
            amount_value = self._amount(market, amount, step, details)
            reference = limit if type == "limit" else trigger if trigger == trigger else (
                book.ask if side == "buy" else book.bid)
            if reference == reference and amount_value * reference < market.min_cost:
                raise InvalidOrder(
                    f"cost {amount_value * reference!r} is below the minimum cost {market.min_cost!r} of {market.symbol}",
                    amount=amount_value, price=reference, minCost=market.min_cost, **details)
        if post_only and trigger != trigger and self._marketable(book, side, limit):
            raise InvalidOrder("a postOnly order would fill at once", price=limit, bid=_num(book.bid),
                               ask=_num(book.ask), **details)

        order_id = str(self._next_order)
        stop = trigger == trigger
        order = Order(order_id, client_order_id or AUTO_PREFIX + order_id, market, type, side, amount_value, limit,
                      self.clock.now_ms(), self._next_order, trigger, trigger_kind if stop else None,
                      trigger_above if stop else None, budget, step, time_in_force, post_only, slippage, owner,
                      bool(reduce_only))
        self._reserve(order, book, details)
        self._next_order += 1
        self.orders[order_id] = order
        self._open[order_id] = order
        self._by_client[order.client_order_id] = order
        if self.journal is not None:
            self._record(order, "created")
        self._enter(book, order)
        return order

    def cancel(self, order_id: str) -> Order:
        """Cancel an open order, releasing its reservations; returns it. `OrderNotFound` for an
        unknown id, `InvalidOrder` (details `status`) for one no longer open."""
        order = self.orders.get(order_id)
        if order is None:
            raise OrderNotFound(f"no order {order_id!r} on this account", id=order_id)
        if order.status != "open":
            raise InvalidOrder(f"order {order_id} is {order.status}, not open", id=order_id, status=order.status)
        book = self._books[order.symbol]
        self._cancel(book, order, self.clock.now_ms(), None)
        book.relevel()
        return order

    def order(self, order_id: str) -> Order:
        """The order with this id (`OrderNotFound`)."""
        order = self.orders.get(order_id)
        if order is None:
            raise OrderNotFound(f"no order {order_id!r} on this account", id=order_id)
        return order

    def order_by_client_id(self, client_order_id: str) -> Order:
        """The order with this clientOrderId (`OrderNotFound`)."""
        order = self._by_client.get(client_order_id)
        if order is None:
            raise OrderNotFound(f"no order with clientOrderId {client_order_id!r}", clientOrderId=client_order_id)
        return order

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """Open orders (of `symbol`), in placement order."""
        return [o for o in self._open.values() if symbol is None or o.symbol == symbol]

    # -- price points -----------------------------------------------------------------------

    def on_price(self, symbol: str, timestamp: int, bid: float, ask: float, last: float,
                 continuous: bool = False) -> int:
        """Play one price point of `symbol` (market time `timestamp`, ms); returns the number of fills."""
        book = self._books.get(symbol) or self._book(symbol)
        if book.swap and self.futures.due(book.market, timestamp):
            self._fund(book, timestamp, last)
        prev = book.bid, book.ask, book.last
        book.timestamp, book.bid, book.ask, book.last = timestamp, bid, ask, last
        if (book.pending or ask <= book.buy_max or bid >= book.sell_min or last <= book.stop_below
                or last >= book.stop_above):
            return self._match(book, timestamp, prev, continuous)
        return 0

    def play_bar(self, symbol: str, timestamp: int, open: float, high: float, low: float, close: float) -> int:
        """Play a bar as four points (bid = ask = last): open (a gap), the extreme nearer to
        the open (the low on a tie), the farther one, the close; all at `timestamp`.
        Returns the number of fills."""
        book = self._books.get(symbol) or self._book(symbol)
        if book.swap and self.futures.due(book.market, timestamp):
            self._fund(book, timestamp, open)
        if low > book.down and high < book.up:
            book.timestamp, book.bid, book.ask, book.last = timestamp, close, close, close
            return 0
        fills = self._bar_point(book, timestamp, open, False)
        if book.down == -INF and book.up == INF:  # nothing left that the rest of the bar could reach
            book.timestamp, book.bid, book.ask, book.last = timestamp, close, close, close
            return fills
        _, near, far, _ = bar_points(open, high, low, close)
        return (fills + self._bar_point(book, timestamp, near, True) + self._bar_point(book, timestamp, far, True)
                + self._bar_point(book, timestamp, close, True))

    def _bar_point(self, book: _Book, timestamp: int, price: float, continuous: bool) -> int:
        """One point of a bar (bid = ask = last = price)."""
        if book.pending or price <= book.down or price >= book.up:
            prev = book.bid, book.ask, book.last
            book.timestamp, book.bid, book.ask, book.last = timestamp, price, price, price
            return self._match(book, timestamp, prev, continuous)
        book.timestamp, book.bid, book.ask, book.last = timestamp, price, price, price
        return 0

    def levels(self, symbol: str) -> tuple[float, float]:
        """`(down, up)`: a point `p` (bid = ask = last) of `symbol` makes the engine act only if
        `p <= down` or `p >= up`; `(inf, -inf)` while a market order waits, `(-inf, inf)`
        with nothing resting."""
        book = self._books.get(symbol) or self._book(symbol)
        return book.down, book.up

    def levels_view(self, symbol: str) -> Any:
        """The live levels of `symbol`: an object whose `down` and `up` attributes equal
        `levels(symbol)` at any moment (for a loop that reads them at every step without a
        call; read those two attributes only)."""
        return self._books.get(symbol) or self._book(symbol)

    def last_point(self, symbol: str) -> tuple[int | None, float, float, float]:
        """`(timestamp, bid, ask, last)` of the last point played (NaN prices before any)."""
        book = self._books.get(symbol) or self._book(symbol)
        return book.timestamp, book.bid, book.ask, book.last

    # -- internals --------------------------------------------------------------------------

    def _book(self, symbol: str) -> _Book:
        """The book of `symbol` (unified, or an id or spelling the catalogue resolves), made at first use."""
        market = self.markets.market(symbol)
        book = self._books.get(market.symbol)
        if book is None:
            book = self._books[market.symbol] = _Book(market, self.maker, self.taker)
        return book

    @staticmethod
    def _refusal(market: Market, side: str, type: str, time_in_force: str, details: dict[str, Any]) -> InvalidOrder:
        """Why an order's side, type, market or time in force is refused."""
        if side not in _SIDES:
            return InvalidOrder(f"side must be buy or sell, not {side!r}", **details)
        if type not in _TYPES:
            return InvalidOrder(f"type must be market or limit, not {type!r}", **details)
        if not market.spot and market.contract_size != 1.0:
            return InvalidOrder(f"{market.symbol} has contracts of {market.contract_size!r}; only 1 is simulated",
                                **details)
        if not market.active:
            return InvalidOrder(f"{market.symbol} is not active", **details)
        return InvalidOrder(f"timeInForce must be one of {TIMES_IN_FORCE}, not {time_in_force!r}", **details)

    def _same_order(self, existing: Order, symbol: str, side: str, type: str) -> Order:
        if (existing.symbol, existing.side, existing.type) == (self.markets.market(symbol).symbol, side, type):
            return existing
        raise InvalidOrder(
            f"clientOrderId {existing.client_order_id!r} is already used by order {existing.id} "
            f"({existing.symbol} {existing.side} {existing.type})", clientOrderId=existing.client_order_id,
            existingOrderId=existing.id)

    def _price(self, market: Market, value: float | None, name: str, details: dict[str, Any]) -> float:
        if value is None:
            raise InvalidOrder(f"{name} is required", **details)
        try:
            number = value if type(value) is float else float(value)
        except (TypeError, ValueError):
            raise InvalidOrder(f"{name} must be a number, not {value!r}", **details) from None
        if not 0.0 < number < INF:
            raise InvalidOrder(f"{name} must be a positive number, not {value!r}", **{name: value}, **details)
        rounded = market.price_to_precision(number)
        if not rounded > 0.0:
            raise InvalidOrder(f"{name} {number!r} rounds to 0 at the price precision {market.price_precision.value!r}",
                               **{name: number}, **details)
        if not market.min_price <= rounded <= market.max_price:
            raise InvalidOrder(f"{name} {rounded!r} is outside [{market.min_price!r}, {market.max_price!r}]",
                               **{name: rounded}, minPrice=market.min_price, maxPrice=_num(market.max_price), **details)
        return rounded

    def _amount(self, market: Market, value: float | None, step: float, details: dict[str, Any]) -> float:
        if value is None:
            raise InvalidOrder("amount is required", **details)
        try:
            number = value if type(value) is float else float(value)
        except (TypeError, ValueError):
            raise InvalidOrder(f"amount must be a number, not {value!r}", **details) from None
        if not 0.0 < number < INF:
            raise InvalidOrder(f"amount must be a positive number, not {value!r}", amount=value, **details)
        precision = market.amount_precision
        amount = precision.truncate(number)
        if step and step != precision.step:  # (truncating twice to the same grid changes nothing)
            amount = self._step(step).truncate(amount)
        if not amount > 0.0:
            raise InvalidOrder(
                f"amount {number!r} truncates to 0 at the amount precision {market.amount_precision.value!r}"
                + (f" and step {step!r}" if step else ""), amount=number, **details)
        if not market.min_amount <= amount <= market.max_amount:
            raise InvalidOrder(f"amount {amount!r} is outside [{market.min_amount!r}, {market.max_amount!r}]",
                               amount=amount, minAmount=market.min_amount, maxAmount=_num(market.max_amount),
                               **details)
        return amount

    def _step(self, step: float) -> Precision:
        precision = self._steps.get(step)
        if precision is None:
            precision = self._steps[step] = Precision(step, TICK_SIZE)
        return precision

    def _trigger_direction(self, book: _Book, side: str, trigger: float, kind: str, above: bool | None,
                           details: dict[str, Any]) -> bool:
        if kind == "stopLoss":
            return side == "buy"
        if kind == "takeProfit":
            return side == "sell"
        if above is not None:
            return bool(above)
        if book.last != book.last:
            raise InvalidOrder(f"no price of {book.market.symbol} yet: say which way the trigger goes "
                               "(triggerDirection 'above' or 'below')", triggerPrice=trigger, **details)
        return trigger > book.last

    def _reserve(self, order: Order, book: _Book, details: dict[str, Any]) -> None:
        """Reserve what the order may pay; raises (nothing reserved) when it can not."""
        market = order.market
        rate = book.taker if order.type == "market" or book.taker >= book.maker else book.maker
        if book.swap:
            trigger = order.trigger_price
            reference = order.price if order.type == "limit" else trigger if trigger == trigger else (
                book.ask * (1.0 + order.slippage) if order.side == "buy" else book.bid)
            currency, amount = market.settle or market.quote, self.futures.reservation(order, reference, rate)
        elif order.side == "buy":
            currency = market.quote
            if order.budget == order.budget:
                amount = order.budget
            else:
                trigger = order.trigger_price
                reference = order.price if order.type == "limit" else trigger if trigger == trigger else (
                    book.ask * (1.0 + order.slippage))
                amount = 0.0 if reference != reference else order.amount * reference
                if book.buy_fee_in_quote:
                    amount += amount * rate
        else:
            currency = market.base
            amount = order.amount
            if not book.sell_fee_in_quote:
                amount += amount * rate
        if order.owner is not None and order.side == "sell" and not book.swap:
            key = (order.owner, market.symbol)
            position = self.positions.get(key) or Position(order.owner, market.symbol, market.base)
            position.reserve(order.id, amount)  # raises for a position never held, which then stays unlisted
            self.positions[key] = position
            order.owner_reserved = amount
        if amount > 0.0:
            try:
                self.ledger.reserve(order.id, currency, amount, self._kept(order, currency) if self.positions else 0,
                                    details)
            except Exception:
                if order.owner_reserved:
                    self.positions[(order.owner, market.symbol)].release(order.id)  # type: ignore[index]
                raise
            order.reserve_currency, order.reserved = currency, amount

    def _kept(self, order: Order, currency: str) -> int:
        """What `order` may not pay of `currency`: what owners hold of it in their positions
        beyond what their own open sells reserve (exactly, `engine.ledger.exact`), except the
        position an owner's sell sells from."""
        own = (order.owner, order.symbol) if order.owner is not None and order.side == "sell" else None
        kept = 0
        for key, position in self.positions.items():
            if position.base == currency and position.amount and key != own:
                kept += position.free_exact()
        return kept

    def _release(self, order: Order) -> None:
        if order.reserve_currency is not None:
            self.ledger.release(order.id, order.reserve_currency)
            order.reserve_currency, order.reserved = None, 0.0
        if order.owner_reserved:
            self.positions[(order.owner, order.symbol)].release(order.id)  # type: ignore[index]
            order.owner_reserved = 0.0

    @staticmethod
    def _marketable(book: _Book, side: str, limit: float) -> bool:
        return book.ask <= limit if side == "buy" else book.bid >= limit

    def _enter(self, book: _Book, order: Order) -> None:
        """File a new order: wait for the next point, fill at once (rule 3), or rest; the levels follow."""
        if order.trigger_price == order.trigger_price:
            book.stops.append(order)
            book.relevel()
        elif order.type == "market":
            book.pending.append(order)
            book.refresh()
        elif self._marketable(book, order.side, order.price):
            self._fill(book, order, book.ask if order.side == "buy" else book.bid, order.timestamp, True)
        elif order.time_in_force in ("IOC", "FOK"):
            self._cancel(book, order, order.timestamp, f"{order.time_in_force}: not marketable when placed")
        elif order.side == "buy":
            book.buys.append(order)
            if order.price > book.buy_max:
                book.buy_max = order.price
                book.refresh()
        else:
            book.sells.append(order)
            if order.price < book.sell_min:
                book.sell_min = order.price
                book.refresh()

    def _match(self, book: _Book, timestamp: int, prev: tuple[float, float, float], continuous: bool) -> int:
        """Fill what the point just set on `book` reaches, then liquidate what it reaches;
        `prev` is the point before (bid, ask, last)."""
        fills = self._match_orders(book, timestamp, prev, continuous)
        if book.swap and (book.last <= book.liq_below or book.last >= book.liq_above):
            fills += self._liquidate(book, timestamp, prev[2], continuous)
        return fills

    def _match_orders(self, book: _Book, timestamp: int, prev: tuple[float, float, float], continuous: bool) -> int:
        """Fill the orders the point just set on `book` reaches."""
        fills = 0
        bid, ask, last = book.bid, book.ask, book.last
        if book.pending:
            pending, book.pending = book.pending, []
            for order in pending:
                price = ask if order.side == "buy" else bid
                fills += self._fill(book, order, self._slipped(order, price) if order.slippage else price, timestamp,
                                    True)
            if not (ask <= book.buy_max or bid >= book.sell_min or last <= book.stop_below or last >= book.stop_above):
                book.refresh()
                return fills
        reached: list[tuple[float, int, Order]] = []
        for order in book.stops:
            level = order.trigger_price
            if (last >= level) if order.trigger_above else (last <= level):
                reached.append((level, order.sequence, order))
        for order in book.buys:
            if ask <= order.price:
                reached.append((order.price, order.sequence, order))
        for order in book.sells:
            if bid >= order.price:
                reached.append((order.price, order.sequence, order))
        if len(reached) > 1:
            prev_last = prev[2]
            reached.sort(key=lambda item: (abs(item[0] - prev_last) if prev_last == prev_last else 0.0, item[1]))
        if not reached:
            book.refresh()
            return fills
        for level, _, order in reached:
            buy = order.side == "buy"
            here = ask if buy else bid
            if order.is_stop and not order.triggered:
                book.stops.remove(order)
                order.triggered = True
                order.last_update_timestamp = timestamp
                self._record(order, "triggered")
                at = level if continuous and _passed(prev[2], level, not order.trigger_above) else here
                if order.type == "market":
                    fills += self._fill(book, order, self._slipped(order, at), timestamp, True)
                elif (at <= order.price) if buy else (at >= order.price):
                    fills += self._fill(book, order, at, timestamp, True)
                elif continuous and ((here <= order.price) if buy else (here >= order.price)):
                    fills += self._fill(book, order, order.price, timestamp, False)
                else:
                    (book.buys if buy else book.sells).append(order)
            else:
                book.remove(order)
                at = level if continuous and _passed(prev[1] if buy else prev[0], level, buy) else here
                fills += self._fill(book, order, at, timestamp, False)
        book.relevel()
        return fills

    @staticmethod
    def _slipped(order: Order, price: float) -> float:
        if not order.slippage:
            return price
        moved = price * (1.0 + order.slippage) if order.side == "buy" else price * (1.0 - order.slippage)
        return order.market.price_to_precision(moved)

    def _fill(self, book: _Book, order: Order, price: float, timestamp: int, taker: bool) -> int:
        """Fill the whole order at `price` (it is already out of the book's lists), or cancel it
        with a reason when it can not be paid; returns 1 or 0."""
        market = order.market
        rate = book.taker if taker else book.maker
        buy = order.side == "buy"
        fee_in_quote = book.buy_fee_in_quote if buy else book.sell_fee_in_quote
        amount = order.amount
        if amount != amount:
            amount = self._affordable(order, price, rate, fee_in_quote)
            if not amount >= market.min_amount or not amount > 0.0:
                self._cancel(book, order, timestamp, f"cost {order.budget!r} buys less than the minimum amount "
                             f"{max(market.min_amount, order.amount_step)!r} at {price!r}")
                return 0
        cost = amount * price
        fee = cost * rate if fee_in_quote else amount * rate
        trade = Trade(str(self._next_trade), order.id, order.client_order_id, order.symbol, order.type, order.side,
                      taker, price, amount, cost, fee, market.quote if fee_in_quote else market.base, rate, timestamp,
                      order.owner)
        if book.swap:
            refusal = self.futures.settle(trade, market, order)
            if refusal is not None:
                self._cancel(book, order, timestamp, refusal)
                return 0
            self._liquidation_levels(book)
        elif not self._settle(trade, market, order):
            pay_currency = market.quote if buy else market.base
            self._cancel(book, order, timestamp, f"insufficient {pay_currency} at the fill price {price!r}")
            return 0
        self._next_trade += 1
        order.fill_with(trade)  # (the payment took the ledger's reservation, the position's sale its own)
        self.trades.append(trade)
        del self._open[order.id]
        if self.journal is not None:
            self.journal({"event": "trade", "trade": trade.to_ccxt()})
            self._record(order, "filled")
        return 1

    def _affordable(self, order: Order, price: float, rate: float, fee_in_quote: bool) -> float:
        """The amount an order sized by cost buys at `price` (see "Sizing by cost")."""
        budget, step, market = order.budget, order.amount_step, order.market
        unit = price + (ALL_IN * price * rate) / ALL_IN if fee_in_quote else price  # see "Sizing by cost"
        amount = market.amount_to_precision((budget // (unit * step)) * step if step else budget / unit)
        decrement = step or market.amount_precision.step
        if not decrement:
            return 0.0
        while amount > 0.0:
            cost = amount * price
            if (cost + cost * rate if fee_in_quote else cost) <= budget:
                break
            amount = market.amount_to_precision(amount - decrement)
        return amount

    def _settle(self, trade: Trade, market: Market, order: Order | None) -> bool:
        """Move a fill's money (spot): what it pays, what it gets, its fee. False, changing
        nothing, when the account can not pay (paying beyond its reservation, an order may use
        only what no owner holds). The one place a fill touches balances and positions, used
        live and (without `order`) when rebuilding from a journal."""
        amount, cost, fee = trade.amount, trade.cost, trade.fee_cost
        fee_in_quote = trade.fee_currency == market.quote
        if trade.side == "buy":
            pay, get = (cost + fee, amount) if fee_in_quote else (cost, amount - fee)
            pay_currency, get_currency = market.quote, market.base
        else:
            pay, get = (amount, cost - fee) if fee_in_quote else (amount + fee, cost)
            pay_currency, get_currency = market.base, market.quote
        if order is None:
            if not self.ledger.transfer(None, pay_currency, pay, get_currency, get):
                return False
        elif not self.ledger.transfer(order.id, pay_currency, pay, get_currency, get,
                                      self._kept(order, pay_currency) if pay > order.reserved and self.positions else 0):
            return False
        if trade.owner is not None:
            position = self._position(trade.owner, trade.symbol)
            fee_value = fee if fee_in_quote else fee * trade.price
            if trade.side == "buy":
                position.bought(get, pay, fee_value)
            else:
                position.sold(trade.order_id, pay, get, fee_value)
        return True

    def _liquidation_levels(self, book: _Book) -> None:
        """Refresh the liquidation levels of `book` (a swap's) after its positions changed."""
        book.liq_below, book.liq_above = self.futures.levels(book.market.symbol)
        book.relevel()

    def _liquidate(self, book: _Book, timestamp: int, prev_last: float, continuous: bool) -> int:
        """Liquidate the positions on `book` that its last price reached (see `engine.futures.account`)."""
        fills = 0
        market = book.market
        for position in self.futures.reached(market.symbol, book.last):
            level, long = position.liquidation_price(), position.contracts > 0.0
            price = level if continuous and _passed(prev_last, level, long) else book.last
            for order in self.open_orders(market.symbol):
                if order.owner == position.owner:
                    self._cancel(book, order, timestamp, "liquidation")
            order_id = str(self._next_order)
            order = Order(order_id, LIQUIDATION_PREFIX + order_id, market, "market", "sell" if long else "buy",
                          abs(position.contracts), NAN, timestamp, self._next_order, owner=position.owner,
                          reduce_only=True)
            self._next_order += 1
            self.orders[order_id] = self._open[order_id] = self._by_client[order.client_order_id] = order
            self._record(order, "created")
            fills += self._fill(book, order, price, timestamp, True)
        self._liquidation_levels(book)
        return fills

    def _fund(self, book: _Book, timestamp: int, mark: float) -> None:
        """Pay the funding times passed by `timestamp` at `mark` (`engine.futures.funding`)."""
        self.futures.fund(book.market, timestamp, mark, self.journal)
        self._liquidation_levels(book)

    def _cancel(self, book: _Book, order: Order, timestamp: int, reason: str | None) -> None:
        book.remove(order)
        self._release(order)
        order.status = "canceled"
        order.reason = reason
        order.last_update_timestamp = timestamp
        del self._open[order.id]
        self._record(order, "canceled")

    def _record(self, order: Order, action: str) -> None:
        if self.journal is not None:
            self.journal({"event": "order", "action": action, "order": order.to_ccxt()})

    # -- persistence (see engine.journal) ---------------------------------------------------

    def adopt(self, order: Order, trades: Iterable[Trade] = ()) -> None:
        """Take in an order from a saved state or a journal (with its trades): listed, and if
        open, booked again with its reservations (`InsufficientBalance` if they no longer fit)."""
        order.trades = list(trades)
        self.orders[order.id] = order
        self._by_client[order.client_order_id] = order
        self._next_order = max(self._next_order, order.sequence + 1)
        if order.status != "open":
            return
        if order.owner_reserved:
            self._position(order.owner, order.symbol).reserve(order.id, order.owner_reserved)  # type: ignore[arg-type]
        if order.reserve_currency is not None:
            self.ledger.reserve(order.id, order.reserve_currency, order.reserved)
        self._open[order.id] = order
        book = self._books.get(order.symbol) or self._book(order.symbol)
        if order.is_stop and not order.triggered:
            book.stops.append(order)
        elif order.type == "market":
            book.pending.append(order)
        else:
            (book.buys if order.side == "buy" else book.sells).append(order)
        book.relevel()

    def adopt_trades(self, trades: Iterable[Trade]) -> None:
        """List fills from a saved state (balances untouched: the state carries them)."""
        for trade in trades:
            self.trades.append(trade)
            self._next_trade = max(self._next_trade, int(trade.id) + 1)

    def settle_recorded(self, trade: Trade) -> None:
        """Apply a journaled fill to balances and positions, and list it (rebuilding from a journal)."""
        market = self.markets.market(trade.symbol)
        if (self.futures.settle(trade, market, None) is not None) if not market.spot else not self._settle(
                trade, market, None):
            raise ValueError(f"the journal's trade {trade.id} overdraws the account")
        if not market.spot:
            self._liquidation_levels(self._books.get(market.symbol) or self._book(market.symbol))
        self.adopt_trades((trade,))

    def set_leverage(self, owner: str | None, symbol: str, leverage: float) -> float:
        """Leverage of `owner`'s positions on the perpetual `symbol` from now on (journaled;
        `InvalidMarginSettings`, `InvalidOrder` for a spot market)."""
        market = self.markets.market(symbol)
        if market.spot:
            raise InvalidOrder(f"{market.symbol} is a spot market, not a perpetual", symbol=market.symbol)
        value = self.futures.set_leverage(owner, market, leverage)
        if self.journal is not None:
            self.journal({"event": "leverage", "owner": owner, "symbol": market.symbol, "leverage": value,
                          "timestamp": self.clock.now_ms()})
        return value

    def adopt_futures(self, state: Mapping[str, Any]) -> None:
        """Take in the futures side of a saved state (`Futures.to_dict()`), with the liquidation levels."""
        self.futures.adopt(state)
        for _, symbol in self.futures.positions:
            self._liquidation_levels(self._books.get(symbol) or self._book(symbol))

    def apply_recorded(self, record: Mapping[str, Any]) -> None:
        """Apply a journaled `leverage` or `funding` record again (rebuilding from a journal)."""
        market = self.markets.market(record["symbol"])
        if record["event"] == "leverage":
            self.futures.set_leverage(record["owner"], market, record["leverage"])
        else:
            self.futures.apply_funding(record, market)
            self._liquidation_levels(self._books.get(market.symbol) or self._book(market.symbol))

    def points(self) -> dict[str, tuple[int, float, float, float]]:
        """`{symbol: (timestamp, bid, ask, last)}` of every symbol that has had a point."""
        return {symbol: (book.timestamp, book.bid, book.ask, book.last)
                for symbol, book in self._books.items() if book.timestamp is not None}

    def set_point(self, symbol: str, timestamp: int | None, bid: float, ask: float, last: float) -> None:
        """Set the last point of `symbol` without playing it (restoring a saved state)."""
        book = self._books.get(symbol) or self._book(symbol)
        book.timestamp, book.bid, book.ask, book.last = timestamp, bid, ask, last


def _passed(prev: float, level: float, downwards: bool) -> bool:
    """Whether a continuous move from `prev` to a price beyond `level` went through `level`
    (rather than starting beyond it already)."""
    return prev >= level if downwards else prev <= level


def _num(value: float) -> float | None:
    return None if value != value or value in (INF, -INF) else value


def bar_points(open: float, high: float, low: float, close: float) -> tuple[float, float, float, float]:
    """The four price points a bar is played as: open, the extreme nearer to the open (the
    low on a tie), the farther extreme, close."""
    if high - open < open - low:
        return open, high, low, close
    return open, low, high, close


def next_touch(low: np.ndarray, high: np.ndarray, start: int, down: float, up: float, chunk: int = 4096,
               stop: int | None = None) -> int:
    """The first index `start <= i < stop` with `low[i] <= down or high[i] >= up` (`stop`,
    default `len(low)`, if none).

    For a backtest loop: with `(down, up) = engine.levels(symbol)`, bars before that index
    can not fill anything; `stop` bounds the search where the loop must stop anyway (its
    strategy's next wake bar). Searches in growing chunks, so a near answer costs little
    and a far one is one numpy pass.
    """
    n = len(low) if stop is None else min(stop, len(low))
    i = start
    while i < n:
        stop = min(n, i + chunk)
        hits = np.flatnonzero((low[i:stop] <= down) | (high[i:stop] >= up))
        if hits.size:
            return i + int(hits[0])
        i = stop
        chunk *= 4
    return n

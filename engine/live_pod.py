"""`LivePod`: one trader's strategy carried out on a live exchange account through ccxt.

The same strategy, runner, clientOrderIds, budget and failures as `engine.pod.PaperPod`,
against an async ccxt exchange (any object with ccxt's unified `create_order`,
`cancel_order`, `fetch_order`, `fetch_open_orders`, `fetch_my_trades`, `fetch_balance`).
Its calls await, so a pod's task drives it: `await pod.open(...)`, `await pod.candle(c)`,
`await pod.stop()`.

The strategy's view (`LiveContext`) is kept from what the exchange reports: the trader's
position at average cost from its own fills (`engine.positions.Position`, fees in base
valued at the fill price), the free quote balance (read after every fill and order), its
open orders and the last close. An order of the trader is one whose `clientOrderId`
starts with `client_order_prefix(trader)`; its fills are found with `fetch_my_trades`
at each candle and after each order (resting orders filled between candles are seen at
the next close). `open` reconciles before anything is placed: the trader's trades since
`since` not yet reported are reported, its open orders adopted, and a clientOrderId the
exchange already knows is never sent again.

A market buy sized by cost (an all-in `buy()`) is sent as an amount: the cost over the
last price and the fee, to the market's precision (not every exchange takes a quote
amount; one that buys less than the market's minimum amount is dropped with a `warning` log
line). An order the exchange refuses with `InsufficientFunds` is dropped with a `warning`
log line, as in a backtest; ccxt's `InvalidOrder` and `BadRequest` fail the pod with
`invalid_order`; other exchange errors with `exchange_error`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import ccxt

from .candles import Candle, Candles
from .clock import Clock
from .markets import Market
from .pod import PodCore, PodFailed, PodOutput, client_order_id, client_order_prefix
from .positions import Position
from .strategies import Context, Fill, OpenOrder, Signal, Strategy, StrategyRunner
from .strategies.intents import CancelRequest, OrderRequest, Request
from .strategies.runner import order_levels, touches

__all__ = ["LiveContext", "LivePod"]

_REFUSED = (ccxt.InvalidOrder, ccxt.InsufficientFunds, ccxt.BadRequest)


class LiveContext(Context):
    """A strategy's view of a live account, kept by its `LivePod`."""

    def __init__(self, market: Market, clock: Clock) -> None:
        self.market = market
        self.symbol = market.symbol
        self.clock = clock
        self.logs = []
        self.held = Position("", market.symbol, market.base)
        self.free_quote = 0.0
        self.last = math.nan
        self.orders: dict[str, OpenOrder] = {}

    @property
    def position(self) -> float:
        return self.held.amount

    @property
    def average_cost(self) -> float | None:
        return self.held.average_cost

    @property
    def min_amount(self) -> float:
        return self.market.min_amount

    @property
    def available(self) -> float:
        return self.free_quote

    @property
    def price(self) -> float:
        return self.last

    @property
    def fee_rate(self) -> float:
        return max(self.market.maker, self.market.taker)

    @property
    def open_orders(self) -> Sequence[OpenOrder]:
        return list(self.orders.values())

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def add_fill(self, trade: dict[str, Any]) -> None:
        """Book one of the trader's fills (ccxt's trade structure) into its position."""
        amount, cost, price = float(trade["amount"]), float(trade["cost"]), float(trade["price"])
        fee = trade.get("fee") or {}
        fee_cost = float(fee.get("cost") or 0.0)
        in_quote = fee.get("currency", self.market.quote) == self.market.quote
        value = fee_cost if in_quote else fee_cost * price
        if trade["side"] == "buy":
            self.held.bought(amount if in_quote else amount - fee_cost, cost + fee_cost if in_quote else cost, value)
        else:
            self.held.sold(str(trade["order"]), amount if in_quote else amount + fee_cost,
                           cost - fee_cost if in_quote else cost, value)


class LivePod(PodCore):
    """See the module docstring. `since` (ms) is when the trader first started: its trades
    are looked for from then on."""

    def __init__(self, trader_id: str, strategy: Strategy, exchange: Any, market: Market, output: PodOutput, *,
                 clock: Clock, since: int, tags: dict[str, str] | None = None, known_orders: Iterable[str] = (),
                 known_trades: Iterable[str] = (), budget: float = 0.5,
                 timer: Callable[[], float] = time.perf_counter) -> None:
        self.exchange = exchange
        self.context = LiveContext(market, clock)
        self.symbol = market.symbol
        self.since = since
        self.tags = dict(tags or {})
        super().__init__(trader_id, StrategyRunner(strategy, self.context), output, known_orders=known_orders,
                         known_trades=known_trades, budget=budget, timer=timer)
        self.prefix = client_order_prefix(trader_id)
        self._sent: set[str] = set()
        self._levels = (-math.inf, math.inf)

    # -- what the pod is fed ---------------------------------------------------------------

    async def open(self, *, fresh: bool, start_key: str, warmup: Candles | None = None) -> None:
        """Reconcile (trades, open orders, the balance), take `warmup`, `on_start` when `fresh`."""
        self._warm(warmup)
        if warmup is not None and len(warmup):
            self.context.last = float(warmup.close[-1])
        try:
            await self._call(self._reconcile)
            if fresh:
                await self._call(lambda: self._handle(self.runner.start, f"s{start_key}"))
        except PodFailed as failure:
            self._failed(failure)

    async def candle(self, candle: Candle) -> None:
        """A closed candle: fills since the last look, then `on_candle` by the wake rule."""
        if self.failure is not None:
            return
        self.context.last = candle.close
        window = self._take(candle)
        touched = touches(self._levels, candle.low, candle.high)
        try:
            await self._call(self._poll)
            await self._call(lambda: self._handle(lambda: self.runner.candle(window, touched=touched),
                                                  f"c{candle.timestamp}"))
        except PodFailed as failure:
            self._failed(failure)
        self._levels = order_levels(self.context.open_orders)

    async def signal(self, signal: Signal, key: str) -> None:
        """A signal from outside (a webhook): `on_signal`'s requests placed (`PaperPod.signal`)."""
        if self.failure is not None:
            return
        try:
            await self._call(lambda: self._handle(lambda: self.runner.signal(signal), f"w{key}"))
        except PodFailed as failure:
            self._failed(failure)

    async def stop(self) -> list[dict[str, Any]]:
        """Cancel the trader's open orders (reported `cancelled`); ccxt's orders back."""
        cancelled = []
        for order_id in list(self.context.orders):
            try:
                done = await self.exchange.cancel_order(order_id, self.symbol)
            except ccxt.OrderNotFound:
                continue
            self.context.orders.pop(order_id, None)
            self.output.order("cancelled", {**done, "status": "canceled"}, self.tags.get(order_id))
            cancelled.append(done)
        return cancelled

    # -- inside -----------------------------------------------------------------------------

    async def _call(self, work: Callable[[], Any]) -> None:
        """Run `work()` (awaited), turning the exchange's refusals into `PodFailed`."""
        try:
            await work()
        except PodFailed:
            raise
        except _REFUSED as refused:
            raise PodFailed("invalid_order", f"{type(refused).__name__}: {refused}") from None
        except ccxt.BaseError as failure:
            raise PodFailed("exchange_error", f"{type(failure).__name__}: {failure}") from None

    def _mine(self, order: dict[str, Any]) -> bool:
        return str(order.get("clientOrderId") or "").startswith(self.prefix) or order["id"] in self._known_orders

    async def _reconcile(self) -> None:
        orders = await self.exchange.fetch_orders(self.symbol, self.since)
        for order in orders:
            if self._mine(order):
                self._sent.add(str(order.get("clientOrderId")))
                if order["id"] not in self._known_orders:
                    self._known_orders.add(order["id"])
                    self.output.order("placed", order, self.tags.get(order["id"]))
                if order["status"] == "open":
                    self.context.orders[order["id"]] = _open(order, self.tags.get(order["id"]))
        for trade in await self.exchange.fetch_my_trades(self.symbol, self.since):
            if trade["order"] in self._known_orders:
                self.context.add_fill(trade)
                if trade["id"] not in self._known_trades:
                    self._known_trades.add(trade["id"])
                    self.output.trade(trade, self.tags.get(trade["order"]))
        await self._balance()

    async def _poll(self) -> None:
        """Report the trader's new fills and the orders no longer open, with `on_fill`."""
        fills: list[dict[str, Any]] = []
        for trade in await self.exchange.fetch_my_trades(self.symbol, self.since):
            if trade["order"] in self._known_orders and trade["id"] not in self._known_trades:
                self._known_trades.add(trade["id"])
                self.context.add_fill(trade)
                self.output.trade(trade, self.tags.get(trade["order"]))
                fills.append(trade)
        if fills or self.context.orders:
            open_ids = {order["id"] for order in await self.exchange.fetch_open_orders(self.symbol)}
            for order_id in [order_id for order_id in self.context.orders if order_id not in open_ids]:
                self.context.orders.pop(order_id)
                order = await self.exchange.fetch_order(order_id, self.symbol)
                action = "filled" if order["status"] == "closed" else "cancelled"
                self.output.order(action, order, self.tags.get(order_id))
        if fills:
            await self._balance()
        if self.runner.strategy.handles_fills():
            for trade in fills:
                await self._handle(lambda trade=trade: self.runner.fill(_fill(trade, self.tags)),  # type: ignore[misc]
                                   f"f{trade['id']}")

    async def _balance(self) -> None:
        balance = await self.exchange.fetch_balance()
        self.context.free_quote = float((balance.get("free") or {}).get(self.context.market.quote) or 0.0)

    async def _handle(self, call: Callable[[], list[Request]], key: str) -> None:
        requests = self._decide(call)
        placed = False
        for index, request in enumerate(requests):
            if isinstance(request, CancelRequest):
                await self.exchange.cancel_order(request.order_id, self.symbol)
                self.context.orders.pop(request.order_id, None)
                self.output.order("cancelled", {**await self.exchange.fetch_order(request.order_id, self.symbol)},
                                  self.tags.get(request.order_id))
                continue
            assert isinstance(request, OrderRequest)
            cid = client_order_id(self.trader_id, f"{key}:{index}")
            if cid in self._sent:
                continue  # the exchange has it already (a restart handling this event again)
            symbol, kind, side, amount, price, params = request.ccxt_args({"clientOrderId": cid})
            if amount is None:  # sized by cost: an amount at the last price, fee included
                cost = params.pop("cost")
                amount = self.context.market.amount_to_precision(cost / (self.context.last * (1 + self.context.fee_rate)))
                if not amount >= self.context.min_amount:
                    self._drop(side, f"{cost:.8g} {self.context.market.quote} buys {amount!r} "
                                     f"{self.context.market.base}, below the minimum amount {self.context.min_amount!r}")
                    continue
            self._sent.add(cid)
            try:
                order = await self.exchange.create_order(symbol, kind, side, amount, price, params)
            except ccxt.InsufficientFunds as refused:  # as a backtest: dropped, and trading goes on
                self._drop(side, f"{type(refused).__name__}: {refused}")
                continue
            if request.tag is not None:
                self.tags[order["id"]] = request.tag
            self._known_orders.add(order["id"])
            self.output.order("placed", order, request.tag)
            if order.get("status") == "open":
                self.context.orders[order["id"]] = _open(order, request.tag)
            elif order.get("status") == "closed":  # filled at once (a market order)
                self.output.order("filled", order, request.tag)
            placed = True
        if placed:
            await self._poll()
            await self._balance()


def _open(order: dict[str, Any], tag: str | None) -> OpenOrder:
    return OpenOrder(order["id"], tag, order["side"], order["type"], order.get("amount"), order.get("price"),
                     order.get("triggerPrice"), None, int(order.get("timestamp") or 0))


def _fill(trade: dict[str, Any], tags: dict[str, str]) -> Fill:
    fee = trade.get("fee") or {}
    return Fill(trade["order"], tags.get(trade["order"]), trade["side"], trade.get("type") or "market",
                float(trade["amount"]), float(trade["price"]), float(trade["cost"]), float(fee.get("cost") or 0.0),
                str(fee.get("currency") or ""), int(trade["timestamp"]), trade.get("takerOrMaker") == "taker")

"""`PaperPod`: one trader's strategy carried out on a paper account, candle by candle and fill by fill.

A trader's pod (the platform's `services.traders`) feeds it what the market does, and it
drives the strategy (`StrategyRunner`) and carries out the requests on the account's
`SimExchange`, synchronously (`SimExchange.place`/`cancel`, the backtest loop's path), so an
order decided at a candle's close is in the book before the next price point arrives:
paper replays and backtests over the same candles make the same trades. ::

    pod = PaperPod(trader_id, create_strategy("sma_cross", settings), sim_exchange, "BTC/USDT", output)
    pod.open(fresh=True, start_key="1", warmup=candles)   # reconcile, then on_start on a fresh start
    pod.candle(candle)        # a closed candle of the strategy's timeframe
    pod.check_fills()         # after every price point the account was given
    pod.signal(signal, key)   # a webhook's signal (engine.strategies.Signal)
    pod.stop()                # cancels the trader's open orders

What it reports goes to `output` (`PodOutput`): orders placed, filled, cancelled (ccxt's
order structure), trades (ccxt's trade structure), the strategy's log lines, and a failure.

Orders are placed once. Each carries a deterministic `clientOrderId`
(`client_order_id(trader, key)`: the trader, the event that decided it — `s<start>`,
`c<candle open ms>`, `f<trade id>` — and its index among that event's requests), and the
engine answers a repeated id with the order it already has, so a pod that handles a candle
again after a restart places nothing twice. `open` reconciles first: the trader's trades
the output has not seen (`known_trades`) are reported, its open orders adopted.

An order the account can not pay for (`InsufficientBalance`) is dropped with a `warning`
log line, as in a backtest (so are intents below the market's minimums, see
`strategies.intents.resolve`). A strategy that raises, a callback over `budget` seconds
(measured with `timer`), or a request the exchange refuses otherwise (`InvalidOrder`, ...) fails the pod:
`output.failed(reason, message)` once (reasons `strategy_error`, `time_budget`,
`invalid_order`), and later calls do nothing.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import numpy as np

from .candles import Candle, Candles
from .errors import EngineError, InsufficientBalance
from .sim_exchange import SimExchange
from .strategies import (
    CancelRequest,
    EngineContext,
    LogLine,
    OrderRequest,
    Request,
    Signal,
    Strategy,
    StrategyRunner,
    order_levels,
    touches,
)

__all__ = ["FAILURES", "PaperPod", "PodCore", "PodFailed", "PodOutput", "client_order_id", "client_order_prefix"]

FAILURES = ("strategy_error", "time_budget", "invalid_order", "exchange_error")


class PodFailed(Exception):
    """The pod stopped trading: `reason` (one of `FAILURES`) and a message for people."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class PodOutput(Protocol):
    """Where a pod reports (synchronous calls; the caller stores and sends them)."""

    def order(self, action: str, order: dict[str, Any], tag: str | None) -> None:
        """`action`: `placed`, `filled`, `cancelled`; `order` in ccxt's structure."""

    def trade(self, trade: dict[str, Any], tag: str | None) -> None:
        """A fill of one of the trader's orders, ccxt's trade structure."""

    def log(self, line: LogLine) -> None:
        """A line the strategy logged."""

    def failed(self, reason: str, message: str) -> None:
        """The pod failed (see the module docstring); called once."""


def client_order_prefix(trader_id: str) -> str:
    """What every `clientOrderId` of a trader starts with: `cr` + 8 hex digits of the trader."""
    return f"cr{hashlib.sha1(trader_id.encode()).hexdigest()[:8]}"


def client_order_id(trader_id: str, key: str) -> str:
    """The deterministic `clientOrderId` of the order a trader's event `key` decided: its
    prefix (`client_order_prefix`) + 22 hex digits of the key (32 characters: within every
    exchange's limit, e.g. Binance's 36)."""
    return client_order_prefix(trader_id) + hashlib.sha1(f"{trader_id}|{key}".encode()).hexdigest()[:22]


class PodCore:
    """What every pod shares: the strategy's runner, the window of closed candles, the time
    budget of a callback, the log, and the failure that ends trading."""

    def __init__(self, trader_id: str, runner: StrategyRunner, output: PodOutput, *, known_orders: Iterable[str],
                 known_trades: Iterable[str], budget: float, timer: Callable[[], float]) -> None:
        self.trader_id = trader_id
        self.runner = runner
        self.output = output
        self.budget = budget
        self.timer = timer
        self.failure: PodFailed | None = None
        self.window: Candles | None = None
        self._known_orders = set(known_orders)
        self._known_trades = set(known_trades)
        self._logged = 0

    def reconfigure(self, strategy: Strategy) -> None:
        """Run `strategy` (the same type, new settings) from the next event on; the window of
        candles is kept (a longer one fills as candles close)."""
        self.runner.strategy = strategy
        self.runner.window = strategy.window()

    def _warm(self, warmup: Candles | None) -> None:
        if warmup is not None:
            self.window = warmup[-self.runner.window:] if self.runner.window else warmup

    def _take(self, candle: Candle) -> Candles:
        """The window of closed candles with `candle` added last."""
        row = _one(candle, "1m" if self.window is None else self.window.timeframe)
        window = row if self.window is None else Candles.concat(row.timeframe, [self.window, row])
        self.window = window = window[-self.runner.window:] if self.runner.window else window
        return window

    def _decide(self, call: Callable[[], list[Request]]) -> list[Request]:
        """The requests of one strategy callback; `PodFailed` if it raised or overran its budget."""
        started = self.timer()
        try:
            requests = call()
        except Exception as failure:
            raise PodFailed("strategy_error", f"the strategy raised {type(failure).__name__}: {failure}") from None
        finally:
            self._flush_logs()
        spent = self.timer() - started
        if spent > self.budget:
            raise PodFailed("time_budget", f"the strategy took {spent:.3f} s over its budget of {self.budget} s")
        return requests

    def _drop(self, side: str, why: str) -> None:
        """An order the account can not pay for: a `warning` log line instead of the order."""
        self.runner.context.log(f"{side} order dropped: {why}", "warning")
        self._flush_logs()

    def _failed(self, failure: PodFailed) -> None:
        if self.failure is None:
            self.failure = failure
            self.output.failed(failure.reason, failure.message)

    def _flush_logs(self) -> None:
        logs = self.runner.context.logs
        while self._logged < len(logs):
            self.output.log(logs[self._logged])
            self._logged += 1


class PaperPod(PodCore):
    """See the module docstring. `tags` and `known_orders` are what the output stored before
    (order id -> tag; ids already reported), `known_trades` the trade ids already reported."""

    def __init__(self, trader_id: str, strategy: Strategy, exchange: SimExchange, symbol: str, output: PodOutput, *,
                 tags: dict[str, str] | None = None, known_orders: Iterable[str] = (),
                 known_trades: Iterable[str] = (), budget: float = 0.5,
                 timer: Callable[[], float] = time.perf_counter) -> None:
        self.exchange = exchange
        self.engine = exchange.engine
        self.context = EngineContext(self.engine, symbol, owner=trader_id)
        self.context.tags.update(tags or {})
        self.symbol = self.context.symbol
        super().__init__(trader_id, StrategyRunner(strategy, self.context), output, known_orders=known_orders,
                         known_trades=known_trades, budget=budget, timer=timer)
        self._levels = (-float("inf"), float("inf"))
        self._open: dict[str, str | None] = {}
        self._seen = 0
        self._checking = False

    # -- what the pod is fed ---------------------------------------------------------------

    def open(self, *, fresh: bool, start_key: str, warmup: Candles | None = None) -> None:
        """Reconcile with the account (trades not reported yet, open orders), take `warmup`
        (the closed candles before now), and on a `fresh` start run `on_start`."""
        self._warm(warmup)
        mine = self.trader_id
        for trade in self.engine.trades:
            if trade.owner == mine and trade.symbol == self.symbol and trade.id not in self._known_trades:
                self._report_fill(trade.order_id, trade.to_ccxt())
        self._seen = len(self.engine.trades)
        for order in self.engine.open_orders(self.symbol):
            if order.owner == mine:
                self._open[order.id] = self.context.tags.get(order.id)
                if order.id not in self._known_orders:
                    self._known_orders.add(order.id)
                    self.output.order("placed", order.to_ccxt(), self._open[order.id])
        self._levels = order_levels(self.context.open_orders)
        if fresh:
            self._guarded(lambda: self._handle(self.runner.start, f"s{start_key}"))

    def candle(self, candle: Candle) -> None:
        """A closed candle of the strategy's timeframe: `on_candle` by the wake rule."""
        if self.failure is not None:
            return
        window = self._take(candle)
        touched = touches(self._levels, candle.low, candle.high)
        self._guarded(lambda: self._handle(lambda: self.runner.candle(window, touched=touched), f"c{candle.timestamp}"))
        self._levels = order_levels(self.context.open_orders)

    def signal(self, signal: Signal, key: str) -> None:
        """A signal from outside (a webhook): `on_signal`'s requests carried out; `key` names the
        signal in the orders' `clientOrderId`s (the same signal again places nothing twice)."""
        if self.failure is None:
            self._guarded(lambda: self._handle(lambda: self.runner.signal(signal), f"w{key}"))

    def check_fills(self) -> None:
        """Report the trader's fills since the last look (and orders the engine cancelled),
        running `on_fill` for each."""
        if self.failure is None:
            self._guarded(self._check)

    def stop(self) -> list[dict[str, Any]]:
        """Cancel the trader's open orders (each reported `cancelled`); ccxt's orders back."""
        cancelled = []
        for order in self.engine.open_orders(self.symbol):
            if order.owner == self.trader_id:
                done = self.engine.cancel(order.id).to_ccxt()
                self._open.pop(order.id, None)
                self.output.order("cancelled", done, self.context.tags.get(order.id))
                cancelled.append(done)
        return cancelled

    # -- inside -----------------------------------------------------------------------------

    def _guarded(self, work: Callable[[], None]) -> None:
        try:
            work()
        except PodFailed as failure:
            self._failed(failure)

    def _check(self) -> None:
        if self._checking:
            return  # a fill during on_fill's own requests: the running loop reaches it
        self._checking = True
        try:
            trades, mine = self.engine.trades, self.trader_id
            while self._seen < len(trades):
                trade = trades[self._seen]
                self._seen += 1
                if trade.owner != mine or trade.symbol != self.symbol:
                    continue
                self._report_fill(trade.order_id, trade.to_ccxt())
                if self.runner.strategy.handles_fills():
                    fill = self.context.fill(trade)
                    self._handle(lambda fill=fill: self.runner.fill(fill), f"f{trade.id}")  # type: ignore[misc]
            for order_id in [order_id for order_id in self._open if self.engine.order(order_id).status == "canceled"]:
                self.output.order("cancelled", self.engine.order(order_id).to_ccxt(), self._open.pop(order_id))
        finally:
            self._checking = False

    def _report_fill(self, order_id: str, trade: dict[str, Any]) -> None:
        tag = self.context.tags.get(order_id)
        self._known_trades.add(trade["id"])
        self.output.trade(trade, tag)
        order = self.engine.order(order_id)
        if order.status == "closed":
            self._open.pop(order_id, None)
            self.output.order("filled", order.to_ccxt(), tag)

    def _handle(self, call: Callable[[], list[Request]], key: str) -> None:
        self._execute(self._decide(call), key)
        self._check()

    def _execute(self, requests: list[Request], key: str) -> None:
        for index, request in enumerate(requests):
            if isinstance(request, CancelRequest):
                self._cancel(request.order_id)
                continue
            assert isinstance(request, OrderRequest)
            params = {"clientOrderId": client_order_id(self.trader_id, f"{key}:{index}"), "owner": self.trader_id}
            try:
                order = self.exchange.place(*request.ccxt_args(params))
            except InsufficientBalance as failure:  # as a backtest: dropped, and trading goes on
                self._drop(request.side, failure.message)
                continue
            except EngineError as failure:
                raise PodFailed("invalid_order", f"{failure.code}: {failure.message}") from None
            if request.tag is not None:
                self.context.tags[order.id] = request.tag
            if order.id not in self._known_orders:
                self._known_orders.add(order.id)
                if order.status == "open":
                    self._open[order.id] = request.tag
                self.output.order("placed", order.to_ccxt(), request.tag)

    def _cancel(self, order_id: str) -> None:
        order = self.engine.order(order_id)
        if order.status != "open":
            return
        self.engine.cancel(order_id)
        self._open.pop(order_id, None)
        self.output.order("cancelled", self.engine.order(order_id).to_ccxt(), self.context.tags.get(order_id))


def _one(candle: Candle, frame: str) -> Candles:
    """A series of one candle."""
    return Candles(frame, np.array([candle.timestamp], np.int64), *(np.array([value], np.float64) for value in candle[1:]))

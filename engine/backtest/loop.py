"""The backtest loop: a strategy over candles on the matching engine, jumping from bar to bar.

The account is a `SimExchange` (the paper exchange) on a `BarClock`; orders go through
`SimExchange.place`, the path of a paper pod's `create_order`. Per bar the loop does one
of three things:

- nothing, at bars that are neither wake bars of the strategy nor reach a level of its
  open orders: they are never visited (`next_touch` finds the next bar that reaches a
  level, the `wakes` array the next wake bar);
- play the bar on the matching engine (open, nearer extreme, farther extreme, close), at
  a bar that reaches a level: fills happen at the engine's rules; when the strategy
  handles fills, the bar is played point by point and `on_fill` runs after each point
  that filled, so what it places can fill later in the same bar;
- at a wake bar, or a bar that reached a level (the wake rule of `StrategyRunner`; a
  `wakes_only` type only at wake bars): play the bar, then call `on_candle` at its close
  and carry out the intents. A wake bar that reaches no level (nothing open) is played as
  its close alone: nothing can fill in it, and the engine needs the last price only.

Market time: the clock is at the bar's open while the bar plays (fills carry the bar's
open timestamp, so a fill's bar is the bar it happened in, as backtesting.py's entry and
exit bars), and at the bar's close (the next candle boundary, or the next bar's open if
sooner) when the strategy decides; orders carry that time.

Fill models (`FILL_MODELS`):

- `next_point` (the paper engine's own rule): an order decided at a bar's close meets the
  next price point, the next bar's open;
- `close` (backtesting.py's `trade_on_close`): after the strategy decides, the bar's close
  is played again as a point, so market orders fill at the close of the deciding bar.

`finalize_trades` (backtesting.py's option): after the last bar, the whole position is
sold at market and the last bar is played again, as backtesting.py re-runs its broker on
the last bar: the sale fills at the last bar's open under `next_point` and at its close
under `close` (backtesting.py's `trade_on_close` closes at the previous bar's close there).

Modes (`MODES`): `declared` (the fast loop above), `every_bar` (`on_candle` at every bar:
the proof that `wakes` is faithful) and `live` (a `StrategyRunner` fed each bar with the
latest `window()` candles, touched levels from `order_levels(ctx.open_orders)`, exactly
as a pod drives it). All three give the same trades for a faithful strategy.

The loop runs with Python's cyclic garbage collector paused and no journal, as the
matching engine's notes ask. Every `CHECK_EVERY` events it looks at the wall clock: it
polls `cancelled` at most every `CANCEL_POLL_MS` and reports `progress` at most every
`PROGRESS_INTERVAL_MS` (a few hundred events take a few milliseconds, so a cancel stops
the run within about 50 ms of loop time).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..candles import Candles, timeframe
from ..clock import Clock
from ..errors import EngineError, InsufficientBalance, InvalidTimeframe, ReduceOnlyRejected
from ..futures import funding_bars
from ..futures.account import funding_interval_ms
from ..markets import Market, MarketCatalog
from ..matching import bar_points, next_touch
from ..sim_exchange import SimExchange
from ..strategies import (
    Bar,
    EngineContext,
    OrderRequest,
    Request,
    Strategy,
    StrategyRunner,
    order_levels,
    resolve,
    sell,
    touches,
)

__all__ = ["CANCEL_POLL_MS", "CHECK_EVERY", "FILL_MODELS", "MODES", "OWNER", "PROGRESS_INTERVAL_MS", "BacktestCancelled",
           "Simulation", "paused_gc"]

FILL_MODELS = ("next_point", "close")
MODES = ("declared", "every_bar", "live")
OWNER = "backtest"
"""The owner (trader) of a backtest's orders and position."""
PROGRESS_INTERVAL_MS = 250
CANCEL_POLL_MS = 50
CHECK_EVERY = 256
"""Events between two looks at the wall clock (progress, cancellation)."""

INF = math.inf


@contextmanager
def paused_gc() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block (the matching engine makes no
    reference cycles; collections over a run's growing lists of orders and trades would cost
    more than the run), back as it was after."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class BarClock:
    """The market clock of a run: the loop moves `now` (ms) itself, forwards only."""

    __slots__ = ("now",)

    def __init__(self, start_ms: int) -> None:
        self.now = start_ms

    def now_ms(self) -> int:
        return self.now


class BacktestCancelled(Exception):
    """The run was cancelled (its `cancelled` flag was set); nothing is returned."""


class Simulation:
    """One run's state: the account, the strategy and its context, and what the loop records.

    `run()` plays the candles (by `mode`) and the final step; afterwards `balances` holds
    `(bar, quote total, base total, fills so far)` after every step that filled something
    (on a perpetual `(bar, balance - contracts * entry price, contracts, fills so far)` after
    every step that changed them, funding included: valued at a close, the equity),
    `indicators` the strategy's arrays over the whole series (the `live` mode computes them
    once more for the results).
    """

    def __init__(self, candles: Candles, strategy: Strategy, market: Market, *, cash: float, commission: float | None,
                 fill_model: str, fractional: bool, finalize_trades: bool, mode: str,
                 progress: Callable[[float], Any] | None, cancelled: Callable[[], bool] | None,
                 wall_clock: Clock) -> None:
        self.candles = candles
        self.strategy = strategy
        self.market = market
        self.fill_model = fill_model
        self.fractional = fractional
        self.finalize_trades = finalize_trades
        self.mode = mode
        self.progress = progress
        self.cancelled = cancelled
        self.wall_clock = wall_clock
        self.clock = BarClock(int(candles.timestamp[0]))
        self.exchange = SimExchange(MarketCatalog([market], exchange_id="backtest"), self.clock, id="backtest",
                                    balances={market.quote: cash}, maker=commission, taker=commission,
                                    amount_step=0.0 if fractional else 1.0)
        self.engine = self.exchange.engine
        self.context = EngineContext(self.engine, market.symbol, OWNER)
        self.symbol = self.context.symbol
        self.handles_fills = type(strategy).handles_fills()
        self.swap = not market.spot
        if self.swap and "leverage" in strategy.settings:
            self.engine.futures.set_leverage(OWNER, market, strategy.settings["leverage"])
        self.decided = decision_times(candles)
        self.balances: list[tuple[int, float, float, int]] = []
        self._recorded = 0
        self._quote, self._base, self._totals = market.quote, market.base, self.engine.ledger.total
        self.indicators: dict[str, np.ndarray] = {}
        self._seen = 0
        self._params = {"owner": OWNER}
        self._last_report = wall_clock.now_ms()
        self._last_poll = self._last_report - CANCEL_POLL_MS  # the first look polls

    # -- running ----------------------------------------------------------------------------

    def run(self) -> None:
        """Play the candles, then the final step (callers pause the garbage collector: `paused_gc`)."""
        self._check(0)
        self.execute(resolve(self.strategy.on_start(self.context), self.context))
        self._after(0)
        if self.mode == "live":
            self._live()
        else:
            self.indicators = self.strategy.indicators(self.candles)
            wakes = np.ones(len(self.candles), bool) if self.mode == "every_bar" else self._wakes()
            self._declared(wakes)
        self._finalize()

    def _wakes(self) -> np.ndarray:
        wakes = np.asarray(self.strategy.wakes(self.candles, self.indicators))
        if wakes.shape != (len(self.candles),) or wakes.dtype != bool:
            raise TypeError(f"{self.strategy.type}.wakes must give a bool array of shape ({len(self.candles)},), "
                            f"not {wakes.dtype} {wakes.shape}")
        if self.swap:  # the bars where funding is paid are played (and recorded)
            wakes = wakes | funding_bars(self.candles.timestamp, funding_interval_ms(self.market))
        return wakes

    def _declared(self, wakes: np.ndarray) -> None:
        """The fast loop: visit wake bars and bars that reach a level, nothing else."""
        candles, engine, symbol, strategy, context = self.candles, self.engine, self.symbol, self.strategy, self.context
        stamp_at, open_at, high_at, low_at, close_at = (candles.timestamp.item, candles.open.item, candles.high.item,
                                                        candles.low.item, candles.close.item)
        decided_at, clock, book, play_bar = self.decided.item, self.clock, engine.levels_view(symbol), engine.play_bar
        lows, highs = candles.low, candles.high
        wake_bars = np.flatnonzero(wakes).tolist()
        bar = Bar(candles, self.indicators, 0)
        n, w, count, i = len(candles), 0, len(wake_bars), 0
        on_close, point_by_point, execute, after = self.fill_model == "close", self.handles_fills, self.execute, self._after
        wakes_only = strategy.wakes_only
        events, next_check = 0, CHECK_EVERY
        while i < n:
            wake = wake_bars[w] if w < count else n
            down, up = book.down, book.up
            if down == INF:
                touch = i
            elif down == -INF and up == INF:
                touch = n
            else:
                touch = next_touch(lows, highs, i, down, up, stop=wake)
            j = touch if touch < wake else wake
            if j >= n:
                break
            stamp = stamp_at(j)
            clock.now = stamp
            if touch > j:  # a wake bar with nothing open: the engine only learns its close
                close = close_at(j)
                play_bar(symbol, stamp, close, close, close, close)
                if self.swap:  # (funding may have been paid)
                    after(j)
            elif point_by_point:
                self._play(j, stamp)
            elif play_bar(symbol, stamp, open_at(j), high_at(j), low_at(j), close_at(j)) or self.swap:
                after(j)
            if j == wake:
                w += 1
            if j == wake or not wakes_only:
                clock.now = decided_at(j)
                bar.index = j
                intents = strategy.on_candle(context, bar)
                if intents:
                    execute(resolve(intents, context))
                    after(j)
                    if on_close:
                        self._fill_on_close(j, stamp)
            events += 1
            if events >= next_check:
                self._check(j)
                next_check = events + CHECK_EVERY
            i = j + 1

    def _live(self) -> None:
        """Bar by bar through a `StrategyRunner`, as a pod runs the strategy."""
        candles, context, clock = self.candles, self.context, self.clock
        runner = StrategyRunner(self.strategy, context)
        for j in range(len(candles)):
            touched = touches(order_levels(context.open_orders), float(candles.low[j]), float(candles.high[j]))
            stamp = int(candles.timestamp[j])
            clock.now = stamp
            self._play(j, stamp, runner)
            clock.now = int(self.decided[j])
            requests = runner.candle(candles[max(0, j + 1 - runner.window):j + 1], touched=touched)
            if requests:
                self.execute(requests)
                self._after(j, runner)
                if self.fill_model == "close":
                    self._fill_on_close(j, stamp, runner)
            self._check(j)
        self.indicators = self.strategy.indicators(candles)

    def _play(self, j: int, stamp: int, runner: StrategyRunner | None = None) -> None:
        """Play bar `j` point by point, handing each point's fills to `on_fill`."""
        candles = self.candles
        points = bar_points(float(candles.open[j]), float(candles.high[j]), float(candles.low[j]),
                            float(candles.close[j]))
        for k, price in enumerate(points):
            if self.engine.on_price(self.symbol, stamp, price, price, price, k > 0):
                self._after(j, runner)
        if self.swap:
            self._record(j)  # (funding paid at the open, without a fill)

    def _fill_on_close(self, j: int, stamp: int, runner: StrategyRunner | None = None) -> None:
        """The `close` model: play the deciding bar's close again as a point (a gap), so orders
        waiting for a point fill there; repeated while `on_fill` places more of them."""
        close = float(self.candles.close[j])
        for _ in range(100):
            if self.engine.levels(self.symbol)[0] != INF:
                return
            if self.engine.on_price(self.symbol, stamp, close, close, close, False):
                self._after(j, runner)
        raise RuntimeError(f"{self.strategy.type}: orders placed on fills at bar {j} never end")

    def _after(self, j: int, runner: StrategyRunner | None = None) -> None:
        """After a step that may have filled, at bar `j`: record the balances, and hand the new
        fills to `on_fill` (again for fills its orders make at once)."""
        trades = self.engine.trades
        if self.swap:
            self._record(j)  # (funding moves the balance without a fill)
        while len(trades) != self._seen:
            self._record(j)
            if not self.handles_fills:
                self._seen = len(trades)
                return
            new, self._seen = trades[self._seen:], len(trades)
            for trade in new:
                if trade.owner == OWNER:
                    fill = self.context.fill(trade)
                    self.execute(runner.fill(fill) if runner else resolve(self.strategy.on_fill(self.context, fill),
                                                                          self.context))

    def _record(self, j: int) -> None:
        """After a step that may have filled: the balances and fill count at bar `j`, if it did."""
        count = len(self.engine.trades)
        if self.swap:  # as (balance - contracts * entry, contracts): valued at a close, balance + unrealized P&L
            position = self.engine.futures.position(OWNER, self.symbol)
            contracts, entry = (position.contracts, position.entry_price) if position is not None else (0.0, 0.0)
            cash = self._totals(self._quote) - contracts * entry
            if not self.balances or self.balances[-1][1:] != (cash, contracts, count):
                self._recorded = count
                self.balances.append((j, cash, contracts, count))
        elif count != self._recorded:
            self._recorded = count
            totals = self._totals
            self.balances.append((j, totals(self._quote), totals(self._base), count))

    def execute(self, requests: list[Request]) -> None:
        """Carry out requests in order through the exchange, as a pod does: an order the
        account can not pay for, or a reduce-only order with nothing to reduce, is dropped
        with a `warning` log line; any other refusal
        (`InvalidOrder`, ...) ends the run with that error."""
        exchange, context = self.exchange, self.context
        for request in requests:
            if isinstance(request, OrderRequest):
                try:
                    order = exchange.place(request.symbol, request.type, request.side, request.amount, request.price,
                                           {**request.params(), **self._params} if request.cost is not None
                                           or request.trigger_price is not None or request.reduce_only
                                           else self._params)
                except (InsufficientBalance, ReduceOnlyRejected) as error:
                    context.log(f"{request.side} order dropped: {error.message}", "warning")
                    continue
                except EngineError as error:
                    error.details.setdefault("bar", self._bar_of(self.clock.now))
                    raise
                if request.tag is not None:
                    context.tags[order.id] = request.tag
            else:
                exchange.cancel(request.order_id, request.symbol, {})

    def _bar_of(self, ms: int) -> int:
        return int(np.searchsorted(self.decided, ms, side="left"))

    def _finalize(self) -> None:
        """`finalize_trades`: sell the whole position, then play the last bar again."""
        if not self.finalize_trades:
            return
        last = len(self.candles) - 1
        self.clock.now = int(self.decided[last])
        held = self.context.position
        if self.swap and held:
            self.execute([OrderRequest(self.symbol, "market", "sell" if held > 0.0 else "buy", abs(held),
                                       reduce_only=True)])
        elif held > 0.0 and held >= self.context.min_amount:
            self.execute(resolve((sell(),), self.context))
        stamp, candles = int(self.candles.timestamp[last]), self.candles
        if self.fill_model == "close":
            close = float(candles.close[last])
            self.engine.on_price(self.symbol, stamp, close, close, close, False)
        else:
            self.engine.play_bar(self.symbol, stamp, float(candles.open[last]), float(candles.high[last]),
                                 float(candles.low[last]), float(candles.close[last]))
        self._record(last)

    def _check(self, j: int) -> None:
        """Every `CHECK_EVERY` events: cancellation at most every `CANCEL_POLL_MS` (a flag in
        another process costs a round trip to ask), progress at most every
        `PROGRESS_INTERVAL_MS`, both on the wall clock."""
        now = self.wall_clock.now_ms()
        if self.cancelled is not None and now - self._last_poll >= CANCEL_POLL_MS:
            self._last_poll = now
            if self.cancelled():
                raise BacktestCancelled(f"cancelled at bar {j} of {len(self.candles)}")
        if self.progress is not None and now - self._last_report >= PROGRESS_INTERVAL_MS:
            self._last_report = now
            self.progress(100.0 * j / len(self.candles))


def decision_times(candles: Candles) -> np.ndarray:
    """When a strategy decides at each bar (int64 ms): the bar's close, i.e. the next candle
    boundary of the timeframe, or the next bar's open if that comes first (irregular data);
    the last bar's close by the timeframe (its open when the timeframe is unknown)."""
    timestamps = candles.timestamp
    try:
        frame = timeframe(candles.timeframe)
        closes = frame.opening(frame.bucket(timestamps) + 1)
    except InvalidTimeframe:
        closes = timestamps.copy()
    following = np.append(timestamps[1:], np.iinfo(np.int64).max)
    return np.maximum(np.minimum(closes, following), timestamps)



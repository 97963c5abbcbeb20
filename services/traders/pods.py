"""Pods: where running traders live. One supervised task per running trader (`traders/<id>`).

A pod opens its trader's paper account (`ExchangeAccounts`), builds the strategy with the
trader's settings (the strategy's, the trader's overrides over them) and an
`engine.pod.PaperPod` over the account's `SimExchange`, and listens to the market-data
hub: the closed candles of the strategy's timeframe go to the pod, and every price point
of a market with running paper traders is given once to each of their accounts
(`SimExchange.on_price`), after which each pod on that market reports its fills. The
engine's callbacks are synchronous (an order decided at a close is in the book
before the next point); what they report is queued and written by the pod's task, in
order: `traders/<id>/orders`, `trades` (`created` to the owner), `traders/<id>/logs`, and
`traders/pods/events` (`created` to the owner).

Status is a patch of the trader (`traders patched` to the owner): `starting` -> `running`
-> `stopping` -> `stopped`, or `error` (its open orders cancelled) with `error` saying why (a strategy that raised,
overran its time budget, or placed an order the exchange refused; also a pod that could
not open). Paper accounts run an `engine.pod.PaperPod`, live ones an `engine.live_pod.LivePod`
(ccxt; its candles queued to the pod's task, since its calls await). A running trader's
user follows its market's tickers (`TickerAudience.follow`, reason `traders/<id>`).

Shutdown cancels every pod within the supervisor's deadline; the traders stay `running` in
storage, and at the next start (`resume`) each is started again without `on_start`: it
reconciles with its account (trades not yet recorded, open orders) before anything else,
and handles the candles the replay plays again with the same `clientOrderId`s, so
nothing is placed twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from cryptorobot import App, Supervised
from cryptorobot.errors import Conflict
from engine import SimExchange
from engine.candles import Candle
from engine.feeds import PricePoint
from engine.live_pod import LivePod
from engine.pod import PaperPod
from engine.position_history import position_history
from engine.strategies import LogLine, create_strategy
from services.exchanges import ExchangeAccounts
from services.market_data import Listener, MarketDataHub, MarketKey
from services.tickers import TickerAudience

from .storage import Records

__all__ = ["DEFAULT_TIMEFRAME", "PodManager"]

log = logging.getLogger("services.traders")

CLOCK_SKEW = 60_000
"""ms before a live trader's first start from which its trades are looked for (clocks differ)."""
DEFAULT_TIMEFRAME = "1m"
"""The candles a strategy without a timeframe decides on, on feeds that have none of their own."""


def effective_settings(strategy: dict[str, Any], trader: dict[str, Any]) -> dict[str, Any]:
    """The settings a trader runs with: its overrides over its strategy's."""
    return {**(strategy.get("settings") or {}), **(trader.get("settings") or {})}


class _Runtime:
    """One running trader: its pod, its queue of writes, its listeners."""

    def __init__(self, trader: dict[str, Any], fresh: bool) -> None:
        self.trader = trader
        self.id = str(trader["_id"])
        self.fresh = fresh
        self.pod: PaperPod | LivePod | None = None
        self.key: MarketKey | None = None
        self.listener: Listener | None = None
        self.pending: list[Callable[[], Awaitable[Any]]] = []
        self.wake = asyncio.Event()
        self.ready = asyncio.Event()
        self.finished = asyncio.Event()
        self.stop_requested = False
        self.failure: tuple[str, str] | None = None
        self.handle: Supervised | None = None
        self.next_line = 0
        self.traded = False
        self.cancelled: list[dict[str, Any]] = []

    def queue(self, work: Callable[[], Awaitable[Any]]) -> None:
        self.pending.append(work)
        self.wake.set()


class _Output:
    """`engine.pod.PodOutput` of one runtime: every report queued as a write."""

    def __init__(self, manager: PodManager, runtime: _Runtime) -> None:
        self.manager = manager
        self.runtime = runtime
        self.records = manager.records

    def _event(self, type: str, message: str, data: dict[str, Any]) -> None:
        self.runtime.queue(lambda: self.records.event(self.runtime.trader, type, message, data))

    def order(self, action: str, order: dict[str, Any], tag: str | None) -> None:
        trader = self.runtime.trader
        self.runtime.queue(lambda: self.records.order(trader, action, order, tag))
        amount = order.get("amount")
        what = f"{order['side']} {order['type']} {'' if amount is None else amount} {order['symbol']}"
        price = order.get("average") or order.get("price")
        message = f"{what} {action}" + (f" at {price}" if price is not None and action != "cancelled" else "")
        self._event(f"order_{action}", " ".join(message.split()), {
            "orderId": order["id"], "clientOrderId": order.get("clientOrderId"), "symbol": order["symbol"],
            "side": order["side"], "type": order["type"], "amount": amount, "price": price, "status": order["status"],
            "tag": tag})

    def trade(self, trade: dict[str, Any], tag: str | None) -> None:
        trader = self.runtime.trader
        self.runtime.traded = True
        self.runtime.queue(lambda: self.records.trade(trader, trade, tag))
        fee = trade.get("fee") or {}
        verb = "bought" if trade["side"] == "buy" else "sold"
        self._event("trade_executed", f"{verb} {trade['amount']} {trade['symbol']} at {trade['price']}", {
            "tradeId": trade["id"], "orderId": trade["order"], "symbol": trade["symbol"], "side": trade["side"],
            "amount": trade["amount"], "price": trade["price"], "cost": trade["cost"],
            "fee": {"cost": fee.get("cost"), "currency": fee.get("currency")}, "timestamp": trade["timestamp"]})

    def log(self, line: LogLine) -> None:
        number = self.runtime.next_line
        self.runtime.next_line += 1
        trader = self.runtime.trader
        self.runtime.queue(lambda: self.records.log(trader, number, line))
        self._event("log", line.message, {"severity": line.severity, "lineNumber": number,
                                          "timestamp": line.timestamp})

    def failed(self, reason: str, message: str) -> None:
        self.runtime.failure = (reason, message)
        self._event("error", message, {"reason": reason})


class PodManager:
    """The running traders of this process (see the module docstring)."""

    def __init__(self, app: App, records: Records, accounts: ExchangeAccounts, hub: MarketDataHub,
                 audience: TickerAudience, *, budget: float = 0.5, start_timeout: float = 30.0) -> None:
        self.app = app
        self.records = records
        self.accounts = accounts
        self.hub = hub
        self.audience = audience
        self.budget = budget
        self.start_timeout = start_timeout
        self.runtimes: dict[str, _Runtime] = {}
        self._pricers: dict[MarketKey, tuple[Listener, set[_Runtime]]] = {}
        self._pricing = asyncio.Lock()

    # -- what the traders service calls ---------------------------------------------------------

    def running(self, trader_id: Any) -> bool:
        return str(trader_id) in self.runtimes

    async def start(self, trader: dict[str, Any], *, fresh: bool) -> None:
        """Run `trader`'s pod; returns once it runs or failed to open (its status says which)."""
        runtime = self.runtimes.get(str(trader["_id"]))
        if runtime is None:
            runtime = self.runtimes[str(trader["_id"])] = _Runtime(trader, fresh)
            runtime.handle = self.app.supervise(f"traders/{runtime.id}", lambda: self._run(runtime), restart=False)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(runtime.ready.wait(), self.start_timeout)

    async def stop(self, trader_id: Any) -> list[dict[str, Any]]:
        """Stop the trader's pod: its open orders cancelled (answered, ccxt's orders), its queue written."""
        runtime = self.runtimes.get(str(trader_id))
        if runtime is None:
            return []
        runtime.stop_requested = True
        runtime.wake.set()
        await runtime.finished.wait()
        return runtime.cancelled

    async def reconfigure(self, trader: dict[str, Any]) -> None:
        """A running trader's settings (or its strategy's) changed: its pod runs the new ones."""
        runtime = self.runtimes.get(str(trader["_id"]))
        if runtime is None or runtime.pod is None:
            return
        strategy = await self.records.strategy(trader["strategyId"], trader["userId"])
        runtime.trader = trader
        runtime.pod.reconfigure(create_strategy(strategy["type"], effective_settings(strategy, trader)))

    async def resume(self) -> None:
        """Start again the traders that were running when the server stopped (after the hub)."""
        await self.hub.started.wait()
        for trader in await self.records.traders_to_resume():
            try:
                await self.start(trader, fresh=False)
            except Exception:
                log.exception("trader %s could not be resumed", trader["_id"])

    # -- one pod --------------------------------------------------------------------------------

    async def _run(self, runtime: _Runtime) -> None:
        try:
            try:
                await self._open(runtime)
            except Exception as failure:
                message = getattr(failure, "message", None) or f"{type(failure).__name__}: {failure}"
                if not getattr(failure, "code", None) and not hasattr(failure, "message"):
                    log.exception("trader %s could not start", runtime.id)
                await self.records.event(runtime.trader, "error", f"the trader could not start: {message}",
                                         {"reason": "start_failed"})
                await self.records.set_status(runtime.trader, "error", error=message)
                return
            finally:
                runtime.ready.set()
            await self._serve(runtime)
        except asyncio.CancelledError:  # shutdown: the trader stays `running` and resumes at the next start
            await self._drain(runtime)
            raise
        finally:
            await self._close(runtime)
            self.runtimes.pop(runtime.id, None)
            runtime.finished.set()

    async def _open(self, runtime: _Runtime) -> None:
        trader = runtime.trader
        user = trader["userId"]
        strategy = await self.records.strategy(trader["strategyId"], user)
        account = await self.accounts.account(trader["exchangeId"], owner=user)
        exchange = await self.accounts.exchange_of(account)
        market = await self.accounts.market(account["_id"], trader["symbol"], owner=user)
        if runtime.fresh:
            trader = runtime.trader = await self.records.set_status(trader, "starting", fresh_start=True,
                                                                    balance=await self._free(exchange, market.quote))
        known = await self.records.known(trader)
        runtime.next_line = known.lines
        strategy_object = create_strategy(strategy["type"], effective_settings(strategy, trader))
        output = _Output(self, runtime)
        pod: PaperPod | LivePod
        if isinstance(exchange, SimExchange):
            pod = PaperPod(runtime.id, strategy_object, exchange, trader["symbol"], output, tags=known.tags,
                           known_orders=known.orders, known_trades=known.trades, budget=self.budget)
        else:
            started = trader.get("firstStartedAt") or self.app.clock.now_ms()
            pod = LivePod(runtime.id, strategy_object, exchange, market, output, clock=self.app.clock,
                          since=int(started) - CLOCK_SKEW, tags=known.tags, known_orders=known.orders, known_trades=known.trades,
                          budget=self.budget)
        runtime.pod = pod
        key = runtime.key = await self.hub.key(account["exchange"], trader["symbol"])
        frame = strategy.get("timeframe") or (None if key.exchange == "sim" and key.symbol in self.hub.sources.replayed
                                              else DEFAULT_TIMEFRAME)
        runtime.listener = await self.hub.listen(key.exchange, key.symbol, on_candle=lambda candle: self._candle(
            runtime, candle), timeframe=frame, warmup=pod.runner.window)
        start_key = str(trader.get("starts") or 0)
        if isinstance(pod, PaperPod):
            await self._price(key, runtime)
            pod.open(fresh=runtime.fresh, start_key=start_key, warmup=runtime.listener.warmup)
        else:
            await pod.open(fresh=runtime.fresh, start_key=start_key, warmup=runtime.listener.warmup)
        await self.audience.follow(user, key.exchange, key.symbol, f"traders/{runtime.id}")
        runtime.trader = await self.records.set_status(runtime.trader, "running")
        await self.records.event(runtime.trader, "started", f"{trader['name']} started on {key.exchange} {key.symbol}"
                                 + ("" if runtime.fresh else " (resumed)"), {"resumed": not runtime.fresh})

    async def _serve(self, runtime: _Runtime) -> None:
        pod = runtime.pod
        assert pod is not None
        while True:
            await runtime.wake.wait()
            runtime.wake.clear()
            await self._drain(runtime)
            if runtime.failure is not None:  # a trader in error leaves no order behind
                await self._detach(runtime)
                runtime.cancelled = await self._stop_pod(pod)
                await self._drain(runtime)
                runtime.trader = await self.records.set_status(runtime.trader, "error", error=runtime.failure[1])
                return
            if runtime.stop_requested:
                await self._detach(runtime)
                runtime.cancelled = await self._stop_pod(pod)
                await self._drain(runtime)
                runtime.trader = await self.records.set_status(runtime.trader, "stopped")
                await self.records.event(runtime.trader, "stopped", f"{runtime.trader['name']} stopped", {})
                return

    async def _drain(self, runtime: _Runtime) -> None:
        while runtime.pending:
            work = runtime.pending.pop(0)
            try:
                await work()
            except Conflict:
                pass  # written before a restart
            except Exception:
                log.exception("trader %s: a record could not be written", runtime.id)
        if runtime.traded and runtime.pod is not None:
            runtime.traded = False
            runtime.trader = await self.records.set_profit(runtime.trader, self.profit(runtime.pod))

    @staticmethod
    def profit(pod: PaperPod | LivePod) -> float:
        """Realized plus unrealized P&L of the pod's position (quote)."""
        held = pod.engine.positions.get((pod.trader_id, pod.symbol)) if isinstance(pod, PaperPod) else pod.context.held
        if held is None:
            return 0.0
        price = pod.context.price
        unrealized = held.amount * price - held.cost if held.amount and price == price else 0.0
        return held.realized_pnl + unrealized

    async def _detach(self, runtime: _Runtime) -> None:
        """Stop feeding the pod (its listeners closed, its market unfollowed)."""
        if runtime.listener is not None:
            await runtime.listener.close()
            runtime.listener = None
        if runtime.key is not None:
            await self._unprice(runtime.key, runtime)
            self.audience.unfollow(runtime.trader["userId"], f"traders/{runtime.id}")

    async def _close(self, runtime: _Runtime) -> None:
        with contextlib.suppress(Exception):
            await self._detach(runtime)
        runtime.key = None

    # -- feeding -----------------------------------------------------------------------------------

    def _candle(self, runtime: _Runtime, candle: Candle) -> None:
        pod = runtime.pod
        if pod is None or runtime.stop_requested:
            return
        if isinstance(pod, PaperPod):
            pod.candle(candle)
        else:  # its calls await: the pod's task carries it out, in order
            runtime.queue(lambda: pod.candle(candle))

    @staticmethod
    async def _free(exchange: Any, currency: str) -> float:
        """Free `currency` on the account (what ROI is measured against)."""
        balance = await exchange.fetch_balance()
        return float((balance.get("free") or {}).get(currency) or 0.0)

    @staticmethod
    async def _stop_pod(pod: PaperPod | LivePod) -> list[dict[str, Any]]:
        return pod.stop() if isinstance(pod, PaperPod) else await pod.stop()

    async def _price(self, key: MarketKey, runtime: _Runtime) -> None:
        async with self._pricing:
            entry = self._pricers.get(key)
            if entry is None:
                listener = await self.hub.listen(key.exchange, key.symbol, on_point=lambda point: self._point(key, point))
                entry = self._pricers[key] = (listener, set())
            entry[1].add(runtime)

    async def _unprice(self, key: MarketKey, runtime: _Runtime) -> None:
        async with self._pricing:
            entry = self._pricers.get(key)
            if entry is None or runtime not in entry[1]:
                return
            entry[1].discard(runtime)
            if not entry[1]:
                del self._pricers[key]
                await entry[0].close()

    def _point(self, key: MarketKey, point: PricePoint) -> None:
        pods = [runtime.pod for runtime in self._pricers[key][1]
                if isinstance(runtime.pod, PaperPod) and not runtime.stop_requested]
        # Each paper account a running trader trades this market on gets the point once (not
        # every loaded account of the exchange: with hundreds of accounts that is most of the cost).
        for book in {id(pod.exchange): pod.exchange for pod in pods}.values():
            book.on_price(key.symbol, point.timestamp, point.bid, point.ask, point.last, point.continuous)
        for pod in pods:
            pod.check_fills()

    # -- reading -----------------------------------------------------------------------------------

    async def positions(self, trader: dict[str, Any]) -> list[dict[str, Any]]:
        """The trader's positions from its recorded trades (`engine.position_history`)."""
        trades = await self.records.trades_of(trader)
        key = MarketKey(trader.get("exchange") or "", trader["symbol"])
        ticker = self.hub.ticker(key)
        price = ticker.get("last") if ticker else None
        return [{"traderId": str(trader["_id"]), **entry} for entry in position_history(trades, price)]

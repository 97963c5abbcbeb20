"""`run_backtest`: a strategy type with settings over candles, to a `BacktestResult`.

Inputs are plain and picklable (a `Candles`, a type name, a settings dict, numbers and
strings), so the backtests service can run it in a worker process; `progress` and
`cancelled` are the only callables (a worker passes its own, e.g. a `multiprocessing`
event's `is_set`). Everything the result holds is picklable too, and `to_wire()` makes
it JSON (NaN and infinities null, times in UTC epoch ms).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ..candles import Candles
from ..clock import Clock, SystemClock
from ..errors import InvalidSettings
from ..markets import Market
from ..metrics import Stats, Trades, backtest_stats, haas_orders, haas_results, to_wire
from ..precision import TICK_SIZE, Precision
from ..strategies import LogLine, Strategy, create_strategy, warmup_bars
from .loop import FILL_MODELS, MODES, Simulation, paused_gc
from .records import Fills, Lots, Orders, closed_trades, equity_curve

__all__ = ["BacktestResult", "backtest_market", "run_backtest"]

DEFAULT_COMMISSION = 0.001
"""The `sim` exchange's fee rate (0.1%), a backtest's default."""


def backtest_market(symbol: str, *, fractional: bool = False, commission: float = DEFAULT_COMMISSION) -> Market:
    """A spot market for backtests on any `symbol` (`BASE/QUOTE`): no minimums beyond one
    amount step (one whole unit, or 1e-8 with `fractional`, backtesting.py's
    `FractionalBacktest` default unit), prices to 1e-8, fees `commission` in quote.

    `BASE/QUOTE:QUOTE` makes a linear perpetual by the same rules, with the `sim`
    perpetuals' margin and funding defaults (`engine.futures`: max leverage 125,
    maintenance margin rate 0.005, funding 0.01% every 8 hours); give `market=` to
    `run_backtest` (`engine.sim_markets.perpetual_market`) for others."""
    pair, colon, settle = symbol.partition(":") if isinstance(symbol, str) else ("", "", "")
    if pair.count("/") != 1 or not all(pair.split("/")) or (colon and settle != pair.split("/")[1]):
        raise InvalidSettings({"symbol": f"must be BASE/QUOTE or BASE/QUOTE:QUOTE, not {symbol!r}"})
    base, quote = pair.split("/")
    step = 1e-8 if fractional else 1.0
    return Market(symbol, base, quote, amount_precision=Precision(step, TICK_SIZE),
                  price_precision=Precision(1e-8, TICK_SIZE), min_amount=step, maker=commission, taker=commission,
                  fee_side="quote", type="swap" if colon else "spot", settle=settle or None)


@dataclass(frozen=True)
class BacktestResult:
    """One finished backtest.

    `type`, `settings` (complete), `options` (`symbol`, `initialCash`, `commission`,
    `fillModel`, `fractional`, `finalizeTrades`, `mode`); `statistics` (backtesting.py's
    full set, `engine.metrics.backtest_stats`); HaasOnline's `summary`, `performance`,
    `order_stats` and `position_stats`; `timestamps` and `equity` (float64, (n,), the
    account's value at each bar's close); `trades` (closed, backtesting.py's FIFO trades)
    and `open_lots`; `fills` and `orders` (columns); `strategy_logs` (what the strategy
    logged); `warmup_bars`; `indicators` (the strategy's arrays over the series);
    `last_close` (what open positions are valued at).
    """

    type: str
    settings: dict[str, Any]
    options: dict[str, Any]
    statistics: Stats
    summary: dict[str, Any]
    performance: dict[str, Any]
    order_stats: dict[str, Any]
    position_stats: dict[str, Any]
    timestamps: np.ndarray
    equity: np.ndarray
    trades: Trades
    open_lots: Lots
    fills: Fills
    orders: Orders
    strategy_logs: list[LogLine]
    warmup_bars: int
    indicators: dict[str, np.ndarray]
    last_close: float

    @property
    def base(self) -> str:
        return str(self.options["symbol"]).split("/")[0]

    @property
    def quote(self) -> str:
        return str(self.options["symbol"]).split("/")[1].split(":")[0]

    def logs(self) -> list[LogLine]:
        """The run's log: what the strategy logged, and a `trade` line per order placed,
        filled or cancelled, in time order."""
        lines = list(self.strategy_logs)
        orders = self.orders
        for k in range(len(orders)):
            what = f"{orders.side[k]} {orders.type[k]} order {orders.id[k]}"
            size = orders.amount[k] if orders.amount[k] == orders.amount[k] else orders.budget[k]
            unit = self.base if orders.amount[k] == orders.amount[k] else self.quote
            where = "" if orders.price[k] != orders.price[k] else f" at {orders.price[k]:g}"
            trigger = "" if orders.trigger_price[k] != orders.trigger_price[k] else f" when {orders.trigger_price[k]:g}"
            lines.append(LogLine(int(orders.timestamp[k]), "trade", f"placed {what}: {size:g} {unit}{where}{trigger}"))
            if orders.status[k] == "canceled":
                reason = f": {orders.reason[k]}" if orders.reason[k] else ""
                lines.append(LogLine(int(orders.closed_time[k]), "trade", f"cancelled {what}{reason}"))
        fills = self.fills
        for k in range(len(fills)):
            lines.append(LogLine(int(fills.timestamp[k]), "trade",
                                 f"{'bought' if fills.buy[k] else 'sold'} {fills.amount[k]:g} {self.base} at "
                                 f"{fills.price[k]:g} (order {fills.order_id[k]}, fee {fills.fee[k]:g} "
                                 f"{self.quote if fills.fee_in_quote[k] else self.base})"))
        lines.sort(key=lambda line: line.timestamp)
        return lines

    def positions(self) -> list[dict[str, Any]]:
        """Closed and open positions (backtesting.py's trades) as records: `{status, entryTime,
        entryBar, entryPrice, exitTime, exitBar, exitPrice, amount, fees, realizedProfit,
        unrealizedProfit, roi}` (quote; `roi` in percent; the open ones valued at the last close)."""
        trades, lots = self.trades, self.open_lots
        closed = to_wire({"entryTime": trades.entry_time, "entryBar": trades.entry_bar, "entryPrice": trades.entry_price,
                          "exitTime": trades.exit_time, "exitBar": trades.exit_bar, "exitPrice": trades.exit_price,
                          "amount": trades.size, "fees": trades.commissions, "realizedProfit": trades.pnl,
                          "roi": trades.returns * 100})
        rows = [{"status": "closed", **dict(zip(closed, values, strict=True)), "unrealizedProfit": 0.0}
                for values in zip(*closed.values(), strict=True)]
        last = self.last_close
        for k in range(len(lots)):
            value = lots.size[k] * (last - lots.entry_price[k]) - lots.commissions[k]
            rows.append(to_wire({
                "status": "open", "entryTime": lots.entry_time[k], "entryBar": lots.entry_bar[k],
                "entryPrice": lots.entry_price[k], "exitTime": None, "exitBar": None, "exitPrice": None,
                "amount": lots.size[k], "fees": lots.commissions[k], "realizedProfit": 0.0, "unrealizedProfit": value,
                "roi": value / (lots.size[k] * lots.entry_price[k]) * 100}))
        return rows

    def to_wire(self) -> dict[str, Any]:
        """The whole result as JSON values: `{type, settings, options, statistics, summary,
        performance, orders, positions, equity: {timestamp, equity}, trades (positions()),
        fills, orderHistory, logs}` (`orders`/`positions` are HaasOnline's statistics)."""
        return {
            "type": self.type, "settings": self.settings, "options": self.options,
            "statistics": to_wire(self.statistics), "summary": to_wire(self.summary),
            "performance": to_wire(self.performance), "orders": to_wire(self.order_stats),
            "positions": to_wire(self.position_stats),
            "equity": {"timestamp": self.timestamps.tolist(), "equity": to_wire(self.equity)},
            "trades": self.positions(), "fills": self.fills.to_wire(self.base, self.quote),
            "orderHistory": self.orders.to_wire(),
            "logs": [line.to_wire(number) for number, line in enumerate(self.logs())],
            "warmupBars": self.warmup_bars,
        }


def run_backtest(candles: Candles, strategy_type: str, settings: Mapping[str, Any] | None = None, *,
                 symbol: str = "BTC/USDT", cash: float = 10_000.0, commission: float | None = None,
                 fill_model: str = "next_point", fractional: bool = False, finalize_trades: bool = False,
                 market: Market | None = None, mode: str = "declared", progress: Callable[[float], Any] | None = None,
                 cancelled: Callable[[], bool] | None = None, wall_clock: Clock | None = None) -> BacktestResult:
    """Backtest `strategy_type` with `settings` (defaults filled in) over `candles`.

    `symbol` names the market (`BASE/QUOTE`, or `BASE/QUOTE:QUOTE` for a perpetual whose
    equity is its balance plus unrealized P&L; the quote is the cash currency); `cash` the
    starting quote; `commission` the fee rate of every fill (a fraction; None: the
    market's, 0.1% on the default market); `fill_model` `next_point` or `close` (see
    `engine.backtest.loop`); whole units unless `fractional` (then 1e-8 units, or the
    given `market`'s precision); `finalize_trades` sells what is held at the end;
    `market` replaces the default `backtest_market(symbol)` (an exchange's own precision,
    limits and fees); `mode` `declared` (default), `every_bar` or `live` (checks, see the loop).

    `progress(percent)` is called at most every 250 ms of `wall_clock` (default the system
    clock) during the loop; `cancelled()` is polled as often as every few hundred events
    and, once true, ends the run with `BacktestCancelled` within a few milliseconds.

    Raises `InvalidSettings` (per field: the type, its settings, `cash`, `commission`,
    `fillModel`, `mode`, `candles`, `symbol`) before running anything; `EngineError`s a
    strategy's orders cause (an invalid order) end the run.
    """
    strategy = create_strategy(strategy_type, settings)
    errors = _option_errors(candles, cash, commission, fill_model, mode)
    if errors:
        raise InvalidSettings(errors)
    if market is None:
        market = backtest_market(symbol, fractional=fractional,
                                 commission=DEFAULT_COMMISSION if commission is None else commission)
    if strategy.perpetual and market.spot:
        raise InvalidSettings({"symbol": f"{strategy.type} trades perpetuals: a BASE/QUOTE:QUOTE symbol, not "
                                         f"{market.symbol!r}"})
    with paused_gc():
        simulation = Simulation(candles, strategy, market, cash=float(cash), commission=commission,
                                fill_model=fill_model, fractional=fractional, finalize_trades=finalize_trades, mode=mode,
                                progress=progress, cancelled=cancelled, wall_clock=wall_clock or SystemClock())
        simulation.run()
        run = _Run.of(simulation, candles, market, float(cash), commission)
        del simulation  # its orders and trades go now, before the statistics' arrays exist (a third less peak
        # memory), and while the collector is off (no cycles): back on, it never walks them
        result = _result(run, candles, strategy, market, float(cash))
    return result


class _Run(NamedTuple):
    """A finished `Simulation` as columns: what the results need, none of the engine's objects."""

    equity: np.ndarray
    fills: Fills
    orders: Orders
    options: dict[str, Any]
    logs: list[LogLine]
    indicators: dict[str, np.ndarray]

    @classmethod
    def of(cls, simulation: Simulation, candles: Candles, market: Market, cash: float, commission: float | None) -> _Run:
        engine = simulation.engine
        equity, fill_bars = equity_curve(candles, cash, simulation.balances)
        options = {"symbol": market.symbol, "initialCash": cash,
                   "commission": market.taker if commission is None else float(commission),
                   "fillModel": simulation.fill_model, "fractional": simulation.fractional,
                   "finalizeTrades": simulation.finalize_trades, "mode": simulation.mode}
        return cls(equity, Fills.of(engine.trades, fill_bars, candles, market.quote),
                   Orders.of(list(engine.orders.values()), simulation.context.tags), options, simulation.context.logs,
                   simulation.indicators)


def _result(run: _Run, candles: Candles, strategy: Strategy, market: Market, cash: float) -> BacktestResult:
    """Statistics, HaasOnline's shapes and the columns of a finished run."""
    equity, fills, orders = run.equity, run.fills, run.orders
    trades, lots = closed_trades(fills, signed=not market.spot)
    warmup = warmup_bars(run.indicators)
    stats = backtest_stats(candles.timestamp, candles.close, equity, trades, warmup_bars=warmup)
    results = haas_results(stats, trades, equity, currency=market.quote)
    order_stats = haas_orders(orders.timestamp, orders.closed_time, orders.amount, orders.filled)
    return BacktestResult(strategy.type, dict(strategy.settings), run.options, stats, results["summary"],
                          results["performance"], order_stats, results["positions"], candles.timestamp, equity, trades,
                          lots, fills, orders, run.logs, warmup, run.indicators, float(candles.close[-1]))


def _option_errors(candles: Candles, cash: float, commission: float | None, fill_model: str,
                   mode: str) -> dict[str, str]:
    errors = {}
    if not isinstance(candles, Candles):
        errors["candles"] = "must be engine.candles.Candles"
    elif not len(candles):
        errors["candles"] = "no candles to run over"
    if isinstance(cash, bool) or not isinstance(cash, int | float) or not 0 < cash < math.inf:
        errors["initialCash"] = "must be a positive number"
    if commission is not None and (isinstance(commission, bool) or not isinstance(commission, int | float)
                                   or not 0 <= commission < 0.1):
        errors["commission"] = "must be a fee rate from 0 to 0.1 (a fraction: 0.001 is 0.1%)"
    if fill_model not in FILL_MODELS:
        errors["fillModel"] = f"must be one of {', '.join(FILL_MODELS)}"
    if mode not in MODES:
        errors["mode"] = f"must be one of {', '.join(MODES)}"
    return errors

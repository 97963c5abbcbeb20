"""What a worker process runs: a backtest over candles, as JSON-ready output.

A job is plain, picklable data (the candles travel with it, so a worker needs no access
to the server's stores: a local process and a Dask worker on another machine run the same
job). `job.run(signals)` calls `engine.backtest.run_backtest` through its public API with
the worker's `signals`: `progress(percent)` (0 is sent first: the run has started, the
record becomes `executing`) and `cancelled()` (polled by the loop; once true the run ends
with `BacktestCancelled`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from engine.backtest import BacktestResult, run_backtest
from engine.candles import Candles
from engine.metrics import to_wire

__all__ = ["ROWS", "BacktestJob", "BacktestOutput", "Signals", "TrialJob", "output_of"]

ROWS = {"logs": "logs", "positions": "trades", "trades": "fills", "orders": "orderHistory"}
"""Rows of a result read page by page: path under `backtests/:id/` -> key of `BacktestResult.to_wire()`
(its `trades` are backtesting.py's trades, the positions; its `fills` are ccxt's trades)."""

BacktestOutput = dict[str, Any]
"""`{"results": ..., "logs": [...], "positions": [...], "trades": [...], "orders": [...]}` (`output_of`)."""


class Signals(Protocol):
    """How a job talks to the server while it runs (local processes and Dask each have one)."""

    def progress(self, percent: float) -> None: ...

    def cancelled(self) -> bool: ...


@dataclass(frozen=True)
class BacktestJob:
    """One backtest: `candles`, a strategy `type` with complete `settings`, and the options
    of `run_backtest` (`initial_cash` in quote, `commission` a fee rate, `fill_model`)."""

    candles: Candles
    type: str
    settings: dict[str, Any]
    symbol: str
    initial_cash: float
    commission: float
    fill_model: str
    fractional: bool
    finalize_trades: bool

    def result(self, signals: Signals | None = None) -> BacktestResult:
        """The engine's result (`signals` None: no progress, never cancelled)."""
        if signals is not None:
            signals.progress(0.0)
        return run_backtest(self.candles, self.type, self.settings, symbol=self.symbol, cash=self.initial_cash,
                            commission=self.commission, fill_model=self.fill_model, fractional=self.fractional,
                            finalize_trades=self.finalize_trades,
                            progress=None if signals is None else signals.progress,
                            cancelled=None if signals is None else signals.cancelled)

    def run(self, signals: Signals | None = None) -> BacktestOutput:
        """The run's JSON-ready output (`output_of`)."""
        return output_of(self.result(signals))


def output_of(result: BacktestResult) -> BacktestOutput:
    """A result as the service stores it: `results` is `result.to_wire()` without the rows
    that are read page by page (`ROWS`: `backtests/:id/<path>` holds `to_wire()[<key>]`)."""
    wire = result.to_wire()
    return {"results": wire, **{path: wire.pop(key) for path, key in ROWS.items()}}


@dataclass(frozen=True)
class TrialJob:
    """One optimisation trial: a backtest whose output is only its statistics (wire form)
    and the value of `objective` among them (None when the statistic is NaN or infinite)."""

    backtest: BacktestJob
    objective: str

    def run(self, signals: Signals | None = None) -> dict[str, Any]:
        statistics = to_wire(self.backtest.result(signals).statistics)
        return {"value": statistics[self.objective], "statistics": statistics}

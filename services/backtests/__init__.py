"""Backtests: asynchronous runs of a strategy over stored candles, in a pool of worker processes.

Paths: `backtests` (a user's runs, with the `cancel` custom method) and, for a completed run's
rows page by page, `backtests/:backtestId/logs`, `.../positions`, `.../trades`, `.../orders`;
see `service.py`.

`backtests/optimizations` searches settings with Optuna, its trials in the same pool
(`optimizations.py`, `search.py`: the ranges as Optuna distributions).

Modules: `schemas`, `service` (the services, a run's life), `jobs` (what a worker runs:
`engine.backtest.run_backtest`), `pool` (`LocalPool`: the process pool, progress and
cancellation across processes), `strategy_ref` (a `strategyId`'s type and settings).

Settings (`[backtests]`): `workers` (processes, default: the machine's CPUs), `warm` (start
them at setup, default true), `scheduler` (a Dask distributed scheduler's address: runs and
trials go to that cluster instead, `dask_pool.py`), `paginate` (of the rows' pages).
"""

from __future__ import annotations

import os
from typing import Any

from cryptorobot import App
from cryptorobot.adapters import Index
from cryptorobot.storage import persisted
from hooks import authenticate, restrict_to_owner

from .jobs import ROWS
from .optimizations import OptimizationsService
from .pool import LocalPool, Pool
from .schemas import (
    BacktestChangeSchema,
    BacktestCreateSchema,
    BacktestQuerySchema,
    BacktestResultSchema,
    CancelSchema,
    LogQuerySchema,
    LogResultSchema,
    OptimizationChangeSchema,
    OptimizationCreateSchema,
    OptimizationQuerySchema,
    OptimizationResultSchema,
    OrderQuerySchema,
    OrderResultSchema,
    PositionQuerySchema,
    PositionResultSchema,
    TradeQuerySchema,
    TradeResultSchema,
)
from .service import BacktestsService, RunLines

__all__ = ["BacktestsService", "LocalPool", "OptimizationsService", "register", "worker_pool"]

SIGNED_IN: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"apiKey": []}]
BACKTEST_CODES = ["INVALID_SETTINGS", "INVALID_TIMEFRAME", "NO_CANDLES"]
ROW_SERVICES = {
    "logs": (LogQuerySchema, LogResultSchema, "A completed backtest's log (HaasOnline's entries), in order."),
    "positions": (PositionQuerySchema, PositionResultSchema,
                  "A completed backtest's positions (backtesting.py's trades, and the open ones), in order."),
    "trades": (TradeQuerySchema, TradeResultSchema, "A completed backtest's fills (ccxt's trade structure), in order."),
    "orders": (OrderQuerySchema, OrderResultSchema, "A completed backtest's orders (ccxt's order structure), in order."),
}


def pool_size(settings: dict[str, Any]) -> int:
    """Worker processes: `[backtests] workers`, or the machine's CPUs when 0."""
    return int(settings.get("workers") or os.cpu_count() or 1)


def worker_pool(settings: dict[str, Any]) -> Pool:
    """The pool `[backtests]` settings describe: the Dask cluster `scheduler` names, or
    processes on this machine."""
    if settings.get("scheduler"):
        from .dask_pool import DaskPool  # here: only a scaled-out server loads distributed

        return DaskPool(str(settings["scheduler"]))
    return LocalPool(pool_size(settings), warm=bool(settings.get("warm", True)))


def register(app: App) -> None:
    """`backtests`, `backtests/:backtestId/logs` and `backtests/:backtestId/positions`."""
    from services.candles.store import candle_store

    settings: dict[str, Any] = app.get("backtests") or {}
    pages = app.get("paginate") or {"default": 25, "max": 100}
    line_pages = {"default": 100, "max": 1000, **(settings.get("paginate") or {})}
    store = persisted(app, id="_id", paginate=pages, indexes=[Index(("userId",)), Index(("state",))])
    rows = {name: persisted(app, id="_id", paginate=line_pages, multi=True,
                            indexes=[Index(("backtestId", "seq"), unique=True)]) for name in ROWS}
    pool = worker_pool(settings)
    service = BacktestsService(store, rows, candle_store(app.settings), pool)
    app.use("backtests", service, {
        "methods": ["find", "get", "create", "remove", "cancel"],
        "schemas": {"create": BacktestCreateSchema, "patch": BacktestChangeSchema, "query": BacktestQuerySchema,
                    "result": BacktestResultSchema,
                    "cancel": CancelSchema},
        "docs": {"description": "Your backtests: a strategy (`type` + `settings`, or `strategyId`) over stored candles "
                                "on the simulated exchange, run in a worker pool. A create answers at once "
                                "(`loading_data`); `backtests patched` events then carry `executing`, `progress` "
                                "(0-100) and `completed` with `results`, `failed` with `message`, or `cancelled`. "
                                "Custom method `cancel` ({id}) stops a run within a second.",
                 "security": SIGNED_IN, "codes": BACKTEST_CODES},
    })
    signed_in, owner_only = authenticate("jwt", "api-key"), restrict_to_owner("userId")
    app.service("backtests").hooks({
        "around": {"all": [signed_in]},
        "before": {"find": [owner_only], "get": [owner_only], "create": [owner_only], "remove": [owner_only],
                   "cancel": [owner_only]},
    })
    searches = persisted(app, id="_id", paginate=pages, indexes=[Index(("userId",)), Index(("state",))])
    app.use("backtests/optimizations", OptimizationsService(searches, service, pool_size(settings)), {
        "methods": ["find", "get", "create", "remove", "cancel"],
        "schemas": {"create": OptimizationCreateSchema, "patch": OptimizationChangeSchema,
                    "query": OptimizationQuerySchema, "result": OptimizationResultSchema, "cancel": CancelSchema},
        "docs": {"description": "Your optimisations: Optuna searches over a strategy type's number settings "
                                "(`ranges`), each trial a backtest in the worker pool, `parallel` at a time, scored by "
                                "a backtesting.py statistic (`objective`). Patches carry `progress`, `trialsDone` and "
                                "`best`; the final one every trial. Custom method `cancel` ({id}).",
                 "security": SIGNED_IN, "codes": BACKTEST_CODES},
    })
    app.service("backtests/optimizations").hooks({
        "around": {"all": [signed_in]},
        "before": {"find": [owner_only], "get": [owner_only], "create": [owner_only], "remove": [owner_only],
                   "cancel": [owner_only]},
    })
    for name, (query, result, what) in ROW_SERVICES.items():
        path = f"backtests/:backtestId/{name}"
        app.use(path, RunLines(service, rows[name]), {
            "methods": ["find"], "schemas": {"query": query, "result": result},
            "docs": {"description": what, "security": SIGNED_IN, "codes": []}})
        app.service(path).hooks({"around": {"find": [signed_in]}, "before": {"find": [owner_only]}})

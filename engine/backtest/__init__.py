"""Backtests: a strategy type and settings over candles, on the matching engine, bar to bar.

    from engine.backtest import run_backtest
    result = run_backtest(candles, "sma_cross", {"fastPeriod": 10, "slowPeriod": 30}, cash=10_000,
                          commission=0.001, fill_model="next_point", fractional=False, finalize_trades=False)
    result.statistics["Sharpe Ratio"], result.summary["roi"], result.trades.pnl
    record = result.to_wire()   # JSON: statistics, HaasOnline's summary/performance/orders/positions, ...

* `run_backtest`, `BacktestResult`, `backtest_market` (`run`);
* the loop (`loop`): `Simulation`, `FILL_MODELS`, `MODES`, `BacktestCancelled`, `paused_gc`,
  `CHECK_EVERY`, `CANCEL_POLL_MS`, `PROGRESS_INTERVAL_MS`, `OWNER`;
* columns of a finished run (`records`): `Fills`, `Orders`, `Lots`, `closed_trades`, `equity_curve`.
"""

from .loop import (
    CANCEL_POLL_MS,
    CHECK_EVERY,
    FILL_MODELS,
    MODES,
    OWNER,
    PROGRESS_INTERVAL_MS,
    BacktestCancelled,
    Simulation,
    paused_gc,
)
from .records import Fills, Lots, Orders, closed_trades, equity_curve
from .run import BacktestResult, backtest_market, run_backtest

__all__ = [
    "CANCEL_POLL_MS", "CHECK_EVERY", "FILL_MODELS", "MODES", "OWNER", "PROGRESS_INTERVAL_MS", "BacktestCancelled",
    "BacktestResult", "Fills", "Lots", "Orders", "Simulation", "backtest_market", "closed_trades", "equity_curve",
    "paused_gc", "run_backtest",
]

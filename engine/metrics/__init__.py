"""Statistics of backtests and portfolios: backtesting.py 0.6.6's full set, HaasOnline's
result shapes, a portfolio's performance; numpy-vectorised, from arrays.

One backtest::

    stats = backtest_stats(timestamps, close, equity, trades, warmup_bars=29)  # backtesting.py's names
    results = haas_results(stats, trades, equity, currency="USDT")            # summary/performance/positions
    record = {"statistics": to_wire(stats), **to_wire(results)}               # JSON: null for NaN, ms for times

A portfolio (irregular balance snapshots, closed positions)::

    portfolio_performance(balance_time, balance, trades)
"""

from .backtest import STAT_NAMES, Stats, backtest_stats
from .drawdown import Drawdown, drawdown
from .equity import equity_stats
from .haas import haas_orders, haas_results
from .periods import Periodicity
from .portfolio import portfolio_performance
from .trades import Trades
from .tradestats import ProfitTotals, profit_totals, trade_stats
from .wire import to_wire

__all__ = [
    "STAT_NAMES", "Drawdown", "Periodicity", "ProfitTotals", "Stats", "Trades", "backtest_stats", "drawdown",
    "equity_stats", "haas_orders", "haas_results", "portfolio_performance", "profit_totals", "to_wire", "trade_stats",
]

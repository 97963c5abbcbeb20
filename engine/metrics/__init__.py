"""Statistics of backtests and portfolios (backtesting.py's set, HaasOnline's summaries)."""

from .backtest import STAT_NAMES, Stats, backtest_stats
from .trades import Trades
from .wire import to_wire

__all__ = ["STAT_NAMES", "Stats", "Trades", "backtest_stats", "to_wire"]

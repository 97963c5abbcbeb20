"""backtesting.py 0.6.6 runs, and their equity and trades as the input of our statistics."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from backtesting import Backtest, Strategy
from backtesting._stats import compute_stats
from backtesting._util import _indicator_warmup_nbars
from backtesting.lib import FractionalBacktest, crossover
from backtesting.test import BTCUSD, EURUSD, GOOG, SMA

from engine.metrics import STAT_NAMES, Trades

DATASETS = {"BTCUSD": BTCUSD, "GOOG": GOOG, "EURUSD": EURUSD}
COMMISSION = 0.001


class SmaCrossLong(Strategy):
    """Long only: buy all-in (whole units) when the fast SMA crosses above the slow one, close
    when it crosses back below."""

    fast, slow = 10, 30

    def init(self) -> None:
        self.fast_sma = self.I(SMA, self.data.Close, self.fast)
        self.slow_sma = self.I(SMA, self.data.Close, self.slow)

    def next(self) -> None:
        if crossover(self.fast_sma, self.slow_sma) and not self.position:
            self.buy()
        elif crossover(self.slow_sma, self.fast_sma) and self.position:
            self.position.close()


class SmaCrossReversing(SmaCrossLong):
    """backtesting.py's own example: always in the market, long or short."""

    def next(self) -> None:
        if crossover(self.fast_sma, self.slow_sma):
            self.position.close()
            self.buy()
        elif crossover(self.slow_sma, self.fast_sma):
            self.position.close()
            self.sell()


class Pyramid(Strategy):
    """Overlapping trades: one unit every 7 bars while fewer than 3 are open, all closed every 40."""

    def init(self) -> None:
        pass

    def next(self) -> None:
        bar = len(self.data)
        if bar % 40 == 0:
            self.position.close()
        elif bar % 7 == 0 and len(self.trades) < 3:
            self.buy(size=1)


class Winners(Strategy):
    """Looks ahead (a test device): enters only when the open four bars later is `gain`
    higher, so every trade wins."""

    gain = 0.03

    def init(self) -> None:
        self.future_open = np.asarray(self.data.Open, dtype=float)  # the whole series, in init
        self.entered = -1

    def next(self) -> None:
        bar = len(self.data) - 1
        if self.position and bar - self.entered >= 4:
            self.position.close()
        elif not self.position and bar + 5 < len(self.future_open) \
                and self.future_open[bar + 5] > self.future_open[bar + 1] * (1 + self.gain):
            self.buy()
            self.entered = bar


class NoTrades(Strategy):
    def init(self) -> None:
        pass

    def next(self) -> None:
        pass


@dataclass(frozen=True)
class Run:
    """One backtesting.py run and its statistics."""

    data: pd.DataFrame
    stats: pd.Series

    def timestamps(self) -> np.ndarray:
        return ms(self.data.index)

    def inputs(self) -> dict[str, Any]:
        """The keyword arguments of `backtest_stats` for this run."""
        table = self.stats["_trades"]
        trades = Trades(
            entry_bar=table.EntryBar, exit_bar=table.ExitBar, entry_time=ms(table.EntryTime),
            exit_time=ms(table.ExitTime), entry_price=table.EntryPrice, exit_price=table.ExitPrice,
            size=table.Size, pnl=table.PnL, returns=table.ReturnPct, commissions=table.Commission)
        return {
            "timestamps": self.timestamps(), "close": self.data.Close.to_numpy(),
            "equity": self.stats["_equity_curve"].Equity.to_numpy(), "trades": trades,
            "warmup_bars": _indicator_warmup_nbars(self.stats["_strategy"])}


def ms(values: Any) -> np.ndarray:
    """Datetimes as UTC epoch milliseconds (int64)."""
    return pd.DatetimeIndex(values).as_unit("ms").asi8


def run(dataset: str, strategy: type[Strategy], *, cash: float, finalize: bool = False, fractional: bool = False,
        **params: Any) -> Run:
    data = DATASETS[dataset]
    backtest_class = FractionalBacktest if fractional else Backtest
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backtest = backtest_class(data, strategy, cash=cash, commission=COMMISSION, finalize_trades=finalize)
        return Run(data, backtest.run(**params))


def reference_stats(timestamps: np.ndarray, close: np.ndarray, equity: np.ndarray, trades: Trades) -> pd.Series:
    """backtesting.py's `compute_stats` on the same input (its trade-table form, microsecond index)."""
    index = pd.DatetimeIndex(timestamps.astype("datetime64[ms]")).as_unit("us")
    table = pd.DataFrame({
        "EntryBar": trades.entry_bar, "ExitBar": trades.exit_bar, "PnL": trades.pnl, "ReturnPct": trades.returns,
        "Duration": index[trades.exit_bar] - index[trades.entry_bar]})
    with np.errstate(all="ignore"):
        return compute_stats(trades=table, equity=equity, ohlc_data=pd.DataFrame({"Close": close}, index=index),
                             strategy_instance=None)


def differences(ours: dict[str, Any], theirs: pd.Series, rel: float = 1e-9) -> list[str]:
    """Every statistic where `ours` and backtesting.py's disagree (empty when all agree).

    Numbers agree to relative `rel` (NaN with NaN, inf with inf of the same sign); times and
    durations exactly; a duration backtesting.py leaves undefined (NaN, NaT, or its drawdown
    fraction in the episode-less case, see engine.metrics.backtest) is our None;
    `Commissions [$]`, which it omits when 0, is our 0.0.
    """
    found = []
    for name in STAT_NAMES:
        expected, got = theirs.get(name, 0.0), ours[name]
        if not _agree(name, expected, got, rel):
            found.append(f"{name}: backtesting.py {expected!r}, ours {got!r}")
    return found


def _agree(name: str, expected: Any, got: Any, rel: float) -> bool:
    if isinstance(expected, pd.Timestamp):
        return got.tzinfo is not None and pd.Timestamp(got.replace(tzinfo=None)) == expected
    if name.endswith("Duration") and name != "Duration":
        if isinstance(expected, pd.Timedelta) and expected is not pd.NaT:
            return got is not None and pd.Timedelta(got) == expected
        return got is None  # NaT, NaN, or the drawdown fraction of the episode-less case
    if isinstance(expected, pd.Timedelta):
        return pd.Timedelta(got) == expected
    if isinstance(expected, float | np.floating) and math.isnan(expected):
        return isinstance(got, float) and math.isnan(got)
    if isinstance(expected, float | np.floating) and math.isinf(expected):
        return got == expected
    return type(got) in (int, float) and math.isclose(got, float(expected), rel_tol=rel, abs_tol=0.0)

"""Statistics speed: `engine.metrics.backtest_stats` against backtesting.py's `compute_stats`.

    .venv/bin/python bench/metrics.py [--bars 2000,1000000] [--rounds 5] [--seed 7]

Both compute every statistic of the same backtest: a seeded random walk of hourly bars,
traded long-only on SMA(10)/SMA(30) crosses, one unit per trade, 0.1% commission (the
equity and trades come from a vectorised simulation, outside the timing). backtesting.py
gets its trades as the objects its own `Backtest.run` hands over (attributes `size`,
`entry_bar`, `pl`, `_commissions`, `entry_time`, ...), so it does all its usual work. The two
results are compared statistic by statistic (relative 1e-9); a disagreement voids the
figures and the script exits 1. Printed per size: median seconds over `--rounds` (the two
take turns in each round) and the ratio backtesting.py / ours.

A second table times `engine.indicators` on the largest size against what one would write
with pandas (`rolling().mean()/std()`, `ewm().mean()`), medians of `--rounds`, to show the
indicator share of a backtest's budget.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backtesting._stats import compute_stats

from engine.indicators import bollinger_bands, ema, macd, rsi, sma
from engine.metrics import Trades, backtest_stats
from tests.engine.backtesting_reference import differences

HOUR_MS = 3_600_000
COMMISSION = 0.001


def simulate(bars: int, seed: int) -> dict[str, Any]:
    """A long-only SMA(10)/SMA(30) run of one unit, at the close of the signal bar."""
    rng = np.random.default_rng(seed)
    timestamps = 1_500_000_000_000 + np.arange(bars, dtype=np.int64) * HOUR_MS
    close = 10_000 * np.exp(np.cumsum(rng.normal(0, 0.005, bars)))
    long = np.nan_to_num(sma(close, 10) - sma(close, 30)) > 0
    edges = np.diff(np.concatenate(([0], long.astype(np.int8), [0])))
    entry, exit_ = np.flatnonzero(edges == 1), np.minimum(np.flatnonzero(edges == -1), bars - 1)
    entry_price, exit_price = close[entry], close[exit_]
    commissions = COMMISSION * (entry_price + exit_price)
    held = np.concatenate(([0.0], long[:-1].astype(float)))
    equity = 100_000 + np.cumsum(np.concatenate(([0.0], np.diff(close))) * held)
    trades = Trades(entry_bar=entry, exit_bar=exit_, entry_time=timestamps[entry], exit_time=timestamps[exit_],
                    entry_price=entry_price, exit_price=exit_price, size=np.ones(len(entry)),
                    pnl=exit_price - entry_price - commissions,
                    returns=exit_price / entry_price - 1 - commissions / entry_price, commissions=commissions)
    return {"timestamps": timestamps, "close": close, "equity": equity, "trades": trades}


def reference_input(case: dict[str, Any]) -> dict[str, Any]:
    """The same run as backtesting.py's `compute_stats` takes it from `Backtest.run`."""
    index = pd.DatetimeIndex(case["timestamps"].astype("datetime64[ms]")).as_unit("us")
    trades: Trades = case["trades"]
    objects = [
        SimpleNamespace(size=size, entry_bar=entry, exit_bar=exit_, entry_price=entry_price, exit_price=exit_price,
                        sl=None, tp=None, pl=pnl, _commissions=commissions, pl_pct=returns, entry_time=index[entry],
                        exit_time=index[exit_], tag=None)
        for size, entry, exit_, entry_price, exit_price, pnl, commissions, returns in zip(
            trades.size, trades.entry_bar, trades.exit_bar, trades.entry_price, trades.exit_price, trades.pnl,
            trades.commissions, trades.returns, strict=True)]
    return {"trades": objects, "equity": case["equity"], "ohlc_data": pd.DataFrame({"Close": case["close"]}, index=index),
            "strategy_instance": None}


def timed(call: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def median_seconds(call: Any, rounds: int) -> float:
    return statistics.median(timed(call)[0] for _ in range(rounds))


def indicator_table(close: np.ndarray, rounds: int) -> None:
    """engine.indicators against the pandas one-liners for the same figures."""
    series = pd.Series(close)
    pairs = {
        "sma(30)": (lambda: sma(close, 30), lambda: series.rolling(30).mean()),
        "ema(26)": (lambda: ema(close, 26), lambda: series.ewm(span=26, adjust=False).mean()),
        "rsi(14)": (lambda: rsi(close, 14), lambda: _pandas_rsi(series, 14)),
        "bollinger(20)": (lambda: bollinger_bands(close, 20),
                          lambda: (series.rolling(20).mean(), series.rolling(20).std(ddof=0))),
        "macd(12,26,9)": (lambda: macd(close), lambda: _pandas_macd(series)),
    }
    print(f"\n{len(close)} bars {'ours ms':>16} {'pandas ms':>10}")
    for name, (ours, pandas) in pairs.items():
        print(f"{name:>16} {median_seconds(ours, rounds) * 1000:>13.1f} {median_seconds(pandas, rounds) * 1000:>10.1f}")


def _pandas_rsi(series: pd.Series, period: int) -> pd.Series:
    change = series.diff()
    gain = change.clip(lower=0).ewm(alpha=1 / period, adjust=False).mean()
    loss = (-change).clip(lower=0).ewm(alpha=1 / period, adjust=False).mean()
    return 100 * gain / (gain + loss)


def _pandas_macd(series: pd.Series) -> pd.Series:
    line = series.ewm(span=12, adjust=False).mean() - series.ewm(span=26, adjust=False).mean()
    return line.ewm(span=9, adjust=False).mean()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bars", default="2000,1000000", help="comma-separated series lengths")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    print(f"{'bars':>10} {'trades':>7} {'ours s':>9} {'backtesting.py s':>17} {'ratio':>7}")
    failed = False
    sizes = [int(text) for text in options.bars.split(",")]
    for bars in sizes:
        case = simulate(bars, options.seed)
        reference = reference_input(case)
        ours_times, theirs_times = [], []
        for _ in range(options.rounds):
            seconds, ours = timed(lambda: backtest_stats(**case))  # noqa: B023
            ours_times.append(seconds)
            seconds, theirs = timed(lambda: compute_stats(**reference))  # noqa: B023
            theirs_times.append(seconds)
        wrong = differences(ours, theirs)
        if wrong:
            failed = True
            print(f"{bars}: results differ, figures void:", *wrong, sep="\n  ")
            continue
        ours_s, theirs_s = statistics.median(ours_times), statistics.median(theirs_times)
        print(f"{bars:>10} {len(case['trades']):>7} {ours_s:>9.4f} {theirs_s:>17.4f} {theirs_s / ours_s:>6.1f}x")
    indicator_table(simulate(max(sizes), options.seed)["close"], options.rounds)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""A full backtest per second of bars: our engine against backtesting.py and vectorbt, in one run.

    .venv/bin/python bench/backtest.py [--bars 2000,1000000] [--rounds 5] [--seed 7] [--no-vectorbt]
                                       [--profile] [--memory] [--mypyc]

One workload for all three: a seeded random walk of hourly bars, SMA(10)/SMA(30), long
only, one unit per trade (so the account never goes bankrupt), 0.1% commission, orders
decided at a bar's close filled at the next bar's open.

- ours: `run_backtest(candles, "sma_cross", {"sizing": "Base amount", "orderSize": 1})`,
  the whole thing: the indicators, the bar-jumping loop placing every order through the
  paper exchange and the matching engine (fees, reservations, owner positions), the fills,
  orders and FIFO trades as columns, the equity curve, backtesting.py's full statistics and
  HaasOnline's summaries.
- backtesting.py 0.6.6: `Backtest(...).run()` of the same strategy (`buy(size=1)`,
  `position.close()`), its statistics included.
- vectorbt (bench extra): its own pipeline for the same strategy, `vbt.MA.run` and
  `ma_crossed_above/below` for the signals, shifted a bar and filled at the open
  (`Portfolio.from_signals(..., price=open)`), then `pf.stats()`. Warm: one untimed run
  first, so numba's compilation is left out.

Every figure is the median of `--rounds` rounds (backtesting.py: at most two on a million
bars, about five seconds each); the sides take turns within a round, and the garbage
collector collects before each timed call, so no side pays for another's garbage. Each
result is checked against ours: the same number of trades and the same final equity (to
1e-9 relative); a disagreement voids the figures and exits 1. `--memory` runs ours alone
on a million bars in a fresh process and reports its peak resident memory; the worker-side
time of a 1-year hourly backtest (8,760 bars) is printed too. `--profile` prints our run
under cProfile. `--mypyc` compiles the engine's hot modules (`MYPYC_MODULES`, unchanged
code) with mypyc in a temporary copy and times ours again in a child process with them
first on its path (needs a C compiler); its results are checked like the others. See
bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.backtest import BacktestResult, run_backtest
from engine.candles import Candles
from engine.indicators import sma

os.environ.setdefault("TQDM_DISABLE", "1")  # backtesting.py's progress bar (tqdm reads its defaults from here)

HOUR_MS = 3_600_000
COMMISSION = 0.001
ONE_UNIT = {"fastPeriod": 10, "slowPeriod": 30, "sizing": "Base amount", "orderSize": 1}
failures: list[str] = []


def random_walk(bars: int, seed: int) -> Candles:
    """Hourly candles of a seeded random walk (0.5% per bar), opens one step from the last close."""
    rng = np.random.default_rng(seed)
    close = 10_000 * np.exp(np.cumsum(rng.normal(0, 0.005, bars)))
    opening = np.concatenate(([10_000.0], close[:-1])) * np.exp(rng.normal(0, 0.001, bars))
    high = np.maximum(opening, close) * np.exp(np.abs(rng.normal(0, 0.002, bars)))
    low = np.minimum(opening, close) * np.exp(-np.abs(rng.normal(0, 0.002, bars)))
    timestamps = 1_500_000_000_000 // HOUR_MS * HOUR_MS + HOUR_MS * np.arange(bars, dtype=np.int64)
    return Candles("1h", timestamps, opening, high, low, close, np.ones(bars))


def cash_for(candles: Candles) -> float:
    """Enough for one unit at any price of the walk."""
    return float(100 * candles.high.max())


def ours(candles: Candles) -> BacktestResult:
    return run_backtest(candles, "sma_cross", ONE_UNIT, cash=cash_for(candles), commission=COMMISSION)


def frame(candles: Candles) -> pd.DataFrame:
    index = pd.DatetimeIndex(candles.timestamp.astype("datetime64[ms]"))
    return pd.DataFrame({"Open": candles.open, "High": candles.high, "Low": candles.low, "Close": candles.close,
                         "Volume": candles.volume}, index=index)


def backtesting_py(data: pd.DataFrame, cash: float) -> tuple[int, float]:
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover

    class OneUnitSmaCross(Strategy):
        def init(self) -> None:
            self.fast = self.I(sma, self.data.Close, 10)
            self.slow = self.I(sma, self.data.Close, 30)

        def next(self) -> None:
            if crossover(self.fast, self.slow) and not self.position:
                self.buy(size=1)
            elif crossover(self.slow, self.fast) and self.position:
                self.position.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = Backtest(data, OneUnitSmaCross, cash=cash, commission=COMMISSION).run()
    return int(stats["# Trades"]), float(stats["Equity Final [$]"])


def vectorbt(data: pd.DataFrame, cash: float) -> tuple[int, float]:
    import vectorbt as vbt

    close = data["Close"]
    fast, slow = vbt.MA.run(close, 10), vbt.MA.run(close, 30)
    entries = fast.ma_crossed_above(slow).shift(1, fill_value=False)
    exits = fast.ma_crossed_below(slow).shift(1, fill_value=False)
    portfolio = vbt.Portfolio.from_signals(close, entries, exits, price=data["Open"], size=1, fees=COMMISSION,
                                           init_cash=cash, freq="1h")
    stats = portfolio.stats()
    return int(stats["Total Closed Trades"]), float(stats["End Value"])


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def check(name: str, ours_result: BacktestResult, trades: int, equity: float, bars: int) -> None:
    mine_trades, mine_equity = len(ours_result.trades), float(ours_result.equity[-1])
    if trades != mine_trades or abs(equity - mine_equity) > 1e-9 * abs(mine_equity):
        failures.append(f"{bars} bars: {name} made {trades} trades ending at {equity!r}, ours {mine_trades} at "
                        f"{mine_equity!r}")


def compare(bars: int, rounds: int, seed: int, with_vectorbt: bool) -> tuple[dict[str, float], BacktestResult]:
    candles = random_walk(bars, seed)
    data, cash = frame(candles), cash_for(candles)
    sides: dict[str, Callable[[], Any]] = {"ours": lambda: ours(candles),
                                           "backtesting.py": lambda: backtesting_py(data, cash)}
    if with_vectorbt:
        sides["vectorbt"] = lambda: vectorbt(data, cash)
        vectorbt(data, cash)  # warm: numba compiles here, untimed
    ours(candles)
    times: dict[str, list[float]] = {name: [] for name in sides}
    results: dict[str, Any] = {}
    for round_ in range(rounds):
        for name, call in sides.items():
            if name == "backtesting.py" and bars > 100_000 and round_ >= 2:
                continue
            seconds, results[name] = timed(call)
            times[name].append(seconds)
    mine = results["ours"]
    for name in sides:
        if name != "ours":
            check(name, mine, *results[name], bars)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"\n{bars:,} bars, {len(mine.trades):,} trades ({len(mine.orders):,} orders); median of "
          f"{rounds} rounds (backtesting.py: {len(times['backtesting.py'])})")
    print(f"{'':16} {'seconds':>9} {'bars/s':>12} {'time / ours':>12}")
    for name, seconds in medians.items():
        print(f"{name:16} {seconds:9.4f} {bars / seconds:12,.0f} {seconds / medians['ours']:11.2f}x")
    return medians, mine


MYPYC_MODULES = ("engine/matching.py", "engine/ledger.py", "engine/orders.py", "engine/positions.py",
                 "engine/precision.py", "engine/sim_exchange.py", "engine/strategies/intents.py",
                 "engine/backtest/loop.py", "engine/backtest/records.py")
"""What `--mypyc` compiles: the matching engine and the loop's order path, unchanged."""


def ours_child(bars: int, rounds: int, seed: int) -> None:
    """Run in a fresh process (the compiled engine first on its path): `seconds trades equity module`."""
    import engine.matching

    candles = random_walk(bars, seed)
    result = ours(candles)
    seconds = statistics.median(timed(lambda: ours(candles))[0] for _ in range(rounds))
    print(seconds, len(result.trades), repr(float(result.equity[-1])), engine.matching.__file__)


def compiled(runs: dict[int, tuple[dict[str, float], BacktestResult]], rounds: int, seed: int) -> None:
    """The same run with the engine modules compiled by mypyc (in a copy, in a temporary directory)."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as build:
        shutil.copytree(root / "engine", Path(build) / "engine", ignore=shutil.ignore_patterns("__pycache__", "*.so"))
        shutil.copy(root / "pyproject.toml", build)  # the mypy configuration mypyc type-checks with
        made = subprocess.run([sys.executable, "-m", "mypyc", *MYPYC_MODULES], cwd=build, capture_output=True, text=True)
        if made.returncode:
            raise SystemExit(f"mypyc failed:\n{made.stdout[-3000:]}{made.stderr[-3000:]}")
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join((build, str(root)))}
        for bars, (medians, mine) in runs.items():
            output = subprocess.run([sys.executable, __file__, "--ours-child", str(bars), "--rounds", str(rounds),
                                     "--seed", str(seed)], env=environment, capture_output=True, text=True,
                                    check=True).stdout.split()
            seconds, trades, equity = float(output[0]), int(output[1]), float(output[2])
            if not output[3].endswith(".so"):
                failures.append(f"--mypyc: the child ran {output[3]}, not a compiled module")
            check("the compiled engine", mine, trades, equity, bars)
            ratios = ", ".join(f"{name} {medians[name] / seconds:.2f}x" for name in medians if name != "ours")
            print(f"\n{bars:,} bars, engine compiled with mypyc: {seconds:.4f} s, {bars / seconds:,.0f} bars/s "
                  f"(time of {ratios} of it; the interpreted one {medians['ours'] / seconds:.2f}x)")


def one_year(rounds: int, seed: int) -> None:
    candles = random_walk(8_760, seed)
    ours(candles)
    seconds = statistics.median(timed(lambda: ours(candles))[0] for _ in range(max(rounds, 5)))
    print(f"\n1 year of hourly bars (8,760), worker side: {seconds * 1000:.1f} ms")


def peak_mb() -> float:
    """This process's peak resident memory (`VmHWM`; `ru_maxrss` would carry the parent's over exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def memory_child(bars: int, seed: int) -> None:
    """Run in a fresh process: peak resident memory of imports, data, and one run."""

    imported = peak_mb()
    candles = random_walk(bars, seed)
    with_data = peak_mb()
    ours(candles)
    print(f"{imported:.0f} {with_data:.0f} {peak_mb():.0f}")


def memory(bars: int, seed: int) -> None:
    output = subprocess.run([sys.executable, __file__, "--memory-child", str(bars), "--seed", str(seed)],
                            capture_output=True, text=True, check=True).stdout.split()
    imported, with_data, peak = map(float, output)
    print(f"\npeak resident memory, {bars:,} bars in a fresh process: {peak:.0f} MB = imports {imported:.0f} MB "
          f"(pandas, numpy, the engine; not ccxt) + candles {with_data - imported:.0f} MB + the run {peak - with_data:.0f} MB")


def profile(bars: int, seed: int) -> None:
    candles = random_walk(bars, seed)
    ours(candles)
    profiler = cProfile.Profile()
    profiler.runcall(ours, candles)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bars", default="2000,1000000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-vectorbt", action="store_true", help="leave vectorbt out (it is the bench extra)")
    parser.add_argument("--memory", action="store_true", help="peak memory of a million-bar run")
    parser.add_argument("--profile", action="store_true", help="our largest run under cProfile")
    parser.add_argument("--mypyc", action="store_true", help="ours again with the engine compiled by mypyc")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--ours-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.seed)
        return
    if args.ours_child:
        ours_child(args.ours_child, args.rounds, args.seed)
        return
    sizes = [int(size) for size in args.bars.split(",")]
    runs = {bars: compare(bars, args.rounds, args.seed, not args.no_vectorbt) for bars in sizes}
    if args.mypyc:
        compiled(runs, args.rounds, args.seed)
    one_year(args.rounds, args.seed)
    if args.memory:
        memory(max(sizes), args.seed)
    if args.profile:
        profile(max(sizes), args.seed)
    if failures:
        print("\nDISAGREEMENT, figures void:\n" + "\n".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()

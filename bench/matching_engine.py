"""Matching engine throughput: orders placed and filled per second, against a bare loop.

    .venv/bin/python bench/matching_engine.py [--orders 20000] [--bars 200000] [--rounds 5] [--gc] [--profile SCENARIO]

Each scenario runs the engine and a reference in the same process, back to back, for
`--rounds` rounds; the figures are medians. The reference is a bare Python loop doing the
same arithmetic with no checks (no precision, no limits, no reservations, no order
objects): `cost = amount * price`, `fee = cost * rate`, the two balance updates, a trade
tuple appended. The ratio `engine / reference` is the cost of everything the engine adds.
Every run is checked (fills counted, balances equal to the reference's) and a wrong answer
makes the script exit 1. Python's cyclic garbage collector is off while a scenario runs, as a
backtest loop runs it (the engine makes no reference cycles; `--gc` leaves it on). See
bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import math
import pstats
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
from ccxt.base.decimal_to_precision import NO_PADDING, TICK_SIZE, TRUNCATE, decimal_to_precision

from engine.clock import ManualClock
from engine.matching import MatchingEngine, next_touch
from engine.precision import Precision
from engine.sim_markets import sim_catalog

SYMBOL = "BTC/USDT"
RATE = 0.001
failures: list[str] = []


def check(condition: bool, message: str) -> None:
    if not condition:
        failures.append(message)


def prices(n: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 60_000 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))


CASH = 1e9


def engine() -> MatchingEngine:
    return MatchingEngine(sim_catalog(), ManualClock(0), {"USDT": CASH, "BTC": 1e6})


def bare_fills(fill_prices: list[float]) -> tuple[float, float, list[tuple[float, float, float, float]]]:
    """The reference: fills of 0.01 at `fill_prices`, buys and sells alternating, with no checks.
    Returns (seconds, quote balance, trades)."""
    quote, base, trades = CASH, 1e6, []
    start = time.perf_counter()
    for i, price in enumerate(fill_prices):
        amount = 0.01
        cost = amount * price
        fee = cost * RATE
        if i % 2 == 0:
            quote -= cost + fee
            base += amount
        else:
            quote += cost - fee
            base -= amount
        trades.append((price, amount, cost, fee))
    return time.perf_counter() - start, quote, trades


# -- scenarios: each returns (operations, engine seconds, reference seconds) ------------------

def market_orders(n: int) -> tuple[int, float, float]:
    """Place a market order, fill it at the next point; buys and sells alternate."""
    path = [float(p) for p in prices(n)]
    account = engine()
    place, on_price = account.place, account.on_price
    on_price(SYMBOL, 0, path[0], path[0], path[0])
    start = time.perf_counter()
    for i in range(n):
        place(SYMBOL, "buy" if i % 2 == 0 else "sell", "market", 0.01)
        p = path[i]
        on_price(SYMBOL, i, p, p, p)
    engine_s = time.perf_counter() - start

    reference_s, quote, trades = bare_fills(path)
    check(len(account.trades) == n == len(trades), "market: every order fills once")
    check(account.ledger.total("USDT") == quote, "market: the same quote balance")
    return n, engine_s, reference_s


def resting_limits(n: int) -> tuple[int, float, float]:
    """Place a limit 0.1% away from the price, then a point that trades through it (and one back)."""
    path = [float(p) for p in prices(n + 1)]
    account = engine()
    place, on_price = account.place, account.on_price
    on_price(SYMBOL, 0, path[0], path[0], path[0])
    start = time.perf_counter()
    for i in range(n):
        p = path[i]  # the last point; the limit is 0.1% away, the next point 0.2%
        if i % 2 == 0:
            place(SYMBOL, "buy", "limit", 0.01, p * 0.999)
            q = p * 0.998
        else:
            place(SYMBOL, "sell", "limit", 0.01, p * 1.001)
            q = p * 1.002
        on_price(SYMBOL, i, q, q, q, True)
        on_price(SYMBOL, i, path[i + 1], path[i + 1], path[i + 1], True)
    engine_s = time.perf_counter() - start

    tick = Precision(0.01)  # the market's price precision, applied outside the reference's timing
    reference_s, quote, _ = bare_fills([tick.round(p * (0.999 if i % 2 == 0 else 1.001)) for i, p in enumerate(path[:n])])
    check(account.ledger.total("USDT") == quote, "limits: the same quote balance")
    check(len(account.trades) == n, f"limits: every limit fills once ({len(account.trades)} of {n})")
    check(all(t.taker is False for t in account.trades), "limits: resting limits fill as maker")
    return n, engine_s, reference_s


def bars_with_orders(n: int) -> tuple[int, float, float]:
    """Play bars (four points each) with a resting bracket that fills about every other bar."""
    close = prices(n + 1)
    rng = np.random.default_rng(3)
    spread = np.abs(rng.normal(0, 0.002, n + 1)) + 0.0015
    opens, highs, lows, closes = ([float(x) for x in a] for a in (
        close[:-1], np.maximum(close[:-1], close[1:]) * (1 + spread[1:]),
        np.minimum(close[:-1], close[1:]) * (1 - spread[1:]), close[1:]))
    account = engine()
    place, play_bar, levels = account.place, account.play_bar, account.levels
    play_bar(SYMBOL, 0, opens[0], highs[0], lows[0], closes[0])
    nothing_resting = (-math.inf, math.inf)
    start = time.perf_counter()
    fills = 0
    for i in range(n):
        if levels(SYMBOL) == nothing_resting:
            c = closes[i - 1] if i else opens[0]
            place(SYMBOL, "buy", "limit", 0.01, c * 0.999)
            place(SYMBOL, "sell", "limit", 0.01, c * 1.001)
        fills += play_bar(SYMBOL, i, opens[i], highs[i], lows[i], closes[i])
    engine_s = time.perf_counter() - start

    quote, trades = CASH, []
    buy = sell = math.nan  # the bracket's open levels (NaN: filled)
    start = time.perf_counter()
    for i in range(n):
        if buy != buy and sell != sell:
            c = closes[i - 1] if i else opens[0]
            buy, sell = c * 0.999, c * 1.001
        o = opens[i]
        if lows[i] <= buy:  # (NaN compares false)
            price = o if o < buy else buy
            cost = 0.01 * price
            quote -= cost + cost * RATE
            trades.append((price, 0.01, cost, cost * RATE))
            buy = math.nan
        if highs[i] >= sell:
            price = o if o > sell else sell
            cost = 0.01 * price
            quote += cost - cost * RATE
            trades.append((price, 0.01, cost, cost * RATE))
            sell = math.nan
    reference_s = time.perf_counter() - start
    check(fills == len(account.trades) == len(trades) > n // 4, f"bars: the same fills ({fills}, {len(trades)})")
    check(all(abs(a - b) <= 0.005 + 1e-9 for a, b in zip(sorted(t.price for t in account.trades),
                                                          sorted(t[0] for t in trades), strict=True)),
          "bars: the same fill prices (the engine's on the 0.01 tick)")
    check(math.isclose(account.ledger.total("USDT"), quote, rel_tol=1e-9), "bars: the same quote balance, to ticks")
    return n, engine_s, reference_s


def idle_bars(n: int) -> tuple[int, float, float]:
    """Play bars that reach no level (a resting order far away): the cheap path of `play_bar`."""
    close = prices(n)
    opens, highs, lows, closes = ([float(x) for x in a] for a in (close, close * 1.001, close * 0.999, close))
    account = engine()
    account.play_bar(SYMBOL, 0, opens[0], highs[0], lows[0], closes[0])
    account.place(SYMBOL, "buy", "limit", 0.01, 1_000.0)
    play_bar = account.play_bar
    start = time.perf_counter()
    for i in range(n):
        play_bar(SYMBOL, i, opens[i], highs[i], lows[i], closes[i])
    engine_s = time.perf_counter() - start

    level = 1_000.0
    start = time.perf_counter()
    last = 0.0
    for i in range(n):
        if lows[i] <= level:
            break
        last = closes[i]
    reference_s = time.perf_counter() - start
    check(not account.trades and last == closes[-1], "idle bars: nothing fills")
    return n, engine_s, reference_s


def skipped_bars(n: int) -> tuple[int, float, float]:
    """Find the next bar that reaches a level with `next_touch` instead of playing every bar."""
    close = prices(n)
    high, low = close * 1.001, close * 0.999
    account = engine()
    account.play_bar(SYMBOL, 0, close[0], high[0], low[0], close[0])
    account.place(SYMBOL, "buy", "limit", 0.01, float(close.min()) * 1.0005)
    start = time.perf_counter()
    down, up = account.levels(SYMBOL)
    i = next_touch(low, high, 1, down, up)
    account.play_bar(SYMBOL, i, float(close[i]), float(high[i]), float(low[i]), float(close[i]))
    engine_s = time.perf_counter() - start

    start = time.perf_counter()
    level = float(close.min()) * 1.0005
    j = next(k for k in range(1, n) if low[k] <= level)
    reference_s = time.perf_counter() - start
    check(i == j and len(account.trades) == 1, "skipped bars: the touching bar is found and fills")
    return n, engine_s, reference_s


def precision(n: int) -> tuple[int, float, float]:
    """`Precision.truncate` against ccxt's own `decimal_to_precision` (here the reference is ccxt)."""
    values = [float(x) for x in np.random.default_rng(5).uniform(0, 10, n)]
    step = Precision(0.00001)
    start = time.perf_counter()
    ours = [step.truncate(x) for x in values]
    engine_s = time.perf_counter() - start
    start = time.perf_counter()
    theirs = [float(decimal_to_precision(x, TRUNCATE, 0.00001, TICK_SIZE, NO_PADDING)) for x in values]
    reference_s = time.perf_counter() - start
    check(ours == theirs, "precision: equal to ccxt")
    return n, engine_s, reference_s


SCENARIOS: dict[str, tuple[Callable[[int], tuple[int, float, float]], str, str]] = {
    "market": (market_orders, "orders", "place a market order + fill it at the next point"),
    "limit": (resting_limits, "orders", "place a limit + a point through it (maker fill) + a point back"),
    "bar+orders": (bars_with_orders, "bars", "play a bar as 4 points, a bracket refilled when both filled"),
    "idle-bar": (idle_bars, "bars", "play a bar that reaches no level"),
    "skip": (skipped_bars, "bars", "next_touch over the series + play the one touching bar"),
    "precision": (precision, "calls", "Precision.truncate; reference: ccxt decimal_to_precision"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--bars", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--profile", metavar="SCENARIO", help="profile one scenario's engine side with cProfile")
    parser.add_argument("--gc", action="store_true", help="leave the cyclic garbage collector on")
    args = parser.parse_args()
    sizes = {"orders": args.orders, "bars": args.bars, "calls": args.orders}
    if args.profile:
        function, unit, _ = SCENARIOS[args.profile]
        profiler = cProfile.Profile()
        if not args.gc:
            gc.disable()
        profiler.runcall(function, sizes[unit])
        gc.enable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
        return 0
    print(f"{'scenario':<11} {'engine /s':>12} {'reference /s':>13} {'ratio':>7}  what")
    for name in args.scenarios.split(","):
        function, unit, what = SCENARIOS[name]
        rates, reference_rates, ratios = [], [], []
        for _ in range(args.rounds):
            gc.collect()
            if not args.gc:
                gc.disable()
            try:
                count, engine_s, reference_s = function(sizes[unit])
            finally:
                gc.enable()
            rates.append(count / engine_s)
            reference_rates.append(count / reference_s)
            ratios.append(engine_s / reference_s)
        print(f"{name:<11} {statistics.median(rates):>12,.0f} {statistics.median(reference_rates):>13,.0f} "
              f"{statistics.median(ratios):>7.2f}  {unit}: {what}")
    for failure in failures:
        print("WRONG:", failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Grids and DCA in a backtest: the bar-jumping loop against Python at every bar, same run.

    .venv/bin/python bench/grid_dca.py [--bars 1000000] [--rounds 3] [--seed 7]

Each strategy (`spot_grid`, `spot_dollar_cost_averaging`) runs over the same random walk of
`--bars` one-minute candles in the `declared` mode (the loop visits only the bars that reach
one of the strategy's orders) and the `every_bar` mode (`on_candle` at every bar: what a loop
without the wake declaration costs). Both must make the same fills (else exit 1). Printed:
the median seconds of each, their ratio, the fills and the share of bars with a fill (about
the bars the declared loop visits: those that reach an order).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from engine.backtest import run_backtest
from engine.candles import Candles

CASES = {
    "spot_grid": {"gridCount": 40, "rangePercent": 30, "investmentAmount": 8_000, "tradeToFillGrid": True},
    "spot_dollar_cost_averaging": {"orderSize": 500, "safetyOrderSize": 500, "safetyOrders": 5,
                                   "priceDeviation": 1.5, "takeProfit": 1.0},
}


def walk(n: int, seed: int) -> Candles:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.0005, n)))
    opening = np.concatenate(([100.0], close[:-1]))
    spread = np.abs(rng.normal(0, 0.0003, n))
    high, low = np.maximum(opening, close) * (1 + spread), np.minimum(opening, close) * (1 - spread)
    return Candles("1m", 1_700_000_040_000 + 60_000 * np.arange(n, dtype=np.int64), opening, high, low, close,
                   np.ones(n))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    candles = walk(args.bars, args.seed)
    print(f"{args.bars} bars, median of {args.rounds} rounds")
    print(f"{'type':<28} {'declared s':>10} {'every_bar s':>11} {'ratio':>6} {'fills':>7} {'bars with fills':>15}")
    failed = False
    for name, settings in CASES.items():
        times: dict[str, list[float]] = {"declared": [], "every_bar": []}
        fills: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            for mode in times:
                started = time.perf_counter()
                result = run_backtest(candles, name, settings, cash=10_000, fractional=True, mode=mode)
                times[mode].append(time.perf_counter() - started)
                fills[mode] = result.fills.price.tolist()
        if fills["declared"] != fills["every_bar"]:
            print(f"{name}: the two modes made different fills", file=sys.stderr)
            failed = True
        declared, every = statistics.median(times["declared"]), statistics.median(times["every_bar"])
        with_fills = len(set(result.fills.bar.tolist())) / args.bars
        print(f"{name:<28} {declared:>10.3f} {every:>11.3f} {every / declared:>6.1f} {len(fills['declared']):>7} "
              f"{with_fills:>14.2%}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

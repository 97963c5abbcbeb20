"""Candle store benchmark: load a million candles into arrays, import a million from CSV.

    .venv/bin/python bench/candle_store.py [--candles 1000000] [--rounds 5] [--mongodb URL | --nx]

Each figure is the median of `--rounds`, next to a reference measured in the same run on
the same data (ratios survive a busy machine; absolute times do not):

* load: `SqliteCandleStore.read` of one series (every column of every candle, as numpy
  arrays) against `numpy.load` of the same six columns saved as one raw `.npy` file, the
  floor for reading 48 bytes a candle from disk; also a fresh store (first connection),
  a 25-candle page from the end of the series (what `GET /candles` reads), and a 1h load
  resampled from the stored 1m series against pandas' `resample().agg()` on arrays in memory;
* import: `read_candle_file` + `store.write` (parse, check, clean, find gaps, store)
  against `pandas.read_csv` alone on the same file, for ccxt rows (epoch ms) and for
  backtesting.py's layout (ISO dates; the reference then parses dates too);
* with `--mongodb URL` (or `--nx`: a local nx-27017 stand-in, much slower than MongoDB)
  the load is measured on `MongoCandleStore` too.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.candles import (
    Candles,
    CandleStore,
    MongoCandleStore,
    SeriesKey,
    SqliteCandleStore,
    read_candle_file,
)

KEY = SeriesKey("bench", "BTC/USDT", "1m")
START = 1_577_836_800_000  # 2020-01-01


def series(count: int) -> Candles:
    rng = np.random.default_rng(7)
    close = 10_000 + np.cumsum(rng.normal(0, 5, count))
    open_ = np.concatenate(([close[0]], close[:-1]))
    spread = rng.random(count) * 3
    return Candles("1m", START + np.arange(count, dtype=np.int64) * 60_000, open_, np.maximum(open_, close) + spread,
                   np.minimum(open_, close) - spread, close, rng.random(count) * 20)


def median_time(run: Callable[[], object], rounds: int, before: Callable[[], object] | None = None) -> float:
    times = []
    for _ in range(rounds):
        if before is not None:
            before()
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def row(name: str, seconds: float, reference: float | None = None, reference_name: str = "") -> None:
    ratio = f"{seconds / reference:6.1f}x {reference_name} ({reference * 1000:8.1f} ms)" if reference else ""
    print(f"  {name:<48} {seconds * 1000:9.1f} ms   {ratio}")


def bench_load(store: CandleStore, label: str, candles: Candles, workdir: Path, rounds: int,
               fresh: Callable[[], CandleStore] | None = None) -> None:
    store.delete(KEY)
    store.write(KEY, candles)
    raw = workdir / "columns.npy"
    table = np.stack([candles.timestamp.view(np.float64), candles.open, candles.high, candles.low, candles.close,
                      candles.volume])
    np.save(raw, table)
    assert np.array_equal(store.read(KEY).close, candles.close)
    reference = median_time(lambda: np.load(raw), rounds)
    print(f"load {len(candles):,} candles ({label})")
    row("CandleStore.read (whole series)", median_time(lambda: store.read(KEY), rounds), reference, "numpy.load")
    if fresh is not None:
        def first_read() -> None:
            opened = fresh()
            opened.read(KEY)
            opened.close()

        row("a fresh store's first read", median_time(first_read, rounds), reference, "numpy.load")
    row("CandleStore.page (last 25)", median_time(
        lambda: store.page(KEY, skip=len(candles) - 25, limit=25), rounds))
    frame = pd.DataFrame({"open": candles.open, "high": candles.high, "low": candles.low, "close": candles.close,
                          "volume": candles.volume}, index=pd.to_datetime(candles.timestamp, unit="ms"))
    pandas_1h = median_time(lambda: frame.resample("1h").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}), rounds)
    row("CandleStore.load 1h from 1m (read + resample)", median_time(
        lambda: store.load(KEY.with_timeframe("1h")), rounds), pandas_1h, "pandas resample")


def bench_import(candles: Candles, workdir: Path, rounds: int) -> None:
    ms_file, iso_file = workdir / "rows.csv", workdir / "backtesting.csv"
    frame = pd.DataFrame({"timestamp": candles.timestamp, "open": candles.open, "high": candles.high,
                          "low": candles.low, "close": candles.close, "volume": candles.volume})
    frame.to_csv(ms_file, header=False, index=False)
    dated = frame.rename(columns=str.capitalize).drop(columns="Timestamp")
    dated.index = pd.to_datetime(candles.timestamp, unit="ms").strftime("%Y-%m-%d %H:%M:%S")
    dated.to_csv(iso_file)
    print(f"import {len(candles):,} candles from CSV")
    for label, path, reference in (
            ("ccxt rows, epoch ms", ms_file, lambda: pd.read_csv(ms_file, header=None)),
            ("backtesting.py layout, ISO dates", iso_file,
             lambda: pd.read_csv(iso_file, index_col=0, parse_dates=True))):
        store = SqliteCandleStore(workdir / f"import-{uuid.uuid4().hex}.db")

        def run(path: Path = path, store: SqliteCandleStore = store) -> None:
            imported, report = read_candle_file(path, "1m")
            assert report.count == len(candles) and not report.gaps
            store.write(KEY, imported)

        total = median_time(run, rounds, before=lambda store=store: store.delete(KEY))
        parse = median_time(lambda path=path: read_candle_file(path, "1m"), rounds)
        reference_time = median_time(reference, rounds)
        row(f"{label}: read_candle_file + write", total, reference_time, "pandas.read_csv")
        row(f"{label}: read_candle_file alone", parse, reference_time, "pandas.read_csv")
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candles", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mongodb", help="also measure MongoCandleStore at this URL")
    parser.add_argument("--nx", action="store_true", help="also measure MongoCandleStore on a local nx-27017")
    args = parser.parse_args()
    candles = series(args.candles)
    with tempfile.TemporaryDirectory(prefix="candle-bench-") as directory:
        workdir = Path(directory)
        path = workdir / "candles.db"
        store = SqliteCandleStore(path)
        bench_load(store, "SQLite file", candles, workdir, args.rounds, fresh=lambda: SqliteCandleStore(path))
        store.close()
        bench_import(candles, workdir, args.rounds)
        url, server = args.mongodb, None
        if args.nx and not url:
            from tests.adapters.nx_server import NxServer

            server = NxServer().start()
            url = server.url
        if url:
            mongo = MongoCandleStore(url, f"bench_{uuid.uuid4().hex[:8]}")
            try:
                bench_load(mongo, "MongoDB" + (" (nx-27017 stand-in)" if server else ""), candles, workdir,
                           args.rounds)
            finally:
                mongo.client.drop_database(mongo.database)
                mongo.close()
                if server is not None:
                    server.stop()


if __name__ == "__main__":
    main()

"""Candles for backtest tests and benchmarks: a seeded hourly walk, written where the platform reads it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.candles import Candles, SeriesKey, SqliteCandleStore

EXCHANGE = "binance"
"""Where the test series are stored: not `sim`, whose stored series every server replays as
live tickers (reading them all at startup)."""
HOUR_MS = 3_600_000
START = 1_704_067_200_000
"""2024-01-01T00:00:00Z."""
YEAR_HOURS = 8_760


def walk(bars: int, seed: int = 7, start: int = START, step: int = HOUR_MS) -> Candles:
    """Hourly candles of a seeded random walk around 100 (opens at the last close)."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, bars)))
    opening = np.concatenate(([100.0], close[:-1]))
    spread = np.abs(rng.normal(0, 0.003, bars))
    return Candles("1h", start + step * np.arange(bars, dtype=np.int64), opening,
                   np.maximum(opening, close) * (1 + spread), np.minimum(opening, close) * (1 - spread), close,
                   np.ones(bars))


def store_candles(data_dir: Path, candles: Candles, exchange: str = EXCHANGE, symbol: str = "BTC/USDT") -> None:
    """Write `candles` where the platform reads them (`<data_dir>/candles.db`)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    store = SqliteCandleStore(data_dir / "candles.db")
    try:
        store.write(SeriesKey(exchange, symbol, candles.timeframe), candles)
    finally:
        store.close()

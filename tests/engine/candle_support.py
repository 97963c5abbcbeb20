"""Candle series for tests, and the candle stores under test (SQLite file, MongoDB via nx-27017)."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np

from engine.candles import Candles, CandleStore, MongoCandleStore, SqliteCandleStore
from engine.candles.timeframes import timeframe

HOUR = 3_600_000
MINUTE = 60_000
START = 1_704_067_200_000
"""2024-01-01T00:00:00Z"""
STORES = ["sqlite", "mongodb"]


def walk(count: int, frame: str = "1m", start: int = START, seed: int = 1, step: int | None = None) -> Candles:
    """A consistent random-walk series of `count` candles opening every `step` ms (default: the timeframe)."""
    rng = np.random.default_rng(seed)
    every = step or timeframe(frame).ms
    close = 100 + np.cumsum(rng.normal(0, 0.5, count))
    open_ = np.concatenate(([100.0], close[:-1]))
    spread = rng.random(count)
    return Candles(frame, start + np.arange(count, dtype=np.int64) * every, open_,
                   np.maximum(open_, close) + spread, np.minimum(open_, close) - spread, close, rng.random(count) * 10)


def make_store(kind: str, tmp_path: Path) -> CandleStore:
    if kind == "sqlite":
        return SqliteCandleStore(tmp_path / "candles.db")
    from tests.adapters import nx_server

    return MongoCandleStore(nx_server.shared().url, f"crtest_{uuid.uuid4().hex[:12]}",
                            client_options={"serverSelectionTimeoutMS": 5000})


def drop(store: CandleStore) -> None:
    if isinstance(store, MongoCandleStore):
        store.client.drop_database(store.database)
    store.close()

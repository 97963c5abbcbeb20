"""Which candle store a configuration means (the service and the command line share it).

`[candles] store` is "sqlite", "mongodb", or "" (default) to follow `storage`: with
`storage = "mongodb"` the candles live in that MongoDB database (`mongodb.url`,
`mongodb.database`), otherwise in `<data_dir>/candles.db`. A memory `storage` still keeps
candles in the file: they are written by the command line, a different process, and must
outlive any one server.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptorobot.files import private_database
from engine.candles import CandleStore, MongoCandleStore, SqliteCandleStore

__all__ = ["CANDLE_FILE", "candle_store", "store_kind"]

CANDLE_FILE = "candles.db"
KINDS = ("sqlite", "mongodb")


def store_kind(settings: Mapping[str, Any]) -> str:
    chosen = str((settings.get("candles") or {}).get("store") or "")
    if not chosen:
        return "mongodb" if settings.get("storage") == "mongodb" else "sqlite"
    if chosen not in KINDS:
        raise ValueError(f"candles.store must be one of {', '.join(KINDS)} (or empty), not {chosen!r}")
    return chosen


def candle_store(settings: Mapping[str, Any]) -> CandleStore:
    """The candle store `settings` (a loaded configuration) point at."""
    if store_kind(settings) == "sqlite":
        return SqliteCandleStore(private_database(Path(settings.get("data_dir") or "./data") / CANDLE_FILE))
    mongodb = settings.get("mongodb") or {}
    if not mongodb.get("url"):
        raise ValueError("candles in MongoDB need mongodb.url")
    return MongoCandleStore(str(mongodb["url"]), str(mongodb.get("database") or "cryptorobot"))

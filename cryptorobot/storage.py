"""Choosing the adapter of a persisted service from the `storage` setting.

Platform services ask for `persisted(app, ...)` instead of naming an adapter, so one
setting moves every persisted service between memory, the embedded SQLite file and MongoDB.
Ephemeral state (tickers) uses `MemoryService` directly whatever the setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .adapters import AdapterService, MemoryService, SqliteService

if TYPE_CHECKING:
    from .app import App

__all__ = ["persisted", "database_file", "STORAGE_KINDS"]

STORAGE_KINDS = ("sqlite", "memory", "mongodb")
DATABASE_FILE = "cryptorobot.db"


def database_file(app: App) -> Path:
    """`<data dir>/cryptorobot.db`: every SQLite-backed service has a table in it."""
    return Path(app.get("data_dir") or "./data") / DATABASE_FILE


def persisted(app: App, **options: Any) -> AdapterService:
    """An adapter for a service whose records must survive restarts (per `storage`)."""
    kind = app.get("storage") or "sqlite"
    if kind == "memory":
        return MemoryService(**options)
    if kind == "sqlite":
        return SqliteService(path=str(database_file(app)), **options)
    if kind == "mongodb":
        from .adapters import MongoService

        settings = app.get("mongodb") or {}
        url = settings.get("url")
        if not url:
            raise ValueError("storage = \"mongodb\" needs mongodb.url (e.g. mongodb://127.0.0.1:27017)")
        # Services on one URL share one client (see adapters/mongodb/clients.py).
        return MongoService(url=url, database=settings.get("database") or "cryptorobot", **options)
    raise ValueError(f"unknown storage {kind!r}; expected one of {', '.join(STORAGE_KINDS)}")

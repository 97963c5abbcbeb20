"""The embedded persistent adapter: JSON documents in SQLite, queried in SQL."""

from .service import SqliteService

__all__ = ["SqliteService"]

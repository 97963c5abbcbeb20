"""Storage adapters: one public behaviour (`AdapterService`), proven by one conformance suite."""

from .base import AdapterService, Index
from .memory import MemoryService
from .sqlite import SqliteService  # stdlib sqlite3 + bson (pymongo, a core dependency)

__all__ = ["AdapterService", "Index", "MemoryService", "SqliteService"]

# Persisted adapters go below, imported lazily or guarded so that importing this package
# never requires their drivers (e.g. `SqliteService` from .sqlite, appended to __all__).

__all__ += ["MongoService"]


def __getattr__(name: str) -> type[AdapterService]:  # PEP 562: `MongoService` imports pymongo's async client on first use
    if name == "MongoService":
        from .mongodb import MongoService

        return MongoService
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""sqlite3 exceptions -> Feathers errors; no raw database exception reaches a caller.

A unique constraint becomes the index's own `Conflict` (naming the fields, never the
value); a locked, busy, full or unreadable database is `Unavailable` (503: try again); any
other database error is a bare `GeneralError`, its details logged on the server only.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable

from ...errors import FeathersError, GeneralError, Unavailable
from ..base import Index, duplicate_id

__all__ = ["translate"]

log = logging.getLogger("cryptorobot.adapters.sqlite")
_UNIQUE_INDEX = re.compile(r"UNIQUE constraint failed: index '([^']+)'")
_UNAVAILABLE = ("locked", "busy", "disk", "full", "readonly", "unable to open", "i/o", "no such table")


def translate(exc: sqlite3.Error, index_named: Callable[[str], Index | None], id_field: str) -> FeathersError:
    """The error to raise for a database exception raised by one service's statement."""
    message = str(exc)
    if isinstance(exc, sqlite3.IntegrityError) and "UNIQUE constraint failed" in message:
        match = _UNIQUE_INDEX.search(message)
        index = index_named(match.group(1)) if match else None
        if index is not None:
            return index.conflict()
        if match is None and message.endswith(".pk"):
            return duplicate_id(id_field)
    lowered = message.lower()
    if isinstance(exc, sqlite3.OperationalError) and any(word in lowered for word in _UNAVAILABLE):
        log.warning("SQLite unavailable: %s", message)
        return Unavailable("The database is unavailable, try again")
    log.error("SQLite error: %s", message, exc_info=exc)
    return GeneralError("Database error")

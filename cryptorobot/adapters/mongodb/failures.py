"""PyMongo / BSON exceptions -> Feathers errors; no raw driver exception reaches a caller.

* a duplicate key (code 11000, alone or inside a bulk write) is the declared index's own
  `Conflict` (naming the fields, never the value); a duplicate `_id` names the id field;
* a lost or unreachable server (no server selectable, connection reset or refused, a
  primary stepping down, timeouts) is `Unavailable` (503: try again); the driver reconnects
  by itself once the server is back;
* data or a query MongoDB can't hold (an int beyond 64 bits, a value BSON has no type for,
  a document over 16 MB, a key MongoDB refuses) is `BadRequest`;
* anything else is a bare `GeneralError`, its details logged on the server only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from bson.errors import BSONError
from pymongo.errors import (
    BulkWriteError,
    ConnectionFailure,
    OperationFailure,
    PyMongoError,
)

from ...errors import BadRequest, Conflict, FeathersError, GeneralError, Unavailable
from ..base import Index

__all__ = ["DRIVER_ERRORS", "translate", "duplicate_key"]

log = logging.getLogger("cryptorobot.adapters.mongodb")

DRIVER_ERRORS = (PyMongoError, BSONError, OverflowError)
"""What a driver call may raise that `translate` turns into a Feathers error."""

DUPLICATE_KEY = (11000, 11001, 12582)
_USER_ERRORS = frozenset((
    2,      # BadValue
    9,      # FailedToParse
    14,     # TypeMismatch
    52,     # DollarPrefixedFieldName
    55,     # InvalidDBRef
    56,     # EmptyFieldName
    57,     # DottedFieldName
    10334,  # BSONObjectTooLarge
    17419,  # document grew beyond the size limit
    17280,  # key too large to index (old servers)
))
_INDEX_NAME = re.compile(r"index: (\S+)|index '([^']+)'")
Finder = Callable[[tuple[str, ...] | None, str | None], Index | None]


def duplicate_key(exc: BaseException) -> Mapping[str, Any] | None:
    """The error document of a duplicate key error, or None for any other error."""
    if isinstance(exc, BulkWriteError):
        for error in (exc.details or {}).get("writeErrors", ()):
            if error.get("code") in DUPLICATE_KEY:
                return error
        return None
    if isinstance(exc, OperationFailure) and exc.code in DUPLICATE_KEY:
        return exc.details or {"errmsg": str(exc)}
    return None


def translate(exc: BaseException, find_index: Finder, id_field: str) -> FeathersError:
    """The error to raise for an exception raised by one service's driver call.

    `find_index(fields, index_name)` names the declared unique index a duplicate hit.
    """
    duplicate = duplicate_key(exc)
    if duplicate is not None:
        return _conflict(duplicate, find_index, id_field)
    if isinstance(exc, ConnectionFailure) or (isinstance(exc, PyMongoError) and exc.timeout):
        log.warning("MongoDB unavailable: %s", exc)
        return Unavailable("The database is unavailable, try again")
    if isinstance(exc, (BSONError, OverflowError)):
        return BadRequest(f"Can not store or query this value: {_short(exc)}")
    if isinstance(exc, OperationFailure) and exc.code in _USER_ERRORS:
        return BadRequest(f"Invalid data or query: {_short(exc.details.get('errmsg') if exc.details else exc)}")
    log.error("MongoDB error: %s", exc, exc_info=exc)
    return GeneralError("Database error")


def _conflict(details: Mapping[str, Any], find_index: Finder, id_field: str) -> Conflict:
    pattern = details.get("keyPattern")
    fields = tuple(pattern) if isinstance(pattern, Mapping) else None
    match = _INDEX_NAME.search(str(details.get("errmsg") or ""))
    name = (match.group(1) or match.group(2)) if match else None
    if fields == ("_id",) or name == "_id_":
        return Conflict(f"A record with this {id_field} already exists", {"fields": [id_field]})
    index = find_index(fields, name)
    if index is not None:
        return index.conflict()
    return Conflict("Duplicate value for a unique index")


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."

"""marshmallow's fields, with a `DateTime` that is always UTC and JS-shaped on the wire.

`from cryptorobot.schemas import fields` gives every marshmallow field; only `DateTime`
differs (marshmallow's own stays reachable as `marshmallow.fields.DateTime`):

* loading accepts a `datetime`, a `date`, or an ISO-8601 string (date only, naive, `Z` or an
  offset, upper or lower case `T`/`Z`) and returns an aware UTC datetime, so loading is
  idempotent and every adapter stores and compares the same instant;
* dumping gives `Date.toJSON()`'s shape, `2024-01-01T00:00:00.000Z` (ISO strings that are
  already stored pass through unchanged).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow.fields as _fields
from marshmallow import ValidationError as _marshmallow_validation_error
from marshmallow.fields import *  # noqa: F403  (this module stands in for marshmallow.fields)
from marshmallow.fields import __all__ as _marshmallow_all

__all__ = [*_marshmallow_all, "to_utc", "loaded_utc", "js_iso"]

_UTC = dt.UTC


def to_utc(value: dt.datetime) -> dt.datetime:
    """An aware UTC datetime: naive values count as UTC. Raises OverflowError when the
    instant has no UTC representation (year 1 with a positive offset)."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=_UTC)
    if value.utcoffset() == dt.timedelta(0) and value.tzinfo is _UTC:
        return value
    return value.astimezone(_UTC)


def loaded_utc(value: dt.datetime) -> dt.datetime:
    """`to_utc` for loaded input: an instant with no UTC form is a validation error."""
    try:
        return to_utc(value)
    except (OverflowError, ValueError):
        raise _marshmallow_validation_error(["Not a valid UTC datetime."]) from None


def js_iso(value: dt.datetime) -> str:
    """What JavaScript's `Date.prototype.toJSON` prints for the same instant."""
    return to_utc(value).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


class DateTime(_fields.DateTime):  # type: ignore[no-redef]  # replaces the star-imported one on purpose
    """An instant: loads to an aware UTC datetime, dumps as `YYYY-MM-DDTHH:MM:SS.mmmZ`."""

    default_error_messages = {"out_of_range": "Not a valid UTC datetime."}  # noqa: RUF012 - marshmallow types it as an instance attribute

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        if isinstance(value, dt.datetime):
            loaded = value
        elif isinstance(value, dt.date):
            loaded = dt.datetime(value.year, value.month, value.day)
        elif isinstance(value, str) and (self.format or self.DEFAULT_FORMAT) in ("iso", "iso8601"):
            try:  # every ISO 8601 form Python 3.11 reads; RFC 3339 allows a lower-case `t`/`z`
                loaded = dt.datetime.fromisoformat(value.strip().upper())
            except ValueError:
                raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None
        elif isinstance(value, str):
            loaded = super()._deserialize(value, attr, data, **kwargs)
        else:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        try:
            return to_utc(loaded)
        except (OverflowError, ValueError):
            raise self.make_error("out_of_range") from None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | float | None:
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, dt.datetime):
            try:
                return js_iso(value)
            except (OverflowError, ValueError):
                return value.isoformat()
        return super()._serialize(value, attr, obj, **kwargs)

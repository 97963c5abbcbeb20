"""Documents <-> the JSON text stored in SQLite, keeping Python types on the round trip.

JSON has no datetime, so a datetime is stored as the tagged object ``{"$date": <epoch ms>}``
(UTC, millisecond precision; a naive datetime is taken as UTC). The tag keeps its type (a
date never reads back as a number or a string) and gives SQL an integer to compare and sort
through the path ``<field>."$date"``. Because of that tag, a key named ``$date`` is reserved
and refused in stored data. An ObjectId is stored as its hex string (ids are strings here);
NaN/Infinity and other types JSON cannot carry are refused rather than silently changed.
"""

from __future__ import annotations

import json
import json.scanner
from datetime import UTC, datetime, timedelta
from typing import Any

from ...errors import BadRequest

__all__ = ["DATE_KEY", "encode", "decode", "to_millis", "from_millis"]

DATE_KEY = "$date"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_DATE_TOKEN = f'"{DATE_KEY}"'
_DATE_KEY_TOKEN = f'"{DATE_KEY}":'


def to_millis(value: datetime) -> int:
    """Epoch milliseconds (floor), a naive datetime counting as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _MS


def from_millis(millis: int) -> datetime:
    """The aware UTC datetime for epoch milliseconds."""
    return _EPOCH + timedelta(milliseconds=millis)


def _refuse_date_keys(value: Any) -> None:
    if isinstance(value, dict):
        if DATE_KEY in value:
            raise BadRequest(f"The key '{DATE_KEY}' is reserved and can not be stored")
        for item in value.values():
            _refuse_date_keys(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _refuse_date_keys(item)


def encode(value: Any) -> str:
    """Compact JSON text for a document or a value; raises BadRequest for what can't be kept."""
    dates = 0

    def default(item: Any) -> Any:
        nonlocal dates
        if isinstance(item, datetime):
            dates += 1
            return {DATE_KEY: to_millis(item)}
        if type(item).__name__ == "ObjectId":  # bson.ObjectId, without importing bson here
            return str(item)
        raise BadRequest(f"Can not store a value of type {type(item).__name__}")

    try:
        text = json.dumps(value, default=default, allow_nan=False, separators=(",", ":"),
                          ensure_ascii=False)
    except ValueError as exc:  # NaN / Infinity, circular references
        raise BadRequest(f"Can not store this value: {exc}") from None
    # '"$date":' can only be a key; more of them than dates we tagged means a user's key.
    if dates != text.count(_DATE_KEY_TOKEN):
        _refuse_date_keys(value)
    return text


def _revive(obj: dict[str, Any], _epoch: datetime = _EPOCH, _delta: type = timedelta) -> Any:
    # Called for every object decoded: `from_millis` inlined, timedelta's positional
    # (days, seconds, microseconds, milliseconds) being cheaper than its keywords.
    if len(obj) == 1 and DATE_KEY in obj:
        return _epoch + _delta(0, 0, 0, obj[DATE_KEY])
    return obj


# The C scanners straight away: json.loads would build a decoder per call (with a hook)
# and wrap the scan in Python; stored text is always compact, valid JSON.
# (typeshed types make_scanner's argument as a make_scanner; it reads a JSONDecoder's settings.)
_scan_plain = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]
_scan_dates = json.scanner.make_scanner(json.JSONDecoder(object_hook=_revive))  # type: ignore[arg-type]


def decode(text: str) -> Any:
    """The Python value for stored JSON text, datetimes revived."""
    return (_scan_dates if _DATE_TOKEN in text else _scan_plain)(text, 0)[0]

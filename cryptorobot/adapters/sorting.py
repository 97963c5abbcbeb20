"""Sorting records by `$sort` (feathers-wire 2.6) with NeDB's cross-type order.

Order of kinds: missing < null < numbers < strings < booleans < dates < lists < dicts.
Lists compare element by element, then by length; dicts compare their values in sorted-key
order, then by key count. Strings compare by code point (as SQLite's BINARY collation does;
JavaScript's UTF-16 order differs only for characters beyond U+FFFF against U+E000-U+FFFF).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .records import MISSING, field_getter

__all__ = ["order_key", "sort_records"]


def order_key(value: Any) -> tuple[Any, ...]:
    """A key that orders any JSON-like value (or MISSING) by the cross-type rules."""
    kind = type(value)
    if kind is str:
        return (3, value)
    if kind is int or kind is float:
        return (2, value)
    if value is MISSING:
        return (0,)
    if value is None:
        return (1,)
    if kind is bool:
        return (4, value)
    if isinstance(value, datetime):
        return (5, value)
    if kind is list:
        return (6, tuple(map(order_key, value)))
    if isinstance(value, Mapping):
        return (7, tuple(order_key(value[key]) for key in sorted(value)))
    if isinstance(value, str):  # subclasses such as StrEnum
        return (3, value)
    if isinstance(value, (int, float)):
        return (2, value)
    raise TypeError(f"cannot order a {kind.__name__}")


def sort_records(records: list[Mapping[str, Any]], sort: dict[str, int]) -> None:
    """Sort `records` in place, stably, by the `{field: 1 | -1}` keys in order."""
    # One stable pass per key, least significant first; `reverse` keeps ties in order.
    for field, direction in reversed(sort.items()):
        get = field_getter(field)
        records.sort(key=lambda record: order_key(get(record)), reverse=direction < 0)

"""Sanitising `params.query` the way Feathers' adapter-commons does (feathers-wire 2.1, 2.3).

Every adapter's public methods run `sanitize_query` first, so the adapters themselves only
ever see a query whose shape is known: converted filters (`$limit`, `$skip`, `$sort`,
`$select`), field conditions whose `$` keys are allowed operators, and `$or`/`$and` lists of
such queries. `split_query` then separates the filters from the record-level conditions.

Deliberate deviations from Feathers v5, each to keep adapters simple and queries safe:

* a plain string `$select` is a one-element list (v5 yields empty records);
* `$sort` must be a dict of directions that parse to a non-zero integer (normalised to 1/-1);
* `$in`/`$nin` must be lists, `$or`/`$and` lists of dicts (v5 passes other shapes through);
* `$or` is accepted inside `$or`/`$and` elements but not inside a field's value, and no
  other `$` key is accepted at record level, because no adapter can evaluate them there;
* values must be JSON-like (None, bool, int, float, str, datetime, list, dict with str
  keys) and nest at most `MAX_DEPTH` levels, so a hostile query cannot exhaust the stack.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import BadRequest

__all__ = ["FILTERS", "OPERATORS", "MAX_DEPTH", "Filters", "sanitize_query", "split_query", "page_limit"]

FILTERS = ("$limit", "$skip", "$sort", "$select", "$or", "$and")
OPERATORS = ("$in", "$nin", "$lt", "$lte", "$gt", "$gte", "$ne", "$or")
MAX_DEPTH = 10
"""Most `$or`/`$and` levels in a query, and most nested lists/dicts in one value."""

_LOGICAL = ("$or", "$and")
_LIST_OPERATORS = ("$in", "$nin")
_SCALARS = (str, int, float, bool, type(None), datetime)
_INT_PREFIX = re.compile(r"\s*([+-]?\d+)")


@dataclass(frozen=True)
class Filters:
    """The special filters of a sanitised query; `limit` None means no limit."""

    limit: int | None
    skip: int
    sort: dict[str, int] | None
    select: list[str] | None


def sanitize_query(
    query: Mapping[str, Any] | None,
    *,
    operators: Iterable[str] = (),
    filters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A new, validated and converted copy of `query`; raises `BadRequest` when invalid.

    `operators` adds operators allowed inside field values. `filters` adds top-level
    filters: a value `True` passes the raw value through, a callable converts it with
    `(value, {"operators": ..., "filters": ...})`. A filter whose value, or converted
    value, is None is dropped.
    """
    if query is None:
        return {}
    if not isinstance(query, Mapping):
        raise BadRequest("Query must be an object")
    extra_filters = dict(filters or {})
    allowed = (*OPERATORS, *operators)
    rules = _Rules(frozenset(allowed) - {"$or"})
    result: dict[str, Any] = {}
    for key, value in query.items():
        _check_key(key)
        if not key.startswith("$"):
            result[key] = rules.field_value(value, 1)
            continue
        if key in extra_filters:
            custom = extra_filters[key]
            settings = {"operators": allowed, "filters": extra_filters}
            converted = value if custom is True else custom(value, settings)
        elif key in FILTERS:
            converted = None if value is None else _convert_filter(key, value, rules)
        else:
            raise BadRequest(f"Invalid filter value {key}")
        if converted is not None:
            result[key] = converted
    return result


def split_query(query: Mapping[str, Any]) -> tuple[Filters, dict[str, Any]]:
    """Split a sanitised query into its filters and its record-level part.

    The record-level part holds the field keys plus `$or`/`$and`; custom filters stay only
    in the full query, for the hooks or adapters that understand them.
    """
    rest = {key: value for key, value in query.items() if not key.startswith("$") or key in _LOGICAL}
    filters = Filters(
        limit=query.get("$limit"),
        skip=query.get("$skip") or 0,
        sort=query.get("$sort"),
        select=query.get("$select"),
    )
    return filters, rest


def page_limit(limit: int | None, paginate: Mapping[str, Any] | None) -> int | None:
    """The limit a find applies, given the sanitised `$limit` and the effective `paginate`.

    Without `default`/`max` (or without pagination) it is `$limit` itself, None meaning no
    limit. With them: `$limit` if it is >= 0, otherwise `default`, capped at `max`.
    Deliberate fix of a v5 quirk: `{"max": n}` without `default` uses `max` as the default
    (v5 answers empty pages there).
    """
    if limit is not None and limit < 0:
        limit = None
    default = paginate.get("default") if paginate else None
    maximum = paginate.get("max") if paginate else None
    if default is None and maximum is None:
        return limit
    if limit is None:
        limit = default if default is not None else maximum
    return limit if maximum is None else min(limit, maximum)


def _convert_filter(key: str, value: Any, rules: _Rules) -> Any:
    if key == "$skip":
        skip = _parse_int(value)
        return skip if skip is not None and skip > 0 else None
    if key == "$limit":
        limit = _parse_int(value)
        return limit if limit is not None and limit >= 0 else None
    if key == "$sort":
        return _sort(value)
    if key == "$select":
        return _select(value)
    return rules.logical(key, value, 1)


def _parse_int(value: Any) -> int | None:
    """JavaScript's `parseInt(value, 10)`: None where JS gives NaN."""
    if type(value) is int:
        return value
    if type(value) is float:
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str) and (match := _INT_PREFIX.match(value)):
        try:
            return int(match.group(1))
        except ValueError:  # more digits than Python converts
            return None
    return None


def _sort(value: Any) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise BadRequest("$sort must be an object")
    sort: dict[str, int] = {}
    for field, direction in value.items():
        _check_key(field)
        parsed = _parse_int(direction)
        if not parsed:
            raise BadRequest(f"$sort direction for '{field}' must be 1 or -1")
        sort[field] = 1 if parsed > 0 else -1
    return sort


def _select(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    fields = _as_list(value)
    if fields is None or not all(isinstance(f, str) or type(f) is int for f in fields):
        raise BadRequest("$select must be an array of field names")
    return [str(field) for field in fields]


def _as_list(value: Any) -> list[Any] | None:
    """A list, also from a dict keyed "0".."n-1" (what qs makes of arrays beyond its limit)."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, Mapping) and value:
        indexes = {str(i) for i in range(len(value))}
        if set(value) == indexes:
            return [value[str(i)] for i in range(len(value))]
    return None


def _check_key(key: Any) -> None:
    if not isinstance(key, str):
        raise BadRequest(f"Unsupported query value of type {type(key).__name__}")


class _Rules:
    """Validation with one service's operator list."""

    def __init__(self, operators: frozenset[str]) -> None:
        self.operators = operators

    def logical(self, key: str, value: Any, level: int) -> list[dict[str, Any]]:
        """`$or`/`$and`: a list of record-level queries."""
        if level > MAX_DEPTH:
            raise BadRequest("Query nesting is too deep")
        queries = _as_list(value)
        if queries is None or not all(isinstance(q, Mapping) for q in queries):
            raise BadRequest(f"{key} must be an array of queries")
        return [self.record_query(q, level) for q in queries]

    def record_query(self, query: Mapping[str, Any], level: int) -> dict[str, Any]:
        """One element of `$or`/`$and`: field conditions plus a nested `$or`."""
        result: dict[str, Any] = {}
        for key, value in query.items():
            _check_key(key)
            if key == "$or":
                result[key] = self.logical(key, value, level + 1)
            elif key.startswith("$"):
                raise BadRequest(f"Invalid query parameter {key}", dict(query))
            else:
                result[key] = self.field_value(value, 1)
        return result

    def field_value(self, value: Any, depth: int) -> Any:
        """A field's condition: an operator dict, or a value compared for equality.

        Like current Feathers, `$` keys are checked in nested dicts and inside lists too.
        """
        if isinstance(value, _SCALARS):
            return value
        if depth > MAX_DEPTH:
            raise BadRequest("Query nesting is too deep")
        if isinstance(value, (list, tuple)):
            return [self.field_value(item, depth + 1) for item in value]
        if not isinstance(value, Mapping):
            raise BadRequest(f"Unsupported query value of type {type(value).__name__}")
        for key in value:
            _check_key(key)
        if not any(key.startswith("$") for key in value):
            return {key: self.field_value(item, depth + 1) for key, item in value.items()}
        result: dict[str, Any] = {}
        for key, operand in value.items():
            if key not in self.operators:
                raise BadRequest(f"Invalid query parameter {key}", dict(value))
            if key in _LIST_OPERATORS:
                operand = _as_list(operand)
                if operand is None:
                    raise BadRequest(f"{key} must be an array")
            result[key] = self.field_value(operand, depth + 1)
        return result

"""What one client query may contain: clauses, list lengths, nesting and total size; and
how deeply a client's data may nest.

A query's cost grows with what it holds: a 40,000-clause `$or` or a 100,000-value `$in`
keeps the database (or the memory adapter's matcher) busy for seconds and every other
caller waits. `check_query_cost` refuses such a query with a 400 before any hook or
adapter sees it. It runs for every external call (REST and Socket.IO alike, see
`cryptorobot.admission`) and walks the query without recursion, stopping at the first
limit it passes, so refusing a huge query costs next to nothing.

The limits come from the `[query]` settings (`from_section(QueryLimits, app.get("query"))`):

* `max_clauses`: elements of one `$or` or `$and` list (default 100);
* `max_list`: elements of any other list, `$in`/`$nin` values and `$select` fields included
  (default 1000, the array limit of the REST query-string parser);
* `max_depth`: objects and lists nested in one another, the query itself being level 1
  (default 12: `{"$or": [{"a": {"$in": [1]}}]}` is 5 levels);
* `max_terms`: keys and list elements in the whole query together (default 5000).

Data (`create`, `update`, `patch`, custom methods) may nest `[data] max_depth` levels
(default 32, `DataLimits`): deeper data would exhaust the stack of the code that copies,
validates or stores it (a 500-level array is a 500 from the memory adapter otherwise).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import BadRequest, FeathersError

__all__ = ["DataLimits", "QueryLimits", "check_data_depth", "check_query_cost"]

_LOGICAL = ("$or", "$and")
_LISTS = (*_LOGICAL, "$in", "$nin", "$select")
"""Keys whose value is a list, also when it arrives as an object keyed "0".."n-1"."""


@dataclass(frozen=True)
class QueryLimits:
    """Bounds of one client query; see the module docstring."""

    max_clauses: int = 100
    max_list: int = 1000
    max_depth: int = 12
    max_terms: int = 5000


def _refuse(message: str, limit: str, maximum: int) -> FeathersError:
    return BadRequest(f"Query too large: {message}", {"limit": f"query.{limit}", "max": maximum})


def check_query_cost(query: Any, limits: QueryLimits) -> None:
    """Raise `BadRequest` (with `data: {"limit": "query.<name>", "max": n}`) when `query`
    passes one of `limits`; anything else about the query is left to the schema and adapter.
    """
    if not isinstance(query, (Mapping, list, tuple)):
        return
    terms = 0
    pending: list[tuple[Any, int, str]] = [(query, 1, "")]
    while pending:
        value, depth, key = pending.pop()
        if depth > limits.max_depth:
            raise _refuse(f"nested deeper than {limits.max_depth} levels", "max_depth", limits.max_depth)
        size = len(value)
        if isinstance(value, Mapping) and key not in _LISTS:
            children: Iterable[tuple[Any, Any]] = value.items()
        else:  # a list, or what the query-string parser makes of a long one ({"0": .., "1": ..})
            if key in _LOGICAL and size > limits.max_clauses:
                raise _refuse(f"{key} has {size} clauses (at most {limits.max_clauses})", "max_clauses", limits.max_clauses)
            if size > limits.max_list:
                name = key or "a list"
                raise _refuse(f"{name} has {size} values (at most {limits.max_list})", "max_list", limits.max_list)
            children = (("", item) for item in (value.values() if isinstance(value, Mapping) else value))
        terms += size
        if terms > limits.max_terms:
            raise _refuse(f"more than {limits.max_terms} keys and values", "max_terms", limits.max_terms)
        for child_key, child in children:
            if isinstance(child, (Mapping, list, tuple)):
                pending.append((child, depth + 1, child_key if isinstance(child_key, str) else ""))


@dataclass(frozen=True)
class DataLimits:
    """Bounds of one client's data; see the module docstring."""

    max_depth: int = 32


def check_data_depth(data: Any, limits: DataLimits) -> None:
    """Raise `BadRequest` (`data: {"limit": "data.max_depth", "max": n}`) when `data` nests
    objects and lists more than `limits.max_depth` levels (the data itself being level 1)."""
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > limits.max_depth:
            raise BadRequest(f"Data nested deeper than {limits.max_depth} levels",
                             {"limit": "data.max_depth", "max": limits.max_depth})
        items = value.values() if isinstance(value, Mapping) else value
        pending.extend((item, depth + 1) for item in items if isinstance(item, (Mapping, list)))

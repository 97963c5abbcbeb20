"""A sanitised Feathers query -> a MongoDB filter, and ids between the wire and BSON.

MongoDB evaluates the memory adapter's matching rules natively (feathers-wire 2.5): equality
is type-strict with 1 == 1.0 and True != 1, a list field matches when any element does,
`field: None` and `$in: [None]` match null and missing, `$ne`/`$nin` are their exact
negations, and type bracketing keeps `$lt`/`$gt` within one kind of value. So the filter is
the query itself, except where the two differ:

* a dict compared for equality matches regardless of key order in memory, but MongoDB
  compares embedded documents field by field in order: such a value becomes `$in` over its
  key orders (nested dicts too; at most `MAX_ALTERNATIVES`, else BadRequest);
* `$lt`/`$lte`/`$gt`/`$gte` with an operand that is not a number, string or datetime match
  nothing in memory, while MongoDB compares null, booleans, lists and dicts: such a
  condition becomes one that matches nothing (`$in: []`);
* `$or: []` matches nothing and `$and: []` everything (MongoDB refuses empty lists);
* the id field: named `_id` in MongoDB whatever the `id` option says, and a string in the
  canonical ObjectId form (24 lowercase hex digits, as the adapter returns ObjectIds) means
  that ObjectId, in conditions as in stored ids.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from itertools import permutations, product
from typing import Any

from bson import ObjectId

from ...errors import BadRequest

__all__ = ["KEY", "MAX_ALTERNATIVES", "NEVER", "FilterBuilder", "stored_id", "id_condition"]

KEY = "_id"
MAX_ALTERNATIVES = 720
"""Most key orders (over all nested dicts) one equality value may expand to."""
NEVER: dict[str, Any] = {"$in": []}
"""A field condition no document matches."""

_OBJECT_ID = re.compile(r"[0-9a-f]{24}\Z")
_INT_TEXT = re.compile(r"-?(?:0|[1-9][0-9]{0,18})\Z")
_INT64 = range(-(2**63), 2**63)
_COMPARISONS = frozenset(("$lt", "$lte", "$gt", "$gte"))
_SCALARS = (str, int, float, bool, type(None), datetime, ObjectId)


def stored_id(value: Any) -> Any:
    """The BSON value for an id given on the wire: the canonical ObjectId hex form becomes
    that ObjectId; everything else (other strings, ints) is kept as it is."""
    if type(value) is str and _OBJECT_ID.match(value):
        return ObjectId(value)
    return value


def id_condition(id: Any) -> Any:
    """The `_id` condition of a call by id (get, update, patch, remove).

    Like the memory adapter, whose store is keyed by `str(id)`, an integer and its decimal
    text find the same record, so REST ids ("1") reach records created with the number 1.
    Ids that can't be stored (dicts, lists, ...) are a BadRequest, never a query.
    """
    kind = type(id)
    if kind is str:
        if _OBJECT_ID.match(id):
            return ObjectId(id)
        if _INT_TEXT.match(id) and int(id) in _INT64:
            return {"$in": [id, int(id)]}
        return id
    if kind is int:
        return {"$in": [id, str(id)]} if id in _INT64 else str(id)
    if id is None or kind in (float, bool, ObjectId):
        return id
    raise BadRequest(f"Invalid id of type {kind.__name__}")


def _count(value: Any) -> int:
    """How many alternatives `alternatives(value)` has."""
    kind = type(value)
    if kind is dict:
        total = math.factorial(len(value))
        for item in value.values():
            total *= _count(item)
        return total
    if kind is list or kind is tuple:
        total = 1
        for item in value:
            total *= _count(item)
        return total
    return 1


def _alternatives(value: Any) -> list[Any]:
    kind = type(value)
    if kind is dict:
        options = {key: _alternatives(item) for key, item in value.items()}
        return [dict(zip(order, combination, strict=True))
                for order in permutations(value)
                for combination in product(*(options[key] for key in order))]
    if kind is list or kind is tuple:
        return [list(combination) for combination in product(*map(_alternatives, value))]
    return [value]


def alternatives(value: Any) -> list[Any]:
    """Every spelling of `value` MongoDB must see to compare it as the memory adapter does:
    one per key order of each dict in it (a value without dicts is its own only one)."""
    kind = type(value)
    if kind is not dict and kind is not list and kind is not tuple:
        return [value]
    count = _count(value)
    if count > MAX_ALTERNATIVES:
        raise BadRequest("A value compared for equality holds too many object keys")
    return _alternatives(value) if count > 1 else [value]


def _orderable(value: Any) -> bool:
    kind = type(value)
    return kind is int or kind is float or kind is str or kind is ObjectId or isinstance(value, datetime)


class FilterBuilder:
    """Compiles record-level queries (see `split_query`) of one service into filters."""

    def __init__(self, id_field: str) -> None:
        self.id_field = id_field

    def field(self, name: str) -> str:
        """The MongoDB name of a (possibly dotted) query or sort field."""
        return KEY if name == self.id_field else name

    def build(self, query: Mapping[str, Any]) -> dict[str, Any]:
        clauses: list[tuple[str, Any]] = []
        for key, value in query.items():
            if key == "$or":
                subs = [self.build(sub) for sub in value]
                clauses.append(("$or", subs) if subs else (KEY, NEVER))
            elif key == "$and":
                subs = [self.build(sub) for sub in value]
                if subs:
                    clauses.append(("$and", subs))
            elif key.startswith("$"):
                raise BadRequest(f"Invalid filter value {key}")
            else:
                name = self.field(key)
                clauses.append((name, self._condition(value, name == KEY)))
        merged: dict[str, Any] = {}
        extra: list[dict[str, Any]] = []
        for key, condition in clauses:
            if key in merged:  # `id` and `_id`, or a never-matching `$or`, on one level
                extra.append({key: condition})
            else:
                merged[key] = condition
        return {"$and": [merged, *extra]} if extra else merged

    def _condition(self, value: Any, is_key: bool) -> Any:
        if type(value) is dict and value and next(iter(value)).startswith("$"):
            return self._operators(value, is_key)
        options = self._values([value], is_key)
        return options[0] if len(options) == 1 else {"$in": options}

    def _operators(self, conditions: Mapping[str, Any], is_key: bool) -> dict[str, Any]:
        result: dict[str, Any] = {}
        excluded: list[Any] = []
        for op, operand in conditions.items():
            if op == "$in":
                result["$in"] = self._values(operand, is_key)
            elif op == "$nin":
                excluded += self._values(operand, is_key)
            elif op == "$ne":
                options = self._values([operand], is_key)
                if len(options) == 1:
                    result["$ne"] = options[0]
                else:
                    excluded += options
            elif op in _COMPARISONS:
                operand = stored_id(operand) if is_key else operand
                if not _orderable(operand):
                    return NEVER  # memory compares numbers, strings and dates only
                result[op] = operand
            else:
                raise BadRequest(f"Operator {op} is not supported by this adapter")
        if excluded or "$nin" in conditions:
            result["$nin"] = excluded
        return result

    @staticmethod
    def _values(values: Any, is_key: bool) -> list[Any]:
        """Equality operands: dicts spelled in every key order, ObjectId texts converted."""
        result: list[Any] = []
        for value in values:
            if isinstance(value, _SCALARS):
                result.append(stored_id(value) if is_key else value)
            else:
                result += alternatives(value)
        return result

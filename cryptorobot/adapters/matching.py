"""Compiling a record-level query into a matcher (feathers-wire 2.5, MongoDB semantics).

A query is compiled once per call into nested closures, so matching a thousand records
never re-reads the query dict. Semantics:

* equality is type-strict: "19" != 19 and True != 1, while 1 == 1.0; a dict or list value
  is compared deeply with the same rule;
* a list field matches when the whole list or any element matches;
* `field: None` (and `$in: [None]`) matches null and missing; `$ne`/`$nin` are the exact
  negations, so `$ne: None` asks for a present, non-null field;
* `$lt`/`$lte`/`$gt`/`$gte` compare numbers with numbers, strings with strings and
  datetimes with datetimes; other kinds, and missing fields, never match;
* naive datetimes count as UTC.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from ..errors import BadRequest
from .records import MISSING, field_getter

__all__ = ["Matcher", "compile_query", "compile_scan", "canonical"]

Matcher = Callable[[Mapping[str, Any]], bool]
Test = Callable[[Any], bool]

_BOOL, _LIST, _DICT = object(), object(), object()
_COMPARISONS = {"$lt": operator.lt, "$lte": operator.le, "$gt": operator.gt, "$gte": operator.ge}
_NUMBERS = frozenset({int, float})
_ORDER_KINDS = {int: _NUMBERS, float: _NUMBERS, str: frozenset({str}), datetime: frozenset({datetime})}


def compile_query(query: Mapping[str, Any]) -> Matcher:
    """A predicate for the record-level part of a sanitised query (see `split_query`)."""
    fields: list[tuple[str, Test]] = []  # top-level fields, read with one dict lookup each
    others: list[Matcher] = []
    for key, value in query.items():
        if key == "$or":
            others.append(_any_of([compile_query(q) for q in value]))
        elif key == "$and":
            others.append(_all_of([compile_query(q) for q in value]))
        elif "." in key:
            others.append(_nested_field_test(field_getter(key), _condition(value)))
        else:
            fields.append((key, _condition(value)))
    return _all_of([_fields_test(fields), *others] if fields else others)


def compile_scan(query: Mapping[str, Any]) -> Callable[[Iterable[Mapping[str, Any]]], list[Any]]:
    """A function returning the matching records of an iterable, in order.

    The commonest query, one top-level field equal to a string, is scanned by a single
    comprehension (three times faster than calling a matcher per record); everything
    else goes through `compile_query`.
    """
    if len(query) == 1:
        [(path, wanted)] = query.items()
        if type(wanted) is str and not path.startswith("$") and "." not in path:
            def scan_equal(records: Iterable[Mapping[str, Any]]) -> list[Any]:
                return [record for record in records
                        if (value := record.get(path, MISSING)) == wanted or (type(value) is list and wanted in value)]

            return scan_equal
    match = compile_query(query)
    return lambda records: list(filter(match, records))


def _fields_test(fields: list[tuple[str, Test]]) -> Matcher:
    """Tests of top-level fields chained in as few calls as possible (this is the hot loop)."""
    (path, test), rest = fields[0], fields[1:]
    if not rest:
        return lambda record: test(record.get(path, MISSING))
    if len(rest) == 1:
        [(path2, test2)] = rest
        return lambda record: test(record.get(path, MISSING)) and test2(record.get(path2, MISSING))
    tail = _fields_test(rest)
    return lambda record: test(record.get(path, MISSING)) and tail(record)


def canonical(value: Any) -> Any:
    """A hashable stand-in for a JSON-like value with type-strict equality.

    Two values are equal under our query rules exactly when their canonical forms are equal:
    booleans, lists and dicts are tagged so that True != 1 and [1] != [True].
    """
    kind = type(value)
    if kind is bool:
        return (_BOOL, value)
    if kind is list:
        return (_LIST, tuple(map(canonical, value)))
    if kind is dict:
        return (_DICT, tuple(sorted((key, canonical(item)) for key, item in value.items())))
    if kind is datetime and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _nested_field_test(get: Callable[[Mapping[str, Any]], Any], test: Test) -> Matcher:
    return lambda record: test(get(record))


def _condition(value: Any) -> Test:
    """The test of one field: an operator dict (sanitised: all keys `$`) or an equality."""
    if type(value) is dict and value and next(iter(value)).startswith("$"):
        return _all_of([_operator(op, operand) for op, operand in value.items()])
    return _member([value])


def _operator(op: str, operand: Any) -> Test:
    if op == "$in":
        return _member(operand)
    if op == "$nin":
        return _negate(_member(operand))
    if op == "$ne":
        return _negate(_member([operand]))
    if op in _COMPARISONS:
        return _compare(_COMPARISONS[op], operand)
    raise BadRequest(f"Operator {op} is not supported by this adapter")


def _member(values: list[Any]) -> Test:
    """True when the field, or an element of a list field, equals one of `values`."""
    if len(values) == 1 and type(values[0]) is str:  # the most common query, made cheap
        text = values[0]
        return lambda value: value == text or (type(value) is list and text in value)
    keys = frozenset(map(canonical, values))
    null_matches = None in keys

    def test(value: Any) -> bool:
        kind = type(value)
        if kind is str or kind is int or kind is float:  # their canonical form is themselves
            return value in keys
        if value is MISSING:
            return null_matches
        if canonical(value) in keys:
            return True
        return kind is list and any(canonical(item) in keys for item in value)

    return test


def _compare(compare: Callable[[Any, Any], bool], operand: Any) -> Test:
    kinds = _ORDER_KINDS.get(type(operand))
    if kinds is None:
        return lambda value: False
    operand = canonical(operand)  # a naive datetime becomes UTC; stored ones already are

    def test(value: Any) -> bool:
        kind = type(value)
        if kind in kinds:
            return compare(value, operand)
        return kind is list and any(type(item) in kinds and compare(item, operand) for item in value)

    return test


def _negate(test: Test) -> Test:
    return lambda value: not test(value)


def _all_of(tests: list[Callable[[Any], bool]]) -> Callable[[Any], bool]:
    if not tests:
        return lambda _: True
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        first, second = tests
        return lambda item: first(item) and second(item)
    return lambda item: all(test(item) for test in tests)


def _any_of(tests: list[Matcher]) -> Matcher:
    return lambda record: any(test(record) for test in tests)

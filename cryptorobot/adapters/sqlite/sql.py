"""Translate a sanitised Feathers query into parameterised SQL over JSON documents.

Every value is bound as a numbered parameter (``?N``); only field names reach the SQL text,
as JSON paths (each key double-quoted, so dots in a query key mean nesting) inside a SQL
string literal with ``'`` doubled. A key holding ``"``, a backslash or a control
character can't be addressed by an SQLite JSON path and is refused with BadRequest.

Each value is seen through two expressions, used alike in WHERE, ORDER BY and index
definitions (so the planner matches them against the expression indexes):

* ``rank``: the value's kind in the memory adapter's cross-type order
  missing 0 < null 1 < number 2 < string 3 < boolean 4 < date 5 < list 6 < dict 7;
* ``val``: the comparable SQL value (the epoch ms of a date, 1/0 for booleans).

Type-strict equality is then ``rank = K AND val = ?`` and a range is ``rank = K AND val < ?``:
an index on ``(rank, val)`` serves equality, ranges and sorting in one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache, cached_property, lru_cache
from typing import Any

from ...errors import BadRequest
from .codec import DATE_KEY, to_millis

__all__ = ["Target", "field_target", "literal", "Compiler", "order_by", "index_columns"]

MISSING, NULL, NUMBER, STRING, BOOLEAN, DATE, LIST, DICT = range(8)
_COMPARISONS = {"$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}


def literal(text: str) -> str:
    """A SQL string literal (the only way text enters SQL; ' doubled, NUL refused)."""
    if "\x00" in text:
        raise BadRequest("Invalid field name")
    return "'" + text.replace("'", "''") + "'"


def _path_key(key: str) -> str:
    # SQLite (3.40) ends a quoted path key at the next '"' and compares keys with the
    # stored JSON text unescaped, so '"', '\\' and control characters can't be addressed.
    if '"' in key or "\\" in key or any(ord(ch) < 0x20 for ch in key):
        raise BadRequest(f"Invalid field name {key!r}")
    return f'."{key}"'


@dataclass(frozen=True)
class Target:
    """A place in the stored document ``doc``: the JSON path ``base || suffix``.

    ``base`` is None for a static path (then the whole path is one literal, as index
    expressions need) or a SQL expression such as ``e1.fullkey`` for array elements.
    """

    suffix: str
    base: str | None = None

    def path(self, extra: str = "") -> str:
        if self.base is None:
            return literal(self.suffix + extra)
        tail = self.suffix + extra
        return f"{self.base}||{literal(tail)}" if tail else self.base

    def child(self, key: str) -> Target:
        return Target(self.suffix + _path_key(key), self.base)

    def item(self, index: int) -> Target:
        return Target(f"{self.suffix}[{int(index)}]", self.base)

    @cached_property
    def type(self) -> str:
        return f"json_type(doc,{self.path()})"

    @cached_property
    def rank(self) -> str:
        date_type = f"json_type(doc,{self.path(_path_key(DATE_KEY))})"
        return (f"CASE {self.type} WHEN 'integer' THEN {NUMBER} WHEN 'real' THEN {NUMBER} "
                f"WHEN 'text' THEN {STRING} WHEN 'true' THEN {BOOLEAN} WHEN 'false' THEN {BOOLEAN} "
                f"WHEN 'null' THEN {NULL} WHEN 'array' THEN {LIST} "
                f"WHEN 'object' THEN CASE {date_type} WHEN 'integer' THEN {DATE} ELSE {DICT} END "
                f"ELSE {MISSING} END")

    @cached_property
    def val(self) -> str:
        return (f"coalesce(json_extract(doc,{self.path(_path_key(DATE_KEY))}),"
                f"json_extract(doc,{self.path()}))")


@lru_cache(maxsize=4096)
def field_target(field: str) -> Target:
    """The static target of a (possibly dotted) field name (cached: its SQL is built once)."""
    return Target("$" + "".join(_path_key(key) for key in field.split(".")))


def index_columns(fields: tuple[str, ...] | list[str]) -> list[str]:
    """Index column expressions for fields: exactly the expressions queries and sorts use."""
    columns: list[str] = []
    for field in fields:
        target = field_target(field)
        columns += [target.rank, target.val]
    return columns


def order_by(sort: Mapping[str, int] | None, pinned: Mapping[str, bool] | None = None) -> str:
    """ORDER BY for a multi-key $sort; ties keep insertion order (``seq``) like a stable sort.

    ``pinned`` (from `Compiler.pinned`) names sorted fields whose kind the WHERE fixes
    (True: their value too). Their constant terms are left out: they change no order, and
    SQLite only matches an ORDER BY to an index when they are absent.
    """
    pins = tuple((field, (pinned or {}).get(field)) for field in (sort or {}))
    return _order_by(tuple((sort or {}).items()), pins)


@lru_cache(maxsize=1024)
def _order_by(sort: tuple[tuple[str, int], ...], pins: tuple[tuple[str, bool | None], ...]) -> str:
    pinned = dict(pins)
    terms: list[str] = []
    for field, direction in sort:
        target = field_target(field)
        way = "DESC" if direction < 0 else "ASC"
        if pinned[field] is None:
            terms.append(f"{target.rank} {way}")
        if not pinned[field]:
            terms.append(f"{target.val} {way}")
    return "ORDER BY " + ", ".join([*terms, "seq"])


@cache
def _element(alias: str) -> Target:
    """The target of the current element of ``json_each(...) AS alias``."""
    return Target("", f"{alias}.fullkey")


def _kind(value: Any) -> int:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, (int, float)):
        return NUMBER
    if isinstance(value, str):
        return STRING
    if isinstance(value, datetime):
        return DATE
    if isinstance(value, (list, tuple)):
        return LIST
    if isinstance(value, dict):
        return DICT
    raise BadRequest(f"Invalid query value of type {type(value).__name__}")


def _sql_value(value: Any, kind: int) -> Any:
    if kind == NUMBER and value != value:
        raise BadRequest("NaN can not be compared")
    if kind == DATE:
        return to_millis(value)
    if kind == BOOLEAN:
        return int(value)
    return value


class Compiler:
    """Builds one WHERE clause; ``params`` collects the bound values in ``?N`` order.

    ``scalar_fields`` are fields known never to hold a list (indexed fields with no list
    stored): their conditions skip the any-element branch, which keeps them index-friendly.
    """

    def __init__(self, scalar_fields: Callable[[str], bool] = lambda field: False) -> None:
        self.params: list[Any] = []
        self.pinned: dict[str, bool] = {}
        """Fields the WHERE fixes the kind of (True: the value too), for `order_by`."""
        self._scalar = scalar_fields
        self._aliases = 0

    # -- plumbing -----------------------------------------------------------------------
    def bind(self, value: Any) -> str:
        self.params.append(value)
        return f"?{len(self.params)}"

    def _alias(self) -> str:
        self._aliases += 1
        return f"e{self._aliases}"

    @staticmethod
    def _all(terms: list[str]) -> str:
        return _join(terms, " AND ", "1")

    @staticmethod
    def _any(terms: list[str]) -> str:
        return _join(terms, " OR ", "0")

    # -- queries ------------------------------------------------------------------------
    def where(self, query: Mapping[str, Any], top: bool = True) -> str:
        """The condition for a query without $limit/$skip/$sort/$select (AND of its keys)."""
        terms: list[str] = []
        for key, cond in query.items():
            if key == "$or":
                terms.append(self._any([self.where(sub, False) for sub in _query_list(key, cond)]))
            elif key == "$and":
                terms.append(self._all([self.where(sub, False) for sub in _query_list(key, cond)]))
            elif key.startswith("$"):
                raise BadRequest(f"Invalid filter value {key}")
            else:
                terms.append(self._field(key, cond, top))
        return self._all(terms)

    def _field(self, field: str, cond: Any, top: bool) -> str:
        target = field_target(field)
        multikey = not self._scalar(field)
        operators = type(cond) is dict and bool(cond) and str(next(iter(cond))).startswith("$")
        if top and not multikey:
            self._pin(field, cond, operators)
        if operators:
            return self._all([self._operator(target, op, arg, multikey) for op, arg in cond.items()])
        return self._matches(target, multikey, lambda t: self._equal(t, cond))

    def _pin(self, field: str, cond: Any, operators: bool) -> None:
        """Note a top-level condition that fixes the field's kind (and maybe its value)."""
        if not operators:
            if _kind(cond) in (NUMBER, STRING, BOOLEAN, DATE):
                self.pinned[field] = True
            return
        for op, arg in cond.items():
            compared = op in _COMPARISONS and _kind(arg) in (NUMBER, STRING, DATE)
            listed = (op == "$in" and isinstance(arg, list) and len({_kind(v) for v in arg}) == 1
                      and _kind(arg[0]) in (NUMBER, STRING, BOOLEAN, DATE))
            if compared or listed:
                self.pinned.setdefault(field, False)

    def _operator(self, target: Target, op: str, arg: Any, multikey: bool) -> str:
        if op == "$ne":
            return f"NOT {self._matches(target, multikey, lambda t: self._equal(t, arg))}"
        if op == "$in":
            return self._matches(target, multikey, lambda t: self._in(t, _list(op, arg)))
        if op == "$nin":
            return f"NOT {self._matches(target, multikey, lambda t: self._in(t, _list(op, arg)))}"
        if op in _COMPARISONS:
            return self._matches(target, multikey, lambda t: self._compare(t, _COMPARISONS[op], arg))
        raise BadRequest(f"Operator {op} is not supported by this adapter")

    def _matches(self, target: Target, multikey: bool, condition: Callable[[Target], str]) -> str:
        """The condition on the value itself or, when it is a list, on any of its elements."""
        direct = condition(target)
        if not multikey:
            return direct
        alias = self._alias()
        element = condition(_element(alias))
        return (f"({direct} OR ({target.rank}={LIST} AND EXISTS (SELECT 1 FROM "
                f"json_each(doc,{target.path()}) AS {alias} WHERE {element})))")

    # -- value conditions (never NULL: NOT over them stays two-valued) -------------------
    def _equal(self, target: Target, value: Any, nested: bool = False) -> str:
        """Type-strict equality; None means "null or missing" except inside a list or dict."""
        kind = _kind(value)
        if kind == NULL:
            return f"{target.rank}={NULL}" if nested else f"{target.rank} IN ({MISSING},{NULL})"
        if kind == LIST:
            items = [self._equal(target.item(i), item, True) for i, item in enumerate(value)]
            length = f"json_array_length(doc,{target.path()})={len(value)}"
            return self._all([f"{target.rank}={LIST}", length, *items])
        if kind == DICT:
            count = (f"(SELECT count(*) FROM json_each(doc,{target.path()}))"
                     f"={len(value)}")
            fields = [self._equal(target.child(str(key)), item, True) for key, item in value.items()]
            return self._all([f"{target.rank}={DICT}", count, *fields])
        return f"({target.rank}={kind} AND {target.val}={self.bind(_sql_value(value, kind))})"

    def _in(self, target: Target, values: list[Any]) -> str:
        by_kind: dict[int, list[Any]] = {}
        terms: list[str] = []
        for value in values:
            kind = _kind(value)
            if kind in (NULL, LIST, DICT):
                terms.append(self._equal(target, value))
            else:
                by_kind.setdefault(kind, []).append(_sql_value(value, kind))
        for kind, group in by_kind.items():
            marks = ",".join(self.bind(value) for value in group)
            terms.append(f"({target.rank}={kind} AND {target.val} IN ({marks}))")
        return self._any(terms)

    def _compare(self, target: Target, operator: str, value: Any) -> str:
        kind = _kind(value)
        if kind not in (NUMBER, STRING, DATE):
            return "0"  # ordered comparisons only within numbers, strings or dates
        return f"({target.rank}={kind} AND {target.val}{operator}{self.bind(_sql_value(value, kind))})"


def _join(terms: list[str], operator: str, empty: str) -> str:
    """Terms joined by AND/OR, grouped in chunks so long lists stay under SQLite's
    expression depth limit (1000) instead of making one left-deep chain."""
    if not terms:
        return empty
    if len(terms) == 1:
        return terms[0]
    if len(terms) > _CHUNK:
        terms = [_join(terms[i:i + _CHUNK], operator, empty) for i in range(0, len(terms), _CHUNK)]
        return _join(terms, operator, empty)
    return "(" + operator.join(terms) + ")"


_CHUNK = 32


def _list(op: str, value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    raise BadRequest(f"{op} needs a list")


def _query_list(op: str, value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, Mapping) for v in value):
        raise BadRequest(f"{op} needs a list of queries")
    return list(value)


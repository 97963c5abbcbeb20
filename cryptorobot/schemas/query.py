"""Query schemas: the fields a client may filter, sort and select on, their types and operators.

A query schema is a marshmallow schema (`QuerySchema`, or any `Schema`) whose fields are
the queryable fields. Field metadata refines each one:

* ``operators``: the operators allowed in its conditions (default by type, see
  `default_operators`; equality is always allowed);
* ``filterable`` / ``sortable`` / ``selectable``: whether it may appear as a condition,
  in ``$sort``, in ``$select`` (all True by default);
* ``internal``: only server code (calls without a provider) may use it, e.g. the API-key
  strategy looking a key up by its hash; for clients it is an unknown field, and it is
  left out of the OpenAPI document;
* a field whose ``data_key`` starts with ``$`` is a custom top-level filter (``$search``),
  typed by the field (the adapter's ``filters`` option or a hook must then handle it).

`load_query` turns what the transports deliver into the typed query every adapter sees:
REST strings are coerced by field type (``"true"`` -> True, ``"10"`` -> 10, an ISO date ->
an aware UTC datetime), ``$in``/``$nin`` become lists (also from qs's ``{"0": ..}`` dicts and
from a single value), ``$limit``/``$skip`` non-negative integers, ``$sort`` directions 1/-1,
``$select`` a list; ``$or``/``$and`` are walked recursively. Typed values (Socket.IO, Python
callers) pass unchanged, so loading is idempotent. Anything else (an unknown field, an
operator the field does not allow, a value of the wrong type) is collected, and the whole
query fails with per-field messages that mirror the query's shape, e.g.
``{"age": {"$gt": ["Not a valid integer."]}, "password": ["Unknown field."]}``.

The typed query still passes the adapter's own sanitising (`cryptorobot.query`), of which it
is a fixed point: the adapter keeps its guarantee that only operators it knows reach it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from weakref import WeakKeyDictionary

from marshmallow import RAISE, Schema, ValidationError
from marshmallow import fields as mfields

from ..errors import BadRequest
from ..hooks import HookContext
from ..query import MAX_DEPTH
from .fields import loaded_utc

__all__ = [
    "QuerySchema", "QueryField", "QueryRules", "load_query", "validate_query", "default_operators",
    "ORDER_OPERATORS", "LIST_OPERATORS", "INT_MIN", "INT_MAX", "VALIDATION_FAILED",
]

ORDER_OPERATORS = ("$lt", "$lte", "$gt", "$gte")
LIST_OPERATORS = ("$in", "$nin")
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
"""Integers in queries are 64-bit: what SQLite and MongoDB can compare."""
PAGE_MAX = 2**53 - 1
"""Largest `$limit`/`$skip` (JavaScript's largest safe integer)."""
VALIDATION_FAILED = "validation failed"

UNKNOWN_FIELD = "Unknown field."
UNKNOWN_FILTER = "Unknown filter."
NOT_ALLOWED = "Operator not allowed."
NOT_FILTERABLE = "Can not filter on this field."
NOT_SORTABLE = "Can not sort on this field."
NOT_SELECTABLE = "Can not select this field."
NON_NEGATIVE = "Must be a non-negative integer."
DIRECTION = "Must be 1 or -1."
QUERY_LIST = "Must be a list of queries."
QUERY_OBJECT = "Must be a query object."
TOO_DEEP = "Query nesting is too deep."
NOT_NULL = "Field may not be null."
NOT_LIST = "Must be a list."

_INTEGER = re.compile(r"[+-]?[0-9]+\Z")
_EQUALITY_LIKE = ("$ne", *LIST_OPERATORS)


def default_operators(field: mfields.Field) -> tuple[str, ...]:
    """Booleans and structured fields: `$ne`, `$in`, `$nin`; numbers, strings, dates and
    times: the ordering operators `$lt`, `$lte`, `$gt`, `$gte` too."""
    if isinstance(field, mfields.Boolean):
        return _EQUALITY_LIKE
    if isinstance(field, (mfields.Number, mfields.String, mfields.DateTime, mfields.Date,
                          mfields.Time, mfields.TimeDelta)):
        return (*_EQUALITY_LIKE, *ORDER_OPERATORS)
    return _EQUALITY_LIKE


class QuerySchema(Schema):
    """Base class for query schemas (any marshmallow `Schema` works as one too).

    >>> class MessageQuery(QuerySchema):
    ...     _id = fields.String()
    ...     active = fields.Boolean()
    ...     createdAt = fields.DateTime()
    ...     type = fields.String(metadata={"operators": ("$in", "$nin")})
    ...     search = fields.String(data_key="$search")   # a custom filter
    """

    class Meta:
        unknown = RAISE

    def load_query(self, query: Mapping[str, Any] | None, *, external: bool = True) -> dict[str, Any]:
        """The typed query; raises `marshmallow.ValidationError` with per-field messages."""
        return QueryRules.of(self).load(query, external=external)


@dataclass(frozen=True)
class QueryField:
    """One queryable field as the rules see it."""

    name: str
    field: mfields.Field
    operators: frozenset[str]
    filterable: bool
    sortable: bool
    selectable: bool
    internal: bool = False


_CLASS_RULES: WeakKeyDictionary[type, QueryRules] = WeakKeyDictionary()


def schema_instance(schema: Schema | type[Schema]) -> Schema:
    """`schema` itself, or a default instance of a schema class."""
    if isinstance(schema, type) and issubclass(schema, Schema):
        return schema()
    if isinstance(schema, Schema):
        return schema
    raise TypeError(f"expected a marshmallow Schema, got {schema!r}")


class QueryRules:
    """The compiled rules of one query schema (built once, then read on every call)."""

    def __init__(self, schema: Schema | type[Schema]) -> None:
        self.schema = schema_instance(schema)
        self.fields: dict[str, QueryField] = {}
        self.filters: dict[str, mfields.Field] = {}
        for attribute, field in self.schema.load_fields.items():
            name = field.data_key or attribute
            if name.startswith("$"):
                self.filters[name] = field
                continue
            meta = field.metadata
            operators = meta.get("operators")
            self.fields[name] = QueryField(
                name=name,
                field=field,
                operators=frozenset(default_operators(field) if operators is None else operators),
                filterable=bool(meta.get("filterable", True)),
                sortable=bool(meta.get("sortable", True)),
                selectable=bool(meta.get("selectable", True)),
                internal=bool(meta.get("internal", False)),
            )
        # What clients may use: the same rules without the internal fields.
        self.public: QueryRules = self
        if any(spec.internal for spec in self.fields.values()):
            self.public = copy.copy(self)
            self.public.fields = {name: spec for name, spec in self.fields.items() if not spec.internal}
            self.public.public = self.public

    @classmethod
    def of(cls, schema: Schema | type[Schema]) -> QueryRules:
        """The rules of `schema` (an instance, or a class meaning its default instance),
        compiled once and cached."""
        if isinstance(schema, type):
            rules = _CLASS_RULES.get(schema)
            if rules is None:
                rules = _CLASS_RULES[schema] = cls(schema)
            return rules
        rules = schema.__dict__.get("_cryptorobot_query_rules")
        if rules is None:
            rules = cls(schema)
            schema.__dict__["_cryptorobot_query_rules"] = rules
        return rules

    @property
    def sortable(self) -> list[str]:
        return [name for name, spec in self.fields.items() if spec.sortable]

    @property
    def selectable(self) -> list[str]:
        return [name for name, spec in self.fields.items() if spec.selectable]

    # -- the walk --------------------------------------------------------------------------

    def load(self, query: Mapping[str, Any] | None, *, external: bool = True) -> dict[str, Any]:
        """A new, typed copy of `query`; raises ValidationError listing every problem.

        `external` False (server code) may also use the `internal` fields.
        """
        return (self.public if external else self)._load(query)

    def _load(self, query: Mapping[str, Any] | None) -> dict[str, Any]:
        if query is None:
            return {}
        if not isinstance(query, Mapping):
            raise ValidationError({"_schema": [QUERY_OBJECT]})
        result: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for key, value in query.items():
            if not isinstance(key, str):
                errors[str(key)] = [UNKNOWN_FIELD]
                continue
            try:
                if key.startswith("$"):
                    converted = self._filter(key, value)
                    if converted is None:
                        continue
                else:
                    converted = self._condition(key, value)
            except ValidationError as invalid:
                errors[key] = invalid.messages
                continue
            result[key] = converted
        if errors:
            raise ValidationError(errors)
        return result

    def _filter(self, key: str, value: Any) -> Any:
        if key in ("$limit", "$skip"):
            return None if value is None else _page_number(value)
        if key == "$sort":
            return None if value is None else self._sort(value)
        if key == "$select":
            return None if value is None else self._select(value)
        if key in ("$or", "$and"):
            return None if value is None else self._logical(value, 1)
        field = self.filters.get(key)
        if field is None:
            raise ValidationError([UNKNOWN_FILTER])
        return None if value is None else _coerce(field, value)

    def _sort(self, value: Any) -> dict[str, int]:
        if not isinstance(value, Mapping):
            raise ValidationError(["Must be an object of field: 1 or -1."])
        sort: dict[str, int] = {}
        errors: dict[str, Any] = {}
        for name, direction in value.items():
            spec = self.fields.get(name) if isinstance(name, str) else None
            if spec is None:
                errors[str(name)] = [UNKNOWN_FIELD]
            elif not spec.sortable:
                errors[name] = [NOT_SORTABLE]
            elif (parsed := _strict_int(direction)) in (1, -1):
                sort[name] = parsed
            else:
                errors[name] = [DIRECTION]
        if errors:
            raise ValidationError(errors)
        return sort

    def _select(self, value: Any) -> list[str]:
        names = [value] if isinstance(value, str) else _as_list(value)
        if names is None:
            raise ValidationError(["Must be a field name or a list of field names."])
        errors: dict[int, list[str]] = {}
        for index, name in enumerate(names):
            spec = self.fields.get(name) if isinstance(name, str) else None
            if spec is None:
                errors[index] = [UNKNOWN_FIELD]
            elif not spec.selectable:
                errors[index] = [NOT_SELECTABLE]
        if errors:
            raise ValidationError(errors)
        return list(names)

    def _logical(self, value: Any, level: int) -> list[dict[str, Any]]:
        """`$or`/`$and`: a list of record-level queries."""
        if level > MAX_DEPTH:
            raise ValidationError([TOO_DEEP])
        queries = _as_list(value)
        if queries is None:
            raise ValidationError([QUERY_LIST])
        result: list[dict[str, Any]] = []
        errors: dict[int, Any] = {}
        for index, query in enumerate(queries):
            try:
                result.append(self._record(query, level))
            except ValidationError as invalid:
                errors[index] = invalid.messages
        if errors:
            raise ValidationError(errors)
        return result

    def _record(self, query: Any, level: int) -> dict[str, Any]:
        """One element of `$or`/`$and`: field conditions and a nested `$or`."""
        if not isinstance(query, Mapping):
            raise ValidationError([QUERY_OBJECT])
        result: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for key, value in query.items():
            try:
                if not isinstance(key, str):
                    raise ValidationError([UNKNOWN_FIELD])
                if key == "$or":
                    result[key] = self._logical(value, level + 1)
                elif key.startswith("$"):
                    raise ValidationError([UNKNOWN_FILTER])
                else:
                    result[key] = self._condition(key, value)
            except ValidationError as invalid:
                errors[str(key)] = invalid.messages
        if errors:
            raise ValidationError(errors)
        return result

    def _condition(self, name: str, value: Any) -> Any:
        """A field's condition: an operator dict, or a value compared for equality."""
        spec = self.fields.get(name)
        if spec is None:
            raise ValidationError([UNKNOWN_FIELD])
        if not spec.filterable:
            raise ValidationError([NOT_FILTERABLE])
        if not (isinstance(value, Mapping) and any(isinstance(k, str) and k.startswith("$") for k in value)):
            return _coerce(spec.field, value, nullable=True)
        result: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for operator, operand in value.items():
            try:
                if not isinstance(operator, str) or operator not in spec.operators:
                    raise ValidationError([NOT_ALLOWED])
                if operator in LIST_OPERATORS:
                    result[operator] = _coerce_list(spec.field, operand)
                else:
                    result[operator] = _coerce(spec.field, operand, nullable=operator == "$ne")
            except ValidationError as invalid:
                errors[str(operator)] = invalid.messages
        if errors:
            raise ValidationError(errors)
        return result


def _as_list(value: Any) -> list[Any] | None:
    """A list, also from a dict keyed "0".."n-1" (what qs makes of arrays beyond its limit)."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, Mapping) and value and set(value) == {str(i) for i in range(len(value))}:
        return [value[str(i)] for i in range(len(value))]
    return None


def _strict_int(value: Any) -> int | None:
    """An integer from an int, an integral float or a decimal string; None otherwise."""
    if type(value) is int:
        return value
    if type(value) is float:
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= 25 and _INTEGER.match(text):
            return int(text)
    return None


def _page_number(value: Any) -> int:
    number = _strict_int(value)
    if number is None or not 0 <= number <= PAGE_MAX:
        raise ValidationError([NON_NEGATIVE])
    return number


def _coerce_list(field: mfields.Field, operand: Any) -> list[Any]:
    items = _as_list(operand)
    if items is None:
        if isinstance(operand, Mapping):
            raise ValidationError([NOT_LIST])
        items = [operand]  # `type[$in]=a` over REST is one value
    result: list[Any] = []
    errors: dict[int, Any] = {}
    for index, item in enumerate(items):
        try:
            result.append(_coerce(field, item, nullable=True))
        except ValidationError as invalid:
            errors[index] = invalid.messages
    if errors:
        raise ValidationError(errors)
    return result


def _coerce(field: mfields.Field, value: Any, *, nullable: bool = False) -> Any:
    """One value typed by `field` (its validators run too); None where `nullable` or the
    field allows it (a null condition asks for a missing or null field)."""
    if value is None:
        if nullable or field.allow_none:
            return None
        raise ValidationError([NOT_NULL])
    if isinstance(field, mfields.List) and not isinstance(value, (list, tuple)):
        field = field.inner  # a list field matches when any element matches
    if isinstance(field, mfields.Integer):
        number = _strict_int(value) if type(value) is not bool else None
        if number is None:
            raise ValidationError([field.error_messages["invalid"]])
        if not INT_MIN <= number <= INT_MAX:
            raise ValidationError(["Number out of range."])
        value = number
    return _plain(field.deserialize(value))


def _plain(value: Any) -> Any:
    """Values as adapters compare them: datetimes aware UTC, decimals floats."""
    if isinstance(value, datetime):
        return loaded_utc(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValidationError(["Not a valid number."])
        return float(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def load_query(schema: Schema | type[Schema], query: Mapping[str, Any] | None, *,
               external: bool = True) -> dict[str, Any]:
    """`query` typed by `schema`; raises `BadRequest("validation failed")` with `errors`."""
    try:
        return QueryRules.of(schema).load(query, external=external)
    except ValidationError as invalid:
        raise BadRequest(VALIDATION_FAILED, errors=invalid.messages) from None


def validate_query(schema: Schema | type[Schema]) -> Callable[[HookContext], None]:
    """A before hook (every method, every caller): `params["query"]` becomes the typed query,
    or the call fails with 400 `validation failed` and per-field `errors`. Server code
    (no provider) is validated too, and may also use the schema's `internal` fields."""
    rules = QueryRules.of(schema)

    def validate_query_hook(context: HookContext) -> None:
        query = context.params.get("query")
        if query is None:
            return
        try:
            context.params["query"] = rules.load(query, external=context.params.get("provider") is not None)
        except ValidationError as invalid:
            raise BadRequest(VALIDATION_FAILED, errors=invalid.messages) from None

    validate_query_hook.query_rules = rules  # type: ignore[attr-defined]
    return validate_query_hook


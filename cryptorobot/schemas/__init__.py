"""Schemas per service: validated data, typed queries, shaped results, and the OpenAPI spec.

Give a service its schemas when registering it and the hooks are attached for you::

    app.use("messages", MemoryService(paginate={"default": 10}), {"schemas": {
        "create": MessageCreate,      # validate_data on create (server fields rejected) + timestamps
        "patch": MessagePatch,        # validate_data(partial=True) on patch (default: create, partial)
        "update": MessageCreate,      # optional; default: the create schema
        "query": MessageQuery,        # validate_query on every method
        "result": MessageResult,      # resolve_result (standard methods): what REST, sockets, events send
        "approve": ApproveData,       # a custom method's data
        # options: "server_fields": (...), "timestamps": False or ("createdAt", "updatedAt")
    }})

They run as the first before/after hooks of the service (registered by `app.use`), so
hooks registered later (authentication, owner restrictions that add server-side query
conditions) run after validation. The same hooks can be registered by hand instead
(`validate_data`, `validate_query`, `resolve_result`, `set_timestamps`), and `app.use`
records the schemas on the service (`ServiceProxy.schemas`) for `/openapi.json`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from marshmallow import Schema, ValidationError

from . import fields
from .data import SERVER_FIELDS, SERVER_SET, set_timestamps, validate_data
from .query import (
    LIST_OPERATORS,
    ORDER_OPERATORS,
    VALIDATION_FAILED,
    QueryRules,
    QuerySchema,
    default_operators,
    load_query,
    validate_query,
)
from .resolvers import resolve_result

__all__ = [
    "LIST_OPERATORS",
    "ORDER_OPERATORS",
    "SCHEMA_KINDS",
    "SERVER_FIELDS",
    "SERVER_SET",
    "VALIDATION_FAILED",
    "QueryRules",
    "QuerySchema",
    "Schema",
    "ValidationError",
    "data_schema_for",
    "default_operators",
    "fields",
    "load_query",
    "normalize_schemas",
    "resolve_result",
    "schema_hooks",
    "set_timestamps",
    "validate_data",
    "validate_query",
]

SCHEMA_KINDS = ("create", "update", "patch", "query", "result")
_OPTIONS = ("server_fields", "timestamps")
_TIMESTAMPS = ("createdAt", "updatedAt")
_RECORD_METHODS = ("find", "get", "create", "update", "patch", "remove")


def _instance(kind: str, value: Any) -> Any:
    if isinstance(value, type) and issubclass(value, Schema):
        return value()
    if isinstance(value, Schema) or (kind == "result" and callable(value)):
        return value
    raise TypeError(f"schemas[{kind!r}] must be a marshmallow Schema (class or instance), not {value!r}")


def normalize_schemas(schemas: Mapping[str, Any], methods: Iterable[str] = ()) -> dict[str, Any]:
    """Schemas as instances, keyed by kind or custom method name; options kept as given.

    Raises ValueError for a key that is neither a kind, an option nor one of `methods`
    (a typo would otherwise leave a method unvalidated).
    """
    methods = tuple(methods)
    normalized: dict[str, Any] = {}
    for key, value in schemas.items():
        if key in _OPTIONS:
            normalized[key] = value
        elif key in SCHEMA_KINDS or key in methods:
            if value is not None:
                normalized[key] = _instance(key, value)
        else:
            raise ValueError(f"unknown schema kind {key!r}: use one of {', '.join(SCHEMA_KINDS)}, "
                             f"an option ({', '.join(_OPTIONS)}) or a custom method of the service")
    return normalized


def data_schema_for(schemas: Mapping[str, Any], method: str) -> Schema | None:
    """The schema that validates `method`'s data (patch and update fall back to create)."""
    if method in ("update", "patch"):
        return schemas.get(method) or schemas.get("create")
    if method in SCHEMA_KINDS and method != "create":
        return None
    return schemas.get(method)


def schema_hooks(schemas: Mapping[str, Any], methods: Iterable[str] = ()) -> dict[str, Any]:
    """The hook spec (`service.hooks(...)` format) for normalised `schemas`."""
    before: dict[str, list[Any]] = {}
    after: dict[str, list[Any]] = {}
    server_fields = schemas.get("server_fields")
    timestamps = schemas.get("timestamps", True)
    if timestamps is True:
        timestamps = _TIMESTAMPS
    if schemas.get("query") is not None:
        before.setdefault("all", []).append(validate_query(schemas["query"]))
    writers = ("create", "update", "patch")
    custom = [name for name in methods if name not in (*SCHEMA_KINDS, "find", "get", "remove")]
    for method in (*writers, *custom):
        schema = data_schema_for(schemas, method)
        if schema is None:
            continue
        hooks = before.setdefault(method, [])
        if method in writers:
            hooks.append(validate_data(schema, partial=method == "patch", server_fields=server_fields))
            if timestamps:
                created, updated = timestamps
                hooks.append(set_timestamps(created, updated))
        else:
            hooks.append(validate_data(schema, server_fields=()))
    if schemas.get("result") is not None:  # records only: custom methods return their own shapes
        resolver = resolve_result(schemas["result"])
        after.update({method: [resolver] for method in _RECORD_METHODS})
    spec: dict[str, Any] = {}
    if before:
        spec["before"] = before
    if after:
        spec["after"] = after
    return spec

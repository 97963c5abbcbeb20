"""Data schemas: what clients may write with `create`, `update`, `patch` and custom methods.

`validate_data(schema)` loads `context.data` with a marshmallow schema: invalid data fails
with 400 `validation failed` and per-field messages in `errors`
(`{"email": ["Not a valid email address."]}`, keyed by index for a list `create`), before
anything is written. Server-set fields (`SERVER_FIELDS` plus the adapter's id field) sent
by a client are rejected with 400 naming each field, rather than silently dropped, so a
client bug shows at once; server code (calls without a provider) may set them.

`set_timestamps()` then stamps `createdAt`/`updatedAt` with the app's clock (`app.clock.now()`:
aware UTC datetimes at millisecond precision, `2024-01-01T12:00:00.123Z` on the wire).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from marshmallow import Schema, ValidationError

from ..errors import BadRequest, NotFound
from ..hooks import HookContext
from .fields import loaded_utc
from .query import VALIDATION_FAILED, schema_instance

__all__ = ["SERVER_FIELDS", "SERVER_SET", "server_fields_of", "set_timestamps", "validate_data"]

SERVER_FIELDS = ("_id", "userId", "createdAt", "updatedAt")
"""Fields only the server writes; the adapter's id field is added per service."""
SERVER_SET = "Set by the server; clients can not write it."


def server_fields_of(context: HookContext, configured: Iterable[str] | None) -> tuple[str, ...]:
    """`configured`, or `SERVER_FIELDS` plus the service's id field when None."""
    if configured is not None:
        return tuple(configured)
    service = getattr(context.service, "raw", context.service)
    id_field = getattr(service, "id", None)
    if isinstance(id_field, str) and id_field not in SERVER_FIELDS:
        return (*SERVER_FIELDS, id_field)
    return SERVER_FIELDS


def _utc_values(value: Any) -> Any:
    """Loaded data with every datetime aware UTC (marshmallow's own DateTime keeps naive)."""
    if isinstance(value, datetime):
        return loaded_utc(value)
    if isinstance(value, dict):
        return {key: _utc_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_utc_values(item) for item in value]
    return value


def validate_data(
    schema: Schema | type[Schema],
    *,
    partial: bool = False,
    server_fields: Iterable[str] | None = None,
    unknown: str | None = None,
) -> Callable[[HookContext], None]:
    """A before hook: `context.data` (an object, or a list for a multi `create`) becomes the
    schema's loaded data, or the call fails with 400 and per-field `errors`.

    `partial=True` for `patch`. `server_fields` None means `SERVER_FIELDS` plus the
    service's id field; pass `()` to let clients write every field the schema accepts.
    `unknown` overrides the schema's own `Meta.unknown` (marshmallow's default: RAISE, so
    an undeclared field answers `{"field": ["Unknown field."]}`).
    """
    instance = schema_instance(schema)
    load_options: dict[str, Any] = {} if unknown is None else {"unknown": unknown}

    def validate_data_hook(context: HookContext) -> None:
        data = context.data
        many = isinstance(data, list)
        items = data if many else [data]
        guarded = server_fields_of(context, server_fields)
        external = context.params.get("provider") is not None
        server_errors: dict[int, dict[str, list[str]]] = {}
        server_values: list[dict[str, Any]] = []
        client_items: list[Any] = []
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                server_values.append({})
                client_items.append(item)
                continue
            present = {name: item[name] for name in guarded if name in item}
            if present and external:
                server_errors[index] = {name: [SERVER_SET] for name in present}
            server_values.append(present)
            client_items.append({key: value for key, value in item.items() if key not in present}
                                if present else item)
        try:
            loaded = instance.load(client_items if many else client_items[0], many=many,
                                   partial=partial, **load_options)
            load_errors: dict[Any, Any] = {}
        except ValidationError as invalid:
            loaded = None
            load_errors = invalid.messages if isinstance(invalid.messages, dict) else {"_schema": invalid.messages}
        errors = _merge_errors(load_errors, server_errors, many)
        if errors:
            raise BadRequest(VALIDATION_FAILED, errors=errors)
        results = loaded if many else [loaded]
        for result, kept in zip(results, server_values, strict=True):
            if kept:  # only internal callers get here with server fields
                result.update(kept)
        try:
            context.data = _utc_values(results if many else results[0])
        except ValidationError as invalid:
            raise BadRequest(VALIDATION_FAILED, errors={"_schema": invalid.messages}) from None

    return validate_data_hook


def _merge_errors(load_errors: dict[Any, Any], server_errors: dict[int, dict[str, list[str]]], many: bool) -> dict[Any, Any]:
    if not server_errors:
        return load_errors
    merged = dict(load_errors)
    for index, fields in server_errors.items():
        if many:
            merged[index] = {**merged.get(index, {}), **fields}
        else:
            merged.update(fields)
    return merged


def set_timestamps(created: str | None = "createdAt", updated: str | None = "updatedAt") -> Callable[[HookContext], Any]:
    """A before hook for `create`, `update` and `patch`: the time of the app's clock.

    `create` sets both fields, `patch` and `update` set `updated`; `update` (which replaces
    the record) keeps the stored `created`. A client's values are replaced; values given by
    server code (no provider) are kept.
    """

    async def set_timestamps_hook(context: HookContext) -> None:
        method = context.method
        if method not in ("create", "update", "patch"):
            return
        data = context.data
        items = [item for item in (data if isinstance(data, list) else [data]) if isinstance(item, dict)]
        if not items:
            return
        now = context.app.clock.now()
        internal = context.params.get("provider") is None
        for item in items:
            for name, applies in ((created, method == "create"), (updated, True)):
                if name and applies and not (internal and name in item):
                    item[name] = now
        if method == "update" and created and not (internal and created in items[0]):
            stored = await _stored_value(context, created)
            if stored is None:
                items[0].pop(created, None)
            else:
                items[0][created] = stored

    return set_timestamps_hook


async def _stored_value(context: HookContext, name: str) -> Any:
    """`name` of the record being replaced, read without hooks; None when there is none."""
    service = getattr(context.service, "raw", None)
    reader = getattr(service, "get", None)
    if reader is None or context.id is None:
        return None
    try:
        current = reader(context.id, {})
        if inspect.isawaitable(current):
            current = await current
    except NotFound:
        return None
    return current.get(name) if isinstance(current, Mapping) else None

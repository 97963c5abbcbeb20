"""Result resolvers: the shape of every record that leaves the server.

`resolve_result(ResultSchema)` is an after hook that sets `context.dispatch`, which REST
responses, Socket.IO acknowledgements and pushed events all send, while `context.result`
stays whole for server code (the local strategy still reads the password hash). With a
marshmallow schema, a record is `schema.dump(record)`: undeclared and `load_only` fields
are dropped, `fields.Method`/`fields.Function` add computed fields. Any other callable is
called as `resolver(record, context)` (sync or async) and returns the record to send.

Pages (`{"total", "limit", "skip", "data"}` from `find`) and lists are resolved element by
element, index for index, so each event of a multi-record call carries its own record.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import Schema

from ..hooks import HookContext

__all__ = ["resolve_result", "resolve_records", "is_page"]

Resolver = Callable[[Any, HookContext], Any]


def is_page(method: str, value: Any) -> bool:
    """Whether a `find` result is a page rather than a list of records."""
    return method == "find" and isinstance(value, Mapping) and isinstance(value.get("data"), list) and "total" in value


def _resolver(spec: Schema | type[Schema] | Resolver) -> Resolver:
    if isinstance(spec, type) and issubclass(spec, Schema):
        spec = spec()
    if isinstance(spec, Schema):
        schema = spec

        def dump(record: Any, _: HookContext) -> Any:
            return schema.dump(record) if isinstance(record, Mapping) else record

        return dump
    if callable(spec):
        return spec
    raise TypeError(f"a result resolver is a marshmallow Schema or a callable, not {spec!r}")


async def resolve_records(value: Any, resolver: Resolver, context: HookContext) -> Any:
    """`value` (a record, a list of records, a page, or anything else) resolved."""
    if is_page(context.method, value):
        return {**value, "data": [await _one(item, resolver, context) for item in value["data"]]}
    if isinstance(value, list):
        return [await _one(item, resolver, context) for item in value]
    if isinstance(value, Mapping):
        return await _one(value, resolver, context)
    return value


async def _one(record: Any, resolver: Resolver, context: HookContext) -> Any:
    if not isinstance(record, Mapping):
        return record
    outcome = resolver(record, context)
    return await outcome if inspect.isawaitable(outcome) else outcome


def resolve_result(resolver: Schema | type[Schema] | Resolver) -> Callable[[HookContext], Any]:
    """An after hook: `context.dispatch` becomes the resolved result (or the resolved
    dispatch, when an earlier hook already set one)."""
    resolve = _resolver(resolver)

    async def resolve_result_hook(context: HookContext) -> None:
        context.dispatch = await resolve_records(context.outgoing, resolve, context)

    resolve_result_hook.resolver = resolver  # type: ignore[attr-defined]
    return resolve_result_hook

"""`protect`: fields that never leave the server (password hashes, key hashes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cryptorobot.hooks import NOT_SET, HookContext

__all__ = ["protect", "without"]


def without(record: Any, fields: frozenset[str]) -> Any:
    """`record` without `fields`; pages and lists are handled element by element."""
    if isinstance(record, list):
        return [without(item, fields) for item in record]
    if isinstance(record, dict):
        if "data" in record and "total" in record and isinstance(record["data"], list):
            return {**record, "data": without(record["data"], fields)}
        return {key: value for key, value in record.items() if key not in fields}
    return record


def protect(*fields: str) -> Callable[[HookContext], None]:
    """An after hook: clients (REST, sockets, events) get results without `fields`.

    Only `dispatch` changes, so internal callers, such as the authentication strategies
    reading the password hash, still see the whole record.
    """
    hidden = frozenset(fields)

    def protect_hook(context: HookContext) -> None:
        source = context.result if context.dispatch is NOT_SET else context.dispatch
        context.dispatch = without(source, hidden)

    return protect_hook

"""`timestamps`: the server, not the client, says when a record was created and changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from cryptorobot.hooks import HookContext

__all__ = ["timestamps"]


def timestamps(created: str = "createdAt", updated: str = "updatedAt") -> Callable[[HookContext], None]:
    """A before hook for create/update/patch: UTC times at millisecond precision.

    `created` is set on create only; a client-sent value is never kept.
    """

    def timestamps_hook(context: HookContext) -> None:
        now = datetime.now(timezone.utc)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        items = context.data if isinstance(context.data, list) else [context.data]
        for item in items:
            if not isinstance(item, dict):
                continue
            item.pop(created, None)
            if context.method == "create":
                item[created] = now
            item[updated] = now

    return timestamps_hook

"""`restrict_to_owner`: external callers see and change only their own records.

Ownership is enforced in the query the adapter runs, so another user's record simply does
not exist for the caller (404, never 403: ids can't be probed), and `$or` tricks can't
widen it: top-level keys are ANDed with everything else in the query.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from cryptorobot.errors import NotAuthenticated
from cryptorobot.hooks import HookContext

__all__ = ["restrict_to_owner"]


def restrict_to_owner(owner_field: str = "userId", user_id_field: str = "_id",
                      entity: str = "user") -> Callable[[HookContext], Awaitable[None]]:
    """A before hook: stamp `owner_field` on written records and scope every method but create."""

    async def restrict_to_owner_hook(context: HookContext) -> None:
        params = context.params
        if not params.get("provider"):
            return
        user = params.get(entity)
        if not user:
            raise NotAuthenticated("Not authenticated")
        owner = user[user_id_field]
        if context.method in ("create", "update", "patch"):
            # Written records stay the caller's: a client can not hand one to another user
            # (`{"userId": <other>}`), and a replacing update keeps its owner.
            items = context.data if isinstance(context.data, list) else [context.data]
            for item in items:
                if isinstance(item, dict) and (context.method != "patch" or owner_field in item):
                    item[owner_field] = owner
        if context.method == "create":
            return
        query = dict(params.get("query") or {})
        query[owner_field] = owner
        params["query"] = query

    return restrict_to_owner_hook

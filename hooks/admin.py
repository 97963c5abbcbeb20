"""`admins_only`: a call only administrators (users whose `roles` hold `admin`) may make."""

from __future__ import annotations

from cryptorobot.errors import Forbidden
from cryptorobot.hooks import HookContext, Next

__all__ = ["admins_only"]


async def admins_only(context: HookContext, next_step: Next | None = None) -> None:
    """After `authenticate`: 403 for external callers who are not administrators (server
    code, with no provider, passes). A before hook, or an around hook so the refusal comes
    before the data is validated."""
    from services.users import is_admin  # here: services.users imports this package

    if context.params.get("provider") and not is_admin(context.params.get("user")):
        raise Forbidden("Only administrators may do this")
    if next_step is not None:
        await next_step()

"""`authenticate(...)`: the hook that requires a caller and sets `params.user`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import NotAuthenticated
from ..hooks import HookContext, Next, identifies_caller

__all__ = ["authenticate"]


def authenticate(*strategies: str, service: str = "authentication") -> Callable[..., Awaitable[None]]:
    """Require authentication with one of `strategies` for external calls.

    Internal calls (no provider) and calls already marked `authenticated` pass. On success
    `params` gains the strategy's result (`user`, `authentication`) and `authenticated`.

    A before hook, or (as in Feathers v5) an around hook: registered under `around`, it runs
    before every before hook of the service, including the schema hooks `app.use` adds, so
    an anonymous caller gets 401 rather than a validation error.

    With rate limits (`app.rate_limits`), an authenticated client call is charged to the
    user's tier here, as soon as the user is known (the hook is marked `identifies_caller`).
    """
    if not strategies:
        raise ValueError("authenticate() needs at least one strategy name")

    async def authenticate_hook(context: HookContext, next_step: Next | None = None) -> None:
        if context.type not in ("before", "around"):
            raise NotAuthenticated("The authenticate hook must be used as a before hook")
        params = context.params
        authentication = params.get("authentication")
        if params.get("authenticated") is not True:
            if authentication:
                auth_service: Any = context.app.service(service).raw
                result = await auth_service.authenticate(authentication, params, *strategies)
                result = {key: value for key, value in result.items() if key != "accessToken"}
                params.update(result, authenticated=True)
                limits = context.app.rate_limits
                if limits is not None:
                    user = result[auth_service.entity_name]
                    await limits.charge_user(params, user[auth_service.entity_service.id], user)
            elif params.get("provider"):
                raise NotAuthenticated("Not authenticated")
        if next_step is not None:
            await next_step()

    return identifies_caller(authenticate_hook)

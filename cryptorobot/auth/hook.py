"""`authenticate(...)`: the before hook that requires a caller and sets `params.user`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import NotAuthenticated
from ..hooks import HookContext

__all__ = ["authenticate"]


def authenticate(*strategies: str, service: str = "authentication") -> Callable[[HookContext], Awaitable[None]]:
    """Require authentication with one of `strategies` for external calls.

    Internal calls (no provider) and calls already marked `authenticated` pass. On success
    `params` gains the strategy's result (`user`, `authentication`) and `authenticated`.
    """
    if not strategies:
        raise ValueError("authenticate() needs at least one strategy name")

    async def authenticate_hook(context: HookContext) -> None:
        if context.type not in ("before", "around"):
            raise NotAuthenticated("The authenticate hook must be used as a before hook")
        params = context.params
        if params.get("authenticated") is True:
            return
        authentication = params.get("authentication")
        if authentication:
            auth_service: Any = context.app.service(service).raw
            result = await auth_service.authenticate(authentication, params, *strategies)
            result = {key: value for key, value in result.items() if key != "accessToken"}
            params.update(result, authenticated=True)
            return
        if params.get("provider"):
            raise NotAuthenticated("Not authenticated")

    return authenticate_hook

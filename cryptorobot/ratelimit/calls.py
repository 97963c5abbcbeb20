"""Charging client calls to budgets: a user's tier, or the caller's address.

Every call from a client (REST request or Socket.IO method call) is charged exactly once:

* to its **user** when the method's hooks authenticate the caller: `authenticate` charges
  the tier's budget (`ratelimit.tiers.<tier>.requests`) as soon as it knows the user, so
  both transports draw on one budget per user;
* to its **address** (`params["ip"]`) when they do not (sign-up, login, webhooks): before
  any hook, from the `anonymous` budget, or from the named budget of the service's
  `address_budget` option (`app.use(path, service, {"address_budget": "webhooks"})`);
* to its address, after the fact, when it failed before either happened (an unknown path,
  a body that does not parse, failed authentication): the transports `settle` it, and a
  failure over the budget is answered with the 429 instead.

The window a call was charged to is kept in `params["rate_limit"]` (a `Window`); the REST
transport turns it into `X-RateLimit-*` headers. Over a budget a call fails with
`RateLimitExceeded` (429), `data: {limit, max, window, retryAfter}`, and `Retry-After`.

`limit_by(budget, key_of)` is a hook for an extra budget per key on top of that (a webhook's
signal token, shared by one customer's alerts from a provider's few addresses).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import FeathersError, RateLimitExceeded
from ..hooks import HookContext
from .counters import Budget, Counters, Window
from .settings import ANONYMOUS, RateLimitSettings

if TYPE_CHECKING:
    from ..service import ServiceProxy

__all__ = ["CHARGED", "CallLimits", "limit_by", "secret_key"]

CHARGED = "rate_limit"
"""The params key holding the `Window` a call was charged to."""


def secret_key(value: Any) -> str:
    """A counter key for a secret (a token, an email): its SHA-256, so stores never hold it."""
    return hashlib.sha256(str(value).encode("utf-8")).hexdigest()[:32]


def address_of(params: Mapping[str, Any]) -> str:
    return f"ip:{params.get('ip') or 'unknown'}"


def refusal(window: Window) -> RateLimitExceeded:
    """The 429 for a refused `window`, with `Retry-After`."""
    budget, retry_after = window.budget, window.retry_after()
    error = RateLimitExceeded(
        f"Rate limit exceeded: {budget.amount} calls per {budget.window} s; retry in {retry_after} s",
        {"limit": budget.name, "max": budget.amount, "window": budget.window, "retryAfter": retry_after})
    error.headers = window.headers()
    return error


class CallLimits:
    """The app's charging of client calls (see the module docstring); `app.rate_limits`."""

    def __init__(self, settings: RateLimitSettings, counters: Counters) -> None:
        self.settings = settings
        self.counters = counters

    async def charge_address(self, proxy: ServiceProxy, params: dict[str, Any]) -> None:
        """Before the hooks of a client call whose hooks do not identify the caller
        (`ServiceProxy.run`; otherwise `charge_user` charges it): charge its address."""
        if CHARGED in params or params.get("authenticated") is True:
            return
        await self.charge(self.settings.budget(proxy.address_budget or ANONYMOUS), address_of(params), params)

    async def charge_user(self, params: dict[str, Any], user_id: Any, user: Mapping[str, Any]) -> None:
        """Once `authenticate` identified the caller of a client call: charge their tier."""
        if CHARGED in params or params.get("provider") is None:
            return
        tier = self.settings.tier_of(user)
        if tier is not None:
            await self.charge(tier.budget, f"user:{user_id}", params)

    async def settle(self, params: dict[str, Any], *, failed: bool) -> FeathersError | None:
        """After a client call (transports): one nothing was charged for is charged to its
        address now. Returns the 429 that replaces a failure over the budget (a success
        stands)."""
        if CHARGED in params:
            return None
        try:
            await self.charge(self.settings.budget(ANONYMOUS), address_of(params), params)
        except RateLimitExceeded as refused:
            return refused if failed else None
        return None

    async def charge(self, budget: Budget, key: str, params: dict[str, Any] | None = None) -> Window | None:
        """Count one call for `key` on `budget`, recorded in `params` when given; raises
        `RateLimitExceeded` over the budget. None: the counters are out of reach (allowed)."""
        window = await self.counters.hit(budget, key)
        if window is None:
            return None
        if params is not None:
            params[CHARGED] = window
        if not window.allowed:
            raise refusal(window)
        return window


def limit_by(budget: str, key_of: Callable[[HookContext], Any]) -> Callable[[HookContext], Awaitable[None]]:
    """A before hook: client calls also draw on the named budget (`ratelimit.budgets.<budget>`)
    per `key_of(context)`, hashed (e.g. a webhook's signal token); a None key is not counted.
    Over it: `RateLimitExceeded` (429). Does nothing in an app without rate limits.

        app.service("signals/webhook").hooks({"before": {"create": [limit_by("signal-token", signal_token)]}})
    """

    async def limit_by_hook(context: HookContext) -> None:
        limits: CallLimits | None = context.app.rate_limits
        if limits is None or context.params.get("provider") is None:
            return
        key = key_of(context)
        if key is not None:
            await limits.charge(limits.settings.budget(budget), f"{budget}:{secret_key(key)}")

    return limit_by_hook

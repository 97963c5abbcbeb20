"""`deny_api_keys`: what an API key may not do, even through a token it was exchanged for.

Keys are for trading bots and servers; managing the account (password, email, deletion)
and issuing or revoking keys needs a password login, so a leaked key can't take an
account over. Tokens minted from a key carry `amr: ["api-key"]` (RFC 8176), so exchanging
the key for a JWT does not lift the limit.
"""

from __future__ import annotations

from cryptorobot.errors import Forbidden
from cryptorobot.hooks import HookContext, Next

__all__ = ["deny_api_keys"]


async def deny_api_keys(context: HookContext, next_step: Next | None = None) -> None:
    """After `authenticate`: 403 for callers authenticated by an API key.

    A before hook, or an around hook (like `authenticate`) so that the refusal comes before
    the service's data validation.
    """
    authentication = context.params.get("authentication") or {}
    methods = (authentication.get("payload") or {}).get("amr") or ()
    if authentication.get("strategy") == "api-key" or "api-key" in methods:
        raise Forbidden("API keys can not manage accounts or keys; log in with a password")
    if next_step is not None:
        await next_step()

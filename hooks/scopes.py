"""`deny_api_keys`: what an API key may not do, even through a token it was exchanged for.

Keys are for trading bots and servers; managing the account (password, email, deletion)
and issuing or revoking keys needs a password login, so a leaked key can't take an
account over. Tokens minted from a key carry `amr: ["api-key"]` (RFC 8176), so exchanging
the key for a JWT does not lift the limit.
"""

from __future__ import annotations

from cryptorobot.errors import Forbidden
from cryptorobot.hooks import HookContext

__all__ = ["deny_api_keys"]


def deny_api_keys(context: HookContext) -> None:
    """A before hook, after `authenticate`: 403 for callers authenticated by an API key."""
    authentication = context.params.get("authentication") or {}
    methods = (authentication.get("payload") or {}).get("amr") or ()
    if authentication.get("strategy") == "api-key" or "api-key" in methods:
        raise Forbidden("API keys can not manage accounts or keys; log in with a password")

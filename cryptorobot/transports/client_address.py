"""The client's address, for per-address budgets and the failed-login throttle (`params["ip"]`).

Without proxies in front (`trusted_proxies = 0`, the default) it is the TCP peer's address;
`X-Forwarded-For` is ignored, since any client can send one. Behind `n` proxies that each
append the address they received from (nginx's `$proxy_add_x_forwarded_for`, AWS ALB,
Cloudflare), it is the `n`-th address from the right of `X-Forwarded-For`: the rightmost
entries were written by our proxies, whatever a client put before them (werkzeug's
ProxyFix counts the same way).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["client_address"]


def client_address(peer: str | None, headers: Mapping[str, str], trusted_proxies: int = 0) -> str | None:
    """The client's address from the TCP `peer`, and `x-forwarded-for` (lower-case key) when
    `trusted_proxies` > 0; the leftmost forwarded address when the list is shorter."""
    if trusted_proxies <= 0:
        return peer
    forwarded = [hop.strip() for hop in headers.get("x-forwarded-for", "").split(",") if hop.strip()]
    if not forwarded:
        return peer
    return forwarded[-min(trusted_proxies, len(forwarded))]

"""Rate limits: budgets of calls per user tier and per address, a cap on each user's
realtime connections, and the counters behind them (`limits`' moving window, in memory or
in Redis shared by processes).

`configure_rate_limits(app)` sets them up from the `[ratelimit]` settings (see
`settings.py`); `calls.py` says who is charged for which call, `connections.py` how the
connection cap works. The failed-login throttle (`cryptorobot.auth.throttle`) counts with
the same counters (`counters_for(app)`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .calls import CHARGED, CallLimits, limit_by, secret_key
from .connections import CLOSED_EVENT, ConnectionCap, ConnectionRecords, MemoryConnections, RedisConnections
from .counters import EXPIRY_INTERVAL, Budget, Counters, MemoryCounters, RedisCounters, Window, counters_for
from .settings import ANONYMOUS, RateLimitSettings, Tier

if TYPE_CHECKING:
    from ..app import App

__all__ = [
    "ANONYMOUS", "CHARGED", "CLOSED_EVENT", "EXPIRY_INTERVAL", "Budget", "CallLimits", "ConnectionCap",
    "ConnectionRecords", "Counters", "MemoryConnections", "MemoryCounters", "RateLimitSettings", "RedisConnections",
    "RedisCounters", "Tier", "Window", "configure_rate_limits", "counters_for", "limit_by", "secret_key",
]


def configure_rate_limits(app: App, *, entity: str = "user", id_field: str = "_id") -> CallLimits | None:
    """Limit `app`'s client calls and realtime connections by the `[ratelimit]` settings
    (`app.rate_limits`); None, and nothing limited, when `enabled = false`.
    `entity`/`id_field`: where a login result holds the user and its id."""
    settings = RateLimitSettings.from_section(app.get("ratelimit"))
    if not settings.enabled:
        return None
    counters = counters_for(app)
    limits = app.rate_limits = CallLimits(settings, counters)
    if settings.tiers:
        records = (RedisConnections(counters.client, counters.prefix) if isinstance(counters, RedisCounters)
                   else MemoryConnections())
        ConnectionCap(app, settings, records, entity=entity, id_field=id_field)
    return limits

"""The `[ratelimit]` settings: tiers of users, the anonymous budget, named budgets.

    [ratelimit]
    enabled = true
    window = 60               # seconds every budget below counts over
    default_tier = "free"     # users whose tier field is empty or unknown
    tier_field = "tier"       # the user record's field naming its tier
    anonymous = 60            # calls per window per address, for calls no user is charged for

    [ratelimit.tiers.free]
    requests = 60             # calls per window, REST and Socket.IO together
    connections = 1           # realtime connections logged in at once

    [ratelimit.budgets]
    webhooks = 600            # named budgets: per-service address budgets, `limit_by` hooks
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .counters import Budget

__all__ = ["ANONYMOUS", "RateLimitSettings", "Tier"]

ANONYMOUS = "anonymous"
"""The budget of calls no user is charged for, per address."""


@dataclass(frozen=True)
class Tier:
    """What one tier of users may do: `requests` calls per window, `connections` realtime
    connections logged in at once."""

    name: str
    budget: Budget
    connections: int


@dataclass(frozen=True)
class RateLimitSettings:
    """`[ratelimit]` as objects (see the module docstring)."""

    enabled: bool = True
    window: int = 60
    default_tier: str = "free"
    tier_field: str = "tier"
    tiers: Mapping[str, Tier] = field(default_factory=dict)
    budgets: Mapping[str, Budget] = field(default_factory=dict)

    @classmethod
    def from_section(cls, section: Mapping[str, Any] | None) -> RateLimitSettings:
        """From the `[ratelimit]` section; raises ValueError on a budget below 1 or a
        default tier that is not defined."""
        section = section or {}
        window = int(section.get("window", 60))
        tiers = {
            name: Tier(name, Budget(f"ratelimit.tiers.{name}.requests", int(spec["requests"]), window),
                       int(spec.get("connections", 1)))
            for name, spec in (section.get("tiers") or {}).items()
        }
        default_tier = str(section.get("default_tier", "free"))
        if tiers and default_tier not in tiers:
            raise ValueError(f"ratelimit.default_tier {default_tier!r} is not among ratelimit.tiers ({', '.join(tiers)})")
        budgets = {name: Budget(f"ratelimit.budgets.{name}", int(amount), window)
                   for name, amount in (section.get("budgets") or {}).items()}
        budgets[ANONYMOUS] = Budget(f"ratelimit.{ANONYMOUS}", int(section.get(ANONYMOUS, 60)), window)
        return cls(enabled=bool(section.get("enabled", True)), window=window, default_tier=default_tier,
                   tier_field=str(section.get("tier_field", "tier")), tiers=tiers, budgets=budgets)

    def tier_of(self, user: Mapping[str, Any] | None) -> Tier | None:
        """The tier of `user` (its `tier_field`, else the default tier); None when no tiers are set."""
        named = user.get(self.tier_field) if isinstance(user, Mapping) else None
        return self.tiers.get(named) if isinstance(named, str) and named in self.tiers else self.tiers.get(self.default_tier)

    def budget(self, name: str) -> Budget:
        """A named budget (`ratelimit.budgets.<name>`, or `anonymous`); KeyError names the setting."""
        try:
            return self.budgets[name]
        except KeyError:
            raise KeyError(f"no budget {name!r}: set ratelimit.budgets.{name}") from None

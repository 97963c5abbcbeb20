"""Throttling password and API-key guessing: failures lock an address, an account on an
address, and an account on unfamiliar addresses, each for a while.

Every failed check of a secret from a client (a local login, an API key, the current
password of a password change) is counted, per `window` seconds (a moving window of the
`limits` library, in the app's counters: Redis when configured, so processes share them):

* per **address** (`address`, 30): failures from one address, whatever the account or key.
  Beyond it the address is refused every password and key check. One host can not spray
  passwords over many accounts, nor try API keys, faster than that.
* per **account and address** (`account_address`, 5): failures at one account from one
  address. Beyond it that address is refused for that account. A success clears it.
* per **account** (`account`, 20): failures at one account from every address together.
  Beyond it the account refuses addresses it does not know, i.e. that have not logged in to
  it successfully within `known_for` seconds (30 days); known addresses go on, limited only
  by the rule above.

A refused check answers `429 TooManyAttempts` with `Retry-After` (when the oldest failure
leaves the window) before the secret is even compared, so a locked attacker learns nothing
and costs no bcrypt work. Locks end by themselves: nothing is locked for longer than
`window` after the last failure that counted.

Why this policy: a per-account lock alone lets anyone lock a user out from anywhere, for as
long as they keep failing (OWASP, "Blocking Brute Force Attacks"). Here an attacker
elsewhere can at most make the account refuse *new* addresses, for `window` after their
last burst; the owner's usual addresses keep working. Locks on an address only hurt that
address (a NAT shares it; the limits are sized for that). Emails and keys are counted
under their SHA-256, never stored as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import TooManyAttempts
from ..ratelimit import Budget, Counters, Window, secret_key

__all__ = ["FailureThrottle", "ThrottleSettings"]


@dataclass(frozen=True)
class ThrottleSettings:
    """`[authentication.throttle]`: see the module docstring (seconds, counts)."""

    enabled: bool = True
    window: int = 900
    address: int = 30
    account_address: int = 5
    account: int = 20
    known_for: int = 30 * 86400


class FailureThrottle:
    """Counts failed secret checks and refuses checks that would exceed them (see the module
    docstring). Calls take the client's address (`params["ip"]`) and, for passwords, the
    account (the normalised username)."""

    def __init__(self, settings: ThrottleSettings, counters: Counters) -> None:
        self.counters = counters
        section = "authentication.throttle"
        self.address = Budget(f"{section}.address", settings.address, settings.window)
        self.account_address = Budget(f"{section}.account_address", settings.account_address, settings.window)
        self.account = Budget(f"{section}.account", settings.account, settings.window)
        self.known = Budget(f"{section}.known_for", 1, settings.known_for)

    @staticmethod
    def _keys(address: str | None, account: str | None) -> tuple[str, str | None, str | None]:
        at = f"ip:{address or 'unknown'}"
        if account is None:
            return at, None, None
        hashed = secret_key(account)
        return at, hashed, f"{hashed}/{at}"

    async def check(self, address: str | None, account: str | None = None) -> None:
        """Raise `TooManyAttempts` if a check from `address` (at `account`) is locked now."""
        at, hashed, pair = self._keys(address, account)
        _refuse_if_spent(await self.counters.peek(self.address, at))
        if hashed is None or pair is None:
            return
        _refuse_if_spent(await self.counters.peek(self.account_address, pair))
        spent = await self.counters.peek(self.account, hashed)
        if spent is not None and not spent.allowed:
            known = await self.counters.peek(self.known, pair)
            if known is None or known.allowed:  # never logged in from here (or can't tell)
                _refuse_if_spent(spent)

    async def failed(self, address: str | None, account: str | None = None) -> None:
        """Count a failed check from `address` (at `account`)."""
        at, hashed, pair = self._keys(address, account)
        await self.counters.hit(self.address, at)
        if hashed is not None and pair is not None:
            await self.counters.hit(self.account_address, pair)
            await self.counters.hit(self.account, hashed)

    async def succeeded(self, address: str | None, account: str) -> None:
        """A right password for `account` from `address`: the address is known to the
        account from now on, and its failures there are forgiven."""
        _, _, pair = self._keys(address, account)
        assert pair is not None
        await self.counters.hit(self.known, pair)
        await self.counters.clear(self.account_address, pair)

    @classmethod
    def from_section(cls, section: Mapping[str, Any] | None, counters: Counters) -> FailureThrottle | None:
        """From `[authentication.throttle]`; None when `enabled = false`."""
        from ..config import from_section

        settings = from_section(ThrottleSettings, section)
        return cls(settings, counters) if settings.enabled else None


def _refuse_if_spent(window: Window | None) -> None:
    if window is None or window.allowed:
        return
    retry_after = window.retry_after()
    budget = window.budget
    error = TooManyAttempts(f"Too many failed attempts; try again in {retry_after} s",
                            {"limit": budget.name, "max": budget.amount, "window": budget.window,
                             "retryAfter": retry_after})
    error.headers = {"Retry-After": str(retry_after)}
    raise error

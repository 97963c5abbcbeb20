"""Injected time: the engine never reads the system clock itself.

Times are UTC epoch milliseconds (ccxt's unit for `timestamp`). Live, the market clock is
the wall clock (`SystemClock`); a replay or a backtest sets it to the time of the price it
is playing (`ManualClock`), so a year of minutes runs in a second and tests never sleep.
"""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    """Anything that tells the time in UTC epoch milliseconds."""

    def now_ms(self) -> int: ...


class SystemClock:
    """The wall clock."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class ManualClock:
    """A clock that only moves when told to: replays, backtests, tests."""

    def __init__(self, start_ms: int = 0) -> None:
        self._now = int(start_ms)

    def now_ms(self) -> int:
        return self._now

    def set(self, ms: int) -> None:
        """Jump to `ms`; time never goes backwards (ValueError)."""
        if ms < self._now:
            raise ValueError(f"time can not go backwards ({ms} < {self._now})")
        self._now = int(ms)

    def advance(self, ms: int) -> None:
        self.set(self._now + int(ms))

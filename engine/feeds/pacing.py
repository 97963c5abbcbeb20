"""Wall time for feeds: an injected clock that tells the time and sleeps, and a drift-free pacer.

Feeds never read the system clock or call `asyncio.sleep` themselves: they take a
`FeedClock` (`now_ms()`, `await sleep(seconds)`). `RealTime` is the real one; the
framework's clocks (`cryptorobot.clock.SystemClock`, `ManualClock`) have the same two
methods, so the App's clock drives the feeds of a server and a test moves time instead
of sleeping.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

__all__ = ["FeedClock", "Pacer", "RealTime"]


class FeedClock(Protocol):
    """Wall time as a feed reads it."""

    def now_ms(self) -> int:
        """UTC epoch milliseconds."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return once `seconds` have passed on this clock."""
        ...


class RealTime:
    """The system clock, sleeping on the running event loop."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Pacer:
    """Lets something happen every `interval` seconds of `clock` time, without drift.

    The first `wait()` returns at once; each later one returns `interval` after the time the
    previous one was due (not after it returned), so the time spent between waits does not
    add up. A caller more than one interval late (the process was busy or suspended, a test
    jumped the clock) starts again from now instead of catching up in a burst. Times less
    than a millisecond apart count as equal (clocks tell whole milliseconds).
    """

    def __init__(self, clock: FeedClock, interval: float) -> None:
        if not interval > 0:
            raise ValueError(f"a pace needs a positive interval, not {interval!r}")
        self.clock = clock
        self.interval_ms = interval * 1000.0
        self._due: float | None = None

    async def wait(self) -> None:
        now = self.clock.now_ms()
        due = self._due
        if due is None or now - due > self.interval_ms:
            due = float(now)
        elif due - now >= 1.0:
            await self.clock.sleep((due - now) / 1000.0)
        self._due = due + self.interval_ms

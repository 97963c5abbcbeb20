"""The wall clock, injected: `app.clock` tells the time to tokens, timestamps, expiry timers
and the supervisor's backoff, so tests move time instead of sleeping.

Units: `time()` is UTC epoch seconds (float, as `time.time()`); `now_ms()` is UTC epoch
milliseconds (int; the same method as the engine's clock, `engine/clock.py`, so the app's
clock can drive the engine when it runs live); `now()` is an aware UTC datetime truncated
to milliseconds (what JS dates and the adapters keep, `2024-01-01T12:00:00.123Z` on the wire).
`sleep(seconds)` and `call_later(seconds, callback, *args)` wait on this clock's time.

`SystemClock` is the default. `ManualClock` only moves when a test says so (`advance`,
`set`); sleepers and timers whose time has come then wake up, in time order.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

__all__ = ["Clock", "ManualClock", "SystemClock", "Timer", "utc_from_ms"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc_from_ms(ms: int) -> datetime:
    """Epoch milliseconds -> aware UTC datetime, exactly (no float rounding)."""
    return _EPOCH + timedelta(milliseconds=ms)


class Timer(Protocol):
    """A scheduled callback (`asyncio.TimerHandle` is one): `cancel()` stops it from running."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """The wall clock as the framework reads it."""

    def time(self) -> float:
        """UTC epoch seconds."""
        ...

    def now_ms(self) -> int:
        """UTC epoch milliseconds."""
        ...

    def now(self) -> datetime:
        """Aware UTC datetime, millisecond precision."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return once `seconds` of this clock's time have passed (cancellable)."""
        ...

    def call_later(self, seconds: float, callback: Callable[..., Any], *args: Any) -> Timer:
        """Run `callback(*args)` on the event loop once `seconds` of this clock's time passed."""
        ...


class SystemClock:
    """The real wall clock (`time.time()`); sleeps and timers run on the event loop."""

    def time(self) -> float:
        return time.time()

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def now(self) -> datetime:
        return utc_from_ms(self.now_ms())

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def call_later(self, seconds: float, callback: Callable[..., Any], *args: Any) -> Timer:
        return asyncio.get_running_loop().call_later(max(0.0, seconds), callback, *args)


class _ManualTimer:
    __slots__ = ("args", "callback", "cancelled", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, callback: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.loop = loop
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def fire(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            self.loop.call_soon(self.callback, *self.args)


class _Sleeper:
    __slots__ = ("future",)

    def __init__(self, future: asyncio.Future[None]) -> None:
        self.future = future

    @property
    def cancelled(self) -> bool:
        return self.future.done()

    def fire(self) -> None:
        if not self.future.done():
            self.future.set_result(None)


class ManualClock:
    """A wall clock that moves only when told to: `advance(seconds)` or `set(epoch_seconds)`.

    Starts at `start` (UTC epoch seconds; default 2024-01-01T00:00:00Z). Time never goes
    backwards (ValueError). Moving it wakes every sleeper and schedules (with the event
    loop's `call_soon`, as asyncio runs a due timer) every timer whose time has come, in time
    order; the woken code runs when the caller next yields to the loop.
    `await wait_for_waiters(n)` returns once `n` sleepers/timers are pending, so a test can
    move time only after the code under test started waiting.
    """

    def __init__(self, start: float = 1_704_067_200.0) -> None:
        self._now = float(start)
        self._due: list[tuple[float, int, _ManualTimer | _Sleeper]] = []
        self._order = itertools.count()
        self._changed: asyncio.Event | None = None

    def time(self) -> float:
        return self._now

    def now_ms(self) -> int:
        return int(self._now * 1000)

    def now(self) -> datetime:
        return utc_from_ms(self.now_ms())

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._schedule(seconds, _Sleeper(future))
        await future

    def call_later(self, seconds: float, callback: Callable[..., Any], *args: Any) -> Timer:
        timer = _ManualTimer(asyncio.get_running_loop(), callback, args)
        if seconds <= 0:
            timer.fire()
        else:
            self._schedule(seconds, timer)
        return timer

    @property
    def waiters(self) -> list[float]:
        """Due times (epoch seconds, ascending) of the pending sleepers and timers."""
        return sorted(due for due, _, entry in self._due if not entry.cancelled)

    async def wait_for_waiters(self, count: int = 1) -> None:
        """Return once at least `count` sleepers/timers are pending (wrap in a timeout)."""
        while len(self.waiters) < count:
            if self._changed is None:
                self._changed = asyncio.Event()
            self._changed.clear()
            await self._changed.wait()

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds` (>= 0)."""
        if seconds < 0:
            raise ValueError(f"time can not go backwards ({seconds} s)")
        self.set(self._now + seconds)

    def set(self, epoch_seconds: float) -> None:
        """Jump to `epoch_seconds`, waking what is due on the way, in time order."""
        if epoch_seconds < self._now:
            raise ValueError(f"time can not go backwards ({epoch_seconds} < {self._now})")
        while self._due and self._due[0][0] <= epoch_seconds:
            due, _, entry = heapq.heappop(self._due)
            self._now = max(self._now, due)
            entry.fire()
        self._now = float(epoch_seconds)

    def _schedule(self, seconds: float, entry: _ManualTimer | _Sleeper) -> None:
        heapq.heappush(self._due, (self._now + seconds, next(self._order), entry))
        if self._changed is not None:
            self._changed.set()

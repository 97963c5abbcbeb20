"""Coalescing ticker updates: at most `rate` sends per market per second, the latest value each time.

A feed may update a market far more often than a screen can show (a replay at full speed,
an exchange in a burst). `TickerCoalescer.update(key, ticker)` keeps only the latest ticker
of each market and sends it:

* at once (on the event loop's next turn, so a burst within one turn is one send) when the
  market's last send is at least `1 / rate` seconds old,
* otherwise when it is: one timer per market, never more than one send pending,
* and never while the market's previous send is still being delivered: then the latest
  value waits for it to finish.

So a market is sent at most `rate` times per second (in any `T` seconds at most
`rate * T + 1` sends), each send carries the newest ticker, and the only thing a burst or a
slow server leaves behind is one pending value per market: no queue can grow, whatever the
update rate. Every socket in a market's room receives a send as one frame (`exchanges/ticker
patched`), so the rule holds per symbol per socket. Time is the injected clock's
(`call_later`, `time`); sends run as tasks started by `spawn`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

from cryptorobot.clock import Clock, Timer

__all__ = ["TickerCoalescer"]

K = TypeVar("K", bound=Hashable)


class _Slot:
    __slots__ = ("live", "pending", "sending", "sent_at", "timer")

    def __init__(self) -> None:
        self.pending: dict[str, Any] | None = None
        self.sent_at = float("-inf")
        self.timer: Timer | None = None
        self.sending = False
        self.live = True


class TickerCoalescer(Generic[K]):
    """See the module documentation. `send(key, ticker)` delivers one send; `spawn(awaitable)`
    runs it in a task of its own."""

    def __init__(self, clock: Clock, rate: float, send: Callable[[K, dict[str, Any]], Awaitable[Any]],
                 spawn: Callable[[Awaitable[Any]], Any]) -> None:
        if not rate > 0:
            raise ValueError(f"the ticker rate must be positive, not {rate!r}")
        self.clock = clock
        self.interval = 1.0 / rate
        self.send = send
        self.spawn = spawn
        self._slots: dict[K, _Slot] = {}

    def update(self, key: K, ticker: dict[str, Any]) -> None:
        """The latest ticker of `key`'s market; sent now or as soon as the rules allow."""
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot()
        slot.pending = ticker
        if slot.timer is None and not slot.sending:
            self._schedule(key, slot)

    def _schedule(self, key: K, slot: _Slot) -> None:
        wait = slot.sent_at + self.interval - self.clock.time()
        slot.timer = self.clock.call_later(max(0.0, wait), self._flush, key, slot)

    def _flush(self, key: K, slot: _Slot) -> None:
        ticker, slot.pending, slot.timer = slot.pending, None, None
        if ticker is None or not slot.live:
            return
        slot.sent_at = self.clock.time()
        slot.sending = True
        self.spawn(self._deliver(key, slot, ticker))

    async def _deliver(self, key: K, slot: _Slot, ticker: dict[str, Any]) -> None:
        try:
            await self.send(key, ticker)
        finally:
            slot.sending = False
            if slot.live and slot.pending is not None and slot.timer is None:
                self._schedule(key, slot)

    def forget(self, key: K) -> None:
        """Drop `key`'s pending value (nobody receives its market any more)."""
        slot = self._slots.pop(key, None)
        if slot is not None:
            slot.live = False
            slot.pending = None
            if slot.timer is not None:
                slot.timer.cancel()

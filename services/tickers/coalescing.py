"""Coalescing ticker updates: at most `rate` sends per market per second, the latest value each time.

A feed may update a market far more often than a screen can show (a replay at full speed,
an exchange in a burst). `TickerCoalescer.update(key, ticker)` keeps only the latest ticker
of each market and sends it:

* at once (on the event loop's next turn, so a burst within one turn is one send) when the
  market's last send is at least `1 / rate` seconds old,
* otherwise when it is: one timer per market, never more than one send pending.

So a market is sent at most `rate` times per second (in any `T` seconds at most
`rate * T + 1` sends), each send carries the newest ticker, and a burst leaves nothing
behind but one pending value: no backlog can build, whatever the update rate. Every socket
in a market's room receives its sends as one frame (`exchanges/ticker patched`), so the
rule holds per symbol per socket. Time is the injected clock's (`call_later`, `time`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from cryptorobot.clock import Clock, Timer

__all__ = ["TickerCoalescer"]


class _Slot:
    __slots__ = ("pending", "sent_at", "timer")

    def __init__(self) -> None:
        self.pending: dict[str, Any] | None = None
        self.sent_at = float("-inf")
        self.timer: Timer | None = None


class TickerCoalescer:
    """See the module documentation. `send(ticker)` is called for each send."""

    def __init__(self, clock: Clock, rate: float, send: Callable[[dict[str, Any]], Any]) -> None:
        if not rate > 0:
            raise ValueError(f"the ticker rate must be positive, not {rate!r}")
        self.clock = clock
        self.interval = 1.0 / rate
        self.send = send
        self._slots: dict[Hashable, _Slot] = {}

    def update(self, key: Hashable, ticker: dict[str, Any]) -> None:
        """The latest ticker of `key`'s market; sent now or when the market's interval has passed."""
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot()
        slot.pending = ticker
        if slot.timer is None:
            wait = slot.sent_at + self.interval - self.clock.time()
            slot.timer = self.clock.call_later(max(0.0, wait), self._flush, slot)

    def _flush(self, slot: _Slot) -> None:
        ticker, slot.pending, slot.timer = slot.pending, None, None
        if ticker is not None:
            slot.sent_at = self.clock.time()
            self.send(ticker)

    def forget(self, key: Hashable) -> None:
        """Drop `key`'s pending value (nobody receives its market any more)."""
        slot = self._slots.pop(key, None)
        if slot is not None and slot.timer is not None:
            slot.timer.cancel()

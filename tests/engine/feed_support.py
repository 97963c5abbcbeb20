"""Helpers for the feed tests: a clock whose sleeps pass at once, and draining a feed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from tests.engine.candle_support import START


class SteppingClock:
    """A feed clock on which every sleep passes at once: time jumps by the sleep, which is
    recorded in `sleeps` (seconds), so a test reads the pace a feed kept without waiting."""

    def __init__(self, start_ms: int = START) -> None:
        self.now = float(start_ms)
        self.sleeps: list[float] = []

    def now_ms(self) -> int:
        return int(self.now)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds * 1000
        await asyncio.sleep(0)


async def take(events: AsyncIterator[Any], count: int) -> list[Any]:
    """The next `count` events (fewer if the feed ends)."""
    taken: list[Any] = []
    async for event in events:
        taken.append(event)
        if len(taken) == count:
            break
    return taken

"""Calling a live stream again and again, with exponential backoff after failures.

`reconnecting(call, symbol, backoff=(min, max), clock)` awaits `call()` in a loop and yields
what each call returns. A call that raises any `Exception` (ccxt's `NetworkError` when the
exchange closes the connection or a ping times out, an `ExchangeError`, ...) yields a
`FeedDropped` and is tried again after `min`, `2 min`, `4 min`, ... seconds, at most `max`,
on the injected clock; the first success after failures yields a `FeedRecovered` (attempts
and wall milliseconds down) before its value. Cancellation is never caught. ccxt.pro
reconnects by itself when a `watch_*` call is made again after its connection was lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

from .events import FeedDropped, FeedRecovered
from .pacing import FeedClock

__all__ = ["describe_error", "reconnecting", "valid_backoff"]

T = TypeVar("T")


def valid_backoff(backoff: Sequence[float]) -> tuple[float, float]:
    """`(min, max)` seconds; ValueError unless `0 <= min <= max`."""
    low, high = (float(value) for value in backoff)
    if not 0 <= low <= high:
        raise ValueError("backoff must be (min, max) seconds with 0 <= min <= max")
    return low, high


def describe_error(error: BaseException) -> str:
    """`"<ErrorClass>: <message>"` (the class alone without a message)."""
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


async def reconnecting(call: Callable[[], Awaitable[T]], symbol: str, backoff: tuple[float, float],
                       clock: FeedClock) -> AsyncIterator[T | FeedDropped | FeedRecovered]:
    """See the module documentation; never ends by itself."""
    failures, down_since = 0, 0
    low, high = backoff
    while True:
        try:
            value = await call()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            now = clock.now_ms()
            if not failures:
                down_since = now
            failures += 1
            delay = min(high, low * 2 ** min(failures - 1, 64))
            yield FeedDropped(symbol, describe_error(error), failures, delay, now)
            await clock.sleep(delay)
            continue
        if failures:
            now = clock.now_ms()
            yield FeedRecovered(symbol, failures, now - down_since, now)
            failures = 0
        yield value

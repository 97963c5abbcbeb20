"""Moving-window counters from the `limits` library: in this process, or in Redis.

A `Budget` is "`amount` per `window` seconds" under a name; `Counters.hit(budget, key)`
counts one event for `key` (a user id, an address, a token) if the budget allows it, and
answers a `Window`: whether it was allowed, what is left, and when the oldest counted event
leaves the window (`limits`' moving window: exactly `amount` events in any `window` seconds,
no burst at window edges; reference: https://limits.readthedocs.io/en/stable/strategies.html).

* `MemoryCounters`: this process. `limits`' synchronous `MemoryStorage` (a few microseconds
  per hit, no I/O, so it runs on the event loop); its sweep of expired entries runs on a
  timer thread every `EXPIRY_INTERVAL` seconds instead of the library's 10 ms, which with
  thousands of keys would keep a core busy (the counting itself never depends on the sweep).
* `RedisCounters`: keys `<prefix>:<budget>/<key>/...` in Redis, shared by every process
  using the same Redis and prefix (`limits`' asyncio Redis storage on redis-py). A hit runs
  `limits`' two moving-window Lua scripts (take one, then read the window) in one pipelined
  round trip instead of two. When Redis can not be reached a hit is allowed (no limit
  beats no service) and a warning is logged, at most once a minute.

`counters_for(app)` gives the app's counters, built once from the `[ratelimit]` settings.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.errors import StorageError
from limits.storage import MemoryStorage
from redis.exceptions import NoScriptError, RedisError

if TYPE_CHECKING:
    from ..app import App

__all__ = ["EXPIRY_INTERVAL", "Budget", "Counters", "MemoryCounters", "RedisCounters", "Window", "counters_for"]

log = logging.getLogger("cryptorobot.ratelimit")

EXPIRY_INTERVAL = 10.0
"""Seconds between sweeps of expired entries out of `MemoryCounters`."""
_WARN_EVERY = 60.0


class Budget:
    """`amount` events per `window` seconds; `name` says where it is set (a setting path,
    shown to clients as `data.limit`)."""

    __slots__ = ("amount", "item", "name", "window")

    def __init__(self, name: str, amount: int, window: int) -> None:
        if amount < 1 or window < 1:
            raise ValueError(f"{name}: a budget needs at least 1 event in at least 1 second")
        self.name = name
        self.amount = amount
        self.window = window
        self.item: RateLimitItem = RateLimitItemPerSecond(amount, window, namespace=name)

    def __repr__(self) -> str:
        return f"Budget({self.name!r}, {self.amount} per {self.window} s)"


class Window(NamedTuple):
    """A budget's state for one key after a hit (or a look).

    `remaining`: events still allowed now; `reset`: epoch seconds at which the oldest
    counted event leaves the window, so that one more is allowed (now, when none is counted).
    """

    budget: Budget
    allowed: bool
    remaining: int
    reset: float

    @classmethod
    def of(cls, budget: Budget, allowed: bool | None, start: float, count: int) -> Window:
        """From a moving window's `(start, count)`: the time of the oldest event counted and
        how many are (`limits`' `get_moving_window`); `allowed` None: one more would be."""
        remaining = max(0, budget.amount - count)
        reset = start + budget.window if count else time.time()
        return cls(budget, remaining > 0 if allowed is None else allowed, remaining, reset)

    def retry_after(self, now: float | None = None) -> int:
        """Whole seconds until one more event is allowed (at least 1)."""
        return max(1, math.ceil(self.reset - (time.time() if now is None else now)))

    def headers(self) -> dict[str, str]:
        """`X-RateLimit-Limit`, `-Remaining`, `-Reset` (epoch seconds); `Retry-After` too when
        this event was refused."""
        headers = {"X-RateLimit-Limit": str(self.budget.amount), "X-RateLimit-Remaining": str(self.remaining),
                   "X-RateLimit-Reset": str(math.ceil(self.reset))}
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after())
        return headers


class Counters(Protocol):
    """Where windows are counted (see the module docstring)."""

    async def hit(self, budget: Budget, key: str) -> Window | None:
        """Count one event for `key` if `budget` allows it; None when the store is out of reach."""

    async def peek(self, budget: Budget, key: str) -> Window | None:
        """The window of `key` without counting anything (`allowed`: one more would be)."""

    async def clear(self, budget: Budget, key: str) -> None:
        """Forget every event counted for `key`."""

    async def close(self) -> None: ...


class _SparseExpiryStorage(MemoryStorage):
    """`limits`' MemoryStorage whose sweep of expired entries runs every `EXPIRY_INTERVAL`
    seconds on a daemon timer (the library re-arms a 10 ms timer after every sweep that a
    hit follows, and one sweep visits every key). Overrides the library's private
    `__schedule_expiry`; `pyproject.toml` pins `limits` below its next major version and
    `tests/ratelimit/test_counters.py` fails if the override stops taking effect."""

    def _MemoryStorage__schedule_expiry(self) -> None:
        if not self.timer.is_alive():
            self.timer = threading.Timer(EXPIRY_INTERVAL, self._MemoryStorage__expire_events)  # type: ignore[attr-defined]
            self.timer.daemon = True
            self.timer.start()


class MemoryCounters:
    """Counters in this process's memory (see the module docstring). Calls `limits`'
    moving-window storage API directly (`acquire_entry`, `get_moving_window`: what its
    `MovingWindowRateLimiter` calls), with the key built once per hit."""

    def __init__(self) -> None:
        self.storage = _SparseExpiryStorage()

    async def hit(self, budget: Budget, key: str) -> Window:
        stored = budget.item.key_for(key)
        allowed = self.storage.acquire_entry(stored, budget.amount, budget.window)
        return Window.of(budget, allowed, *self.storage.get_moving_window(stored, budget.amount, budget.window))

    async def peek(self, budget: Budget, key: str) -> Window:
        stored = budget.item.key_for(key)
        return Window.of(budget, None, *self.storage.get_moving_window(stored, budget.amount, budget.window))

    async def clear(self, budget: Budget, key: str) -> None:
        self.storage.clear(budget.item.key_for(key))

    async def close(self) -> None:
        self.storage.timer.cancel()


class RedisCounters:
    """Counters in Redis under `prefix`, shared by the processes using it (see the module
    docstring). `client` is a `redis.asyncio.Redis` this object then owns (and closes).

    `hit` sends what `limits`' `acquire_entry` and `get_moving_window` send (its registered
    scripts, with their keys and arguments) in one pipeline: the same algorithm, one round
    trip. `tests/ratelimit/test_counters.py` checks that it agrees with `limits`' own calls,
    so a `limits` release that changes them fails there."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        url = "async+redis://"  # the pool below decides where; limits only needs the scheme
        self.storage = RedisStorage(url, wrap_exceptions=True, implementation="redispy", key_prefix=prefix,
                                    connection_pool=client.connection_pool)
        bridge = self.storage.bridge
        self._scripts = (bridge.lua_acquire_moving_window, bridge.lua_moving_window)  # type: ignore[attr-defined]
        self._scripts_loaded = False
        self._warned_at = -math.inf

    async def hit(self, budget: Budget, key: str) -> Window | None:
        stored = self.storage.bridge.prefixed_key(budget.item.key_for(key))
        acquire, window = self._scripts
        try:
            for _ in range(2):  # a second time after Redis lost its scripts (a restart)
                if not self._scripts_loaded:
                    for script in self._scripts:
                        script.sha = await self.client.script_load(script.script)
                    self._scripts_loaded = True
                now = time.time()
                async with self.client.pipeline(transaction=False) as pipeline:
                    pipeline.evalsha(acquire.sha, 1, stored, now, budget.amount, budget.window, 1)
                    pipeline.evalsha(window.sha, 1, stored, now - budget.window, budget.amount)
                    try:
                        acquired, found = await pipeline.execute()
                    except NoScriptError:
                        self._scripts_loaded = False
                        continue
                start, count = (float(found[0]), int(found[1])) if found else (now, 0)
                return Window.of(budget, bool(acquired), start, count)
        except RedisError as problem:
            self._warn(problem)
        return None

    async def peek(self, budget: Budget, key: str) -> Window | None:
        try:
            start, count = await self.storage.get_moving_window(budget.item.key_for(key), budget.amount, budget.window)
        except StorageError as problem:
            self._warn(problem)
            return None
        return Window.of(budget, None, start, count)

    async def clear(self, budget: Budget, key: str) -> None:
        try:
            await self.storage.clear(budget.item.key_for(key))
        except StorageError as problem:
            self._warn(problem)

    def _warn(self, problem: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= _WARN_EVERY:
            self._warned_at = now
            log.warning("rate limit counters in Redis are out of reach (%s): calls are not limited meanwhile",
                        problem.storage_error if isinstance(problem, StorageError) else problem)

    async def close(self) -> None:
        await self.client.aclose()


def redis_client(url: str) -> Any:
    """A `redis.asyncio.Redis` for `url` (answers decoded to str)."""
    import redis.asyncio

    return redis.asyncio.from_url(url, decode_responses=True)


_BY_APP: weakref.WeakKeyDictionary[App, Counters] = weakref.WeakKeyDictionary()


def counters_for(app: App) -> Counters:
    """The app's counters, built on first use from `[ratelimit] redis_url` (default: the
    Socket.IO one; empty: this process) and `key_prefix` (default `<socketio.redis_channel>:ratelimit`),
    and closed at the app's teardown."""
    found = _BY_APP.get(app)
    if found is not None:
        return found
    settings: Mapping[str, Any] = app.get("ratelimit") or {}
    socket_settings: Mapping[str, Any] = app.get("socketio") or {}
    url = settings.get("redis_url") or socket_settings.get("redis_url")
    counters: Counters
    if url:
        prefix = settings.get("key_prefix") or f"{socket_settings.get('redis_channel') or 'cryptorobot'}:ratelimit"
        counters = RedisCounters(redis_client(str(url)), str(prefix))
    else:
        counters = MemoryCounters()
    _BY_APP[app] = counters

    async def close_counters(context: Any, next_step: Any) -> None:
        await next_step()
        await counters.close()
        _BY_APP.pop(app, None)

    app.hooks({"teardown": [close_counters]})
    return counters

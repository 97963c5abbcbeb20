"""Event handlers of a client: registered by event name, called in order as events arrive.

A handler may be a plain function or a coroutine function. Plain handlers are called at once,
in registration order, for each event in the order the events arrived; a coroutine handler
is started as a task of its own (as an async listener of a Node EventEmitter runs: it does not
hold up the next event). A handler may take fewer arguments than the event carries, as a JS
listener may: `lambda: print("lost")` is a fine `disconnect` handler. A handler that raises
is logged (logger `cryptorobot.client`) and the others still run.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["Handler", "Handlers", "accepting"]

log = logging.getLogger("cryptorobot.client")

Handler = Callable[..., Any]
"""`handler(*args)`, returning None or an awaitable."""


def accepting(handler: Handler) -> Callable[..., Any]:
    """`handler` called with at most as many positional arguments as it takes."""
    try:
        parameters = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature: give them everything
        return handler
    if any(parameter.kind is parameter.VAR_POSITIONAL for parameter in parameters):
        return handler
    capacity = sum(parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
                   for parameter in parameters)
    return lambda *args: handler(*args[:capacity])


class Handlers:
    """Handlers by event name.

    `run_plain(call)` runs a plain handler's call (a zero-argument function); the default
    calls it at once. The synchronous client hands them to a worker thread instead, so that
    they may block.
    """

    def __init__(self) -> None:
        self._table: dict[str, list[tuple[Handler, Callable[..., Any]]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None  # the client's, seen at the first event
        self.run_plain: Callable[[Callable[[], Any]], Any] = lambda call: call()

    def add(self, event: str, handler: Handler) -> None:
        self._table.setdefault(event, []).append((handler, accepting(handler)))

    def remove(self, event: str, handler: Handler | None = None) -> None:
        """Remove `handler` (its first registration) from `event`, or every handler of `event`."""
        entries = self._table.get(event, [])
        if handler is None:
            entries.clear()
        else:
            for index, (registered, _) in enumerate(entries):
                if registered == handler:
                    del entries[index]
                    break
        if not entries:
            self._table.pop(event, None)

    def has(self, event: str) -> bool:
        return event in self._table

    def emit(self, event: str, *args: Any) -> None:
        """Call every handler of `event` with `args` (on the client's event loop)."""
        self._loop = asyncio.get_running_loop()
        for handler, call in tuple(self._table.get(event, ())):
            if inspect.iscoroutinefunction(handler):  # its coroutine starts as a task on this loop
                self._call(event, handler, call, args)
            else:
                self.run_plain(functools.partial(self._call, event, handler, call, args))

    def _call(self, event: str, handler: Handler, call: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            outcome = call(*args)
        except Exception:
            log.exception("handler %r of '%s' failed", handler, event)
            return
        if inspect.isawaitable(outcome):
            self._start(event, handler, outcome)

    def _start(self, event: str, handler: Handler, awaitable: Awaitable[Any]) -> None:
        """Run `awaitable` as a task on the client's loop (from any thread)."""

        async def run() -> None:
            try:
                await awaitable
            except Exception:
                log.exception("handler %r of '%s' failed", handler, event)

        assert self._loop is not None
        if not _running(self._loop):
            self._loop.call_soon_threadsafe(self._start, event, handler, awaitable)
            return
        task = self._loop.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Cancel the coroutine handlers still running, and wait for them."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _running(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether this thread is running `loop`."""
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False

"""Local (in-process) event listeners by event name: `on`/`off`/`emit`, as Node's EventEmitter.

The App (app events: `connection`, `disconnect`, `login`, ...) and every service
(`created`, `patched`, ...) keep their listeners in one of these. A listener is called with
the event's arguments; one that raises is logged and the others still run; one that
returns an awaitable (a coroutine listener) has it handed to `spawn`, which runs it as
supervised background work.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["Listeners"]

log = logging.getLogger("cryptorobot.listeners")


class Listeners:
    """Listeners by event name; `spawn(awaitable, event)` runs what coroutine listeners return."""

    def __init__(self, spawn: Callable[[Awaitable[Any], str], Any]) -> None:
        self._spawn = spawn
        self._table: dict[str, list[Callable[..., Any]]] = {}

    def add(self, event: str, listener: Callable[..., Any]) -> None:
        self._table.setdefault(event, []).append(listener)

    def remove(self, event: str, listener: Callable[..., Any]) -> None:
        """Remove the first registration of `listener` for `event` (none: nothing happens)."""
        listeners = self._table.get(event, [])
        if listener in listeners:
            listeners.remove(listener)

    def of(self, event: str) -> tuple[Callable[..., Any], ...]:
        return tuple(self._table.get(event, ()))

    def emit(self, event: str, *args: Any) -> None:
        """Call every listener of `event` in registration order, with `args`."""
        for listener in self.of(event):
            try:
                outcome = listener(*args)
            except Exception:
                log.exception("listener %r of '%s' failed", listener, event)
                continue
            if inspect.isawaitable(outcome):
                self._spawn(outcome, event)

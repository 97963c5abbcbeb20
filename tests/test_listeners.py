"""Local event listeners: one `Listeners` table behind `app.on/off/emit` and `service.on/off/emit`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from cryptorobot import App
from cryptorobot.adapters import MemoryService
from cryptorobot.listeners import Listeners
from tests.conftest import WAIT


def test_listeners_run_in_order_and_a_failing_one_does_not_stop_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    spawned: list[tuple[Any, str]] = []
    listeners = Listeners(lambda work, event: spawned.append((work, event)))
    calls: list[tuple[str, tuple[Any, ...]]] = []

    def broken(*args: Any) -> None:
        raise RuntimeError("listener bug")

    def first(*args: Any) -> None:
        calls.append(("first", args))

    def second(*args: Any) -> None:
        calls.append(("second", args))

    for listener in (first, broken, second, first):
        listeners.add("tick", listener)
    with caplog.at_level(logging.ERROR, logger="cryptorobot.listeners"):
        listeners.emit("tick", 1, 2)
    assert calls == [("first", (1, 2)), ("second", (1, 2)), ("first", (1, 2))]
    assert "listener bug" in caplog.text and "'tick'" in caplog.text
    listeners.remove("tick", first)  # the first registration only, as Node's `off`
    listeners.remove("tick", broken)
    listeners.remove("tock", first)  # nothing registered: nothing happens
    assert listeners.of("tick") == (second, first)
    listeners.emit("tock")
    assert spawned == []


def test_what_a_coroutine_listener_returns_is_handed_to_spawn() -> None:
    spawned: list[tuple[Any, str]] = []
    listeners = Listeners(lambda work, event: spawned.append((work, event)))

    async def later(value: int) -> int:
        return value

    listeners.add("tick", later)
    listeners.emit("tick", 7)
    [(work, event)] = spawned
    assert event == "tick" and asyncio.run(work) == 7


@pytest.mark.parametrize("kind", ["app", "service"])
async def test_app_and_services_share_the_same_listener_rules(kind: str) -> None:
    app = App()
    service = app.use("notes", MemoryService())
    emitter: Any = app if kind == "app" else service
    seen: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    async def later(value: Any, context: Any) -> None:
        seen.put_nowait(("later", value))

    def now(value: Any, context: Any) -> None:
        seen.put_nowait(("now", value))

    assert emitter.on("tick", later).on("tick", now) is emitter  # chaining returns the emitter
    assert emitter.listeners.of("tick") == (later, now)
    emitter.emit("tick", 1, None)
    assert seen.get_nowait() == ("now", 1)  # plain listeners run at once
    assert await asyncio.wait_for(seen.get(), WAIT) == ("later", 1)  # coroutines: supervised work
    assert emitter.off("tick", later) is emitter
    emitter.emit("tick", 2, None)
    assert seen.get_nowait() == ("now", 2)
    await asyncio.wait_for(asyncio.gather(*app.supervisor.spawned()), WAIT)
    assert seen.empty()


async def test_a_service_listener_that_crashes_is_reported_with_its_name() -> None:
    app = App()
    crashes: asyncio.Queue[Any] = asyncio.Queue()
    app.on("task-crashed", crashes.put_nowait)

    async def broken(data: Any, context: Any) -> None:
        raise RuntimeError("listener bug")

    app.use("notes", MemoryService()).on("created", broken)
    await app.service("notes").create({"text": "a"})
    crash = await asyncio.wait_for(crashes.get(), WAIT)
    assert crash.name == "listener of 'notes created'" and str(crash.error) == "listener bug"

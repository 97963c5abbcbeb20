"""`cryptorobot.clock`: the injected wall clock, and the manual clock tests move by hand."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cryptorobot import App, ManualClock, SystemClock
from cryptorobot.clock import utc_from_ms
from engine.clock import ManualClock as EngineClock
from tests.conftest import WAIT


def test_the_system_clock_reads_the_wall_clock() -> None:
    clock = SystemClock()
    before = time.time_ns() // 1_000_000
    ms, seconds, now = clock.now_ms(), clock.time(), clock.now()
    after = time.time_ns() // 1_000_000
    assert before <= ms <= after and before / 1000 <= seconds <= after / 1000 + 0.001
    assert now.tzinfo is UTC and now.microsecond % 1000 == 0
    assert before <= int(now.timestamp() * 1000) <= after


@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))
def test_manual_time_is_the_same_instant_in_every_unit(start: float) -> None:
    clock = ManualClock(start)
    now = clock.now()
    assert clock.time() == start
    assert 0 <= start * 1000 - clock.now_ms() < 1  # truncated to the millisecond, never rounded up
    assert now == utc_from_ms(clock.now_ms()) and now.tzinfo is UTC and now.microsecond % 1000 == 0
    assert now.timestamp() * 1000 == pytest.approx(clock.now_ms(), abs=1e-3)


def test_manual_clock_defaults_and_never_goes_backwards() -> None:
    clock = ManualClock()
    assert clock.now() == datetime(2024, 1, 1, tzinfo=UTC)
    clock.advance(1.5)
    assert clock.now_ms() == 1_704_067_201_500
    clock.set(1_704_067_300)
    assert clock.time() == 1_704_067_300
    with pytest.raises(ValueError):
        clock.set(1_704_067_299)
    with pytest.raises(ValueError):
        clock.advance(-1)
    assert clock.time() == 1_704_067_300


def test_the_app_clock_can_drive_the_engine() -> None:
    """The engine reads `now_ms()` from whatever clock it is given: the app's works."""
    app_clock, engine_clock = ManualClock(1_700_000_000.25), EngineClock(1_700_000_000_250)
    assert app_clock.now_ms() == engine_clock.now_ms()


async def test_sleepers_wake_in_time_order_when_time_moves() -> None:
    clock = ManualClock(0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.time()))

    tasks = [asyncio.create_task(sleeper(name, seconds)) for name, seconds in (("b", 2), ("a", 1), ("c", 10))]
    await asyncio.wait_for(clock.wait_for_waiters(3), WAIT)
    assert clock.waiters == [1, 2, 10]
    clock.advance(5)
    await asyncio.wait_for(asyncio.gather(*tasks[:2]), WAIT)
    assert woke == [("a", 5), ("b", 5)]
    assert clock.waiters == [10] and not tasks[2].done()
    tasks[2].cancel()
    await asyncio.gather(tasks[2], return_exceptions=True)
    assert clock.waiters == []


async def test_timers_run_on_the_loop_once_due_unless_cancelled() -> None:
    clock = ManualClock(100)
    fired: asyncio.Queue[tuple[str, float]] = asyncio.Queue()
    clock.call_later(3, lambda name: fired.put_nowait((name, clock.time())), "late")
    clock.call_later(1, lambda name: fired.put_nowait((name, clock.time())), "early")
    cancelled = clock.call_later(2, lambda: fired.put_nowait(("cancelled", clock.time())))
    cancelled.cancel()
    assert clock.waiters == [101, 103]
    clock.advance(1)
    assert fired.empty()  # due timers run on the loop, as asyncio's do, not inside advance()
    assert await asyncio.wait_for(fired.get(), WAIT) == ("early", 101)
    clock.advance(10)
    assert await asyncio.wait_for(fired.get(), WAIT) == ("late", 111)
    clock.call_later(0, lambda: fired.put_nowait(("now", clock.time())))
    assert await asyncio.wait_for(fired.get(), WAIT) == ("now", 111)
    assert fired.empty() and clock.waiters == []


async def test_timestamps_come_from_the_app_clock() -> None:
    from cryptorobot.adapters import MemoryService
    from cryptorobot.schemas import set_timestamps

    clock = ManualClock(1_717_171_717.1239)
    app = App(clock=clock)
    app.use("notes", MemoryService()).hooks({"before": {"create": [set_timestamps()], "patch": [set_timestamps()]}})
    created = await app.service("notes").create({"text": "a"}, {"provider": "rest"})
    assert created["createdAt"] == created["updatedAt"] == datetime(2024, 5, 31, 16, 8, 37, 123000, tzinfo=UTC)
    clock.advance(60)
    patched = await app.service("notes").patch(created["id"], {"text": "b"}, {"provider": "rest"})
    assert patched["createdAt"] == created["createdAt"]
    assert patched["updatedAt"] == datetime(2024, 5, 31, 16, 9, 37, 123000, tzinfo=UTC)

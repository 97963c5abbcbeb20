"""`cryptorobot.supervisor`: background work restarted after crashes (backoff on the injected
clock), reported, listed, stopped, and cancelled within a deadline at teardown."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cryptorobot import App, ManualClock, Supervisor, TaskCrash
from cryptorobot.supervisor import TaskState
from tests.conftest import WAIT
from tests.server_process import ServerProcess


def crash_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "cryptorobot.supervisor" and record.exc_info]


async def next_run(runs: asyncio.Queue[float]) -> float:
    return await asyncio.wait_for(runs.get(), WAIT)


# -- restarts ------------------------------------------------------------------------------------

async def test_a_crashing_task_restarts_with_exponential_backoff(caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock(1000)
    crashes: list[TaskCrash] = []
    supervisor = Supervisor(clock, backoff=(1, 8), on_crash=crashes.append)
    runs: asyncio.Queue[float] = asyncio.Queue()

    async def flaky() -> None:
        runs.put_nowait(clock.time())
        raise RuntimeError("exchange went away")

    with caplog.at_level(logging.ERROR, logger="cryptorobot.supervisor"):
        handle = supervisor.start("feeds/binance", flaky)
        starts = [await next_run(runs)]
        delays = []
        for _ in range(5):
            await asyncio.wait_for(clock.wait_for_waiters(1), WAIT)  # crashed, now sleeping its backoff
            [restart_at] = clock.waiters
            delays.append(restart_at - clock.time())
            assert handle.state is TaskState.RESTARTING
            assert runs.empty()  # nothing runs before the backoff passed
            clock.set(restart_at)
            starts.append(await next_run(runs))
        await supervisor.close()
    assert delays == [1, 2, 4, 8, 8]  # doubling, capped at max
    assert starts == [1000, 1001, 1003, 1007, 1015, 1023]
    assert [crash.restart_in for crash in crashes[:5]] == [1, 2, 4, 8, 8]
    assert [crash.failures for crash in crashes] == list(range(1, len(crashes) + 1))
    assert {crash.name for crash in crashes} == {"feeds/binance"}
    assert all(isinstance(crash.error, RuntimeError) for crash in crashes)
    records = crash_records(caplog)
    assert len(records) == len(crashes)  # every crash logged once, with its traceback
    assert "exchange went away" in caplog.text and "Traceback" in caplog.text


async def test_a_long_run_resets_the_backoff() -> None:
    clock = ManualClock(0)
    supervisor = Supervisor(clock, backoff=(1, 8))
    runs: asyncio.Queue[float] = asyncio.Queue()
    lengths = iter([0, 0, 0, 8, 0])  # the fourth run lasts max seconds before crashing

    async def work() -> None:
        runs.put_nowait(clock.time())
        length = next(lengths)
        if length:
            await clock.sleep(length)
        raise RuntimeError("boom")

    supervisor.start("bot", work)
    delays = []
    for _ in range(5):
        await next_run(runs)
        if len(delays) == 3:  # the long run is sleeping: let it run its course
            await asyncio.wait_for(clock.wait_for_waiters(1), WAIT)
            clock.advance(8)
        await asyncio.wait_for(clock.wait_for_waiters(1), WAIT)
        [restart_at] = clock.waiters
        delays.append(restart_at - clock.time())
        clock.set(restart_at)
    await supervisor.close()
    assert delays == [1, 2, 4, 1, 2]


async def test_without_restart_a_crash_leaves_the_task_failed_and_listed() -> None:
    clock = ManualClock(0)
    crashes: list[TaskCrash] = []
    supervisor = Supervisor(clock, on_crash=crashes.append)

    async def job() -> None:
        clock.advance(3)
        raise ValueError("bad settings")

    handle = supervisor.start("backtests/42", job, restart=False)
    await asyncio.wait_for(handle.wait(), WAIT)
    assert handle.state is TaskState.FAILED and clock.waiters == []
    [status] = supervisor.status()
    assert (status.name, status.state, status.failures, status.last_error) == (
        "backtests/42", "failed", 1, "ValueError: bad settings")
    assert status.last_failure_at == clock.now() and status.restart_at is None
    assert [(crash.name, crash.restart_in, crash.failures) for crash in crashes] == [("backtests/42", None, 1)]
    assert await supervisor.stop("backtests/42") is True
    assert supervisor.status() == []


async def test_a_factory_that_raises_and_work_that_cancels_itself_are_crashes() -> None:
    supervisor = Supervisor(ManualClock(0))

    def broken_factory() -> Any:
        raise TypeError("missing argument")

    async def cancels_itself() -> None:
        future = asyncio.get_running_loop().create_future()
        future.cancel()
        await future  # a CancelledError nobody asked this task for

    for name, work in (("factory", broken_factory), ("self-cancel", cancels_itself)):
        handle = supervisor.start(name, work, restart=False)
        await asyncio.wait_for(handle.wait(), WAIT)
        assert handle.state is TaskState.FAILED, name
    assert [status.last_error for status in supervisor.status()] == ["TypeError: missing argument", "CancelledError"]


# -- listing and stopping ------------------------------------------------------------------------

async def test_status_lists_running_and_restarting_tasks_and_forgets_finished_ones() -> None:
    clock = ManualClock(0)
    supervisor = Supervisor(clock, backoff=(5, 5))
    release = asyncio.Event()
    started = asyncio.Event()

    async def feed() -> None:
        started.set()
        await asyncio.Event().wait()

    async def flaky() -> None:
        raise ConnectionError("reset")

    async def job() -> None:
        await release.wait()

    supervisor.start("feed", feed)
    supervisor.start("flaky", flaky)
    finishing = supervisor.start("job", job)
    await asyncio.wait_for(started.wait(), WAIT)
    await asyncio.wait_for(clock.wait_for_waiters(1), WAIT)
    assert [(status.name, status.state, status.failures) for status in supervisor.status()] == [
        ("feed", "running", 0), ("flaky", "restarting", 1), ("job", "running", 0)]
    flaky_status = supervisor.status()[1]
    assert flaky_status.last_error == "ConnectionError: reset" and flaky_status.restart_at == clock.now() + timedelta(seconds=5)
    with pytest.raises(ValueError):
        supervisor.start("feed", feed)  # one task per name
    release.set()
    await asyncio.wait_for(finishing.wait(), WAIT)
    assert finishing.state is TaskState.FINISHED
    assert [status.name for status in supervisor.status()] == ["feed", "flaky"]
    assert await supervisor.stop("flaky") is True  # stopped while waiting for its restart
    assert await supervisor.get("feed").stop() is True  # type: ignore[union-attr]
    assert supervisor.status() == []
    with pytest.raises(KeyError):
        await supervisor.stop("feed")


async def test_stop_cancels_the_work_and_waits_for_it() -> None:
    supervisor = Supervisor(ManualClock(0))
    started, cleaned_up = asyncio.Event(), asyncio.Event()

    async def bot() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)  # cleanup that itself awaits
            cleaned_up.set()

    handle = supervisor.start("pods/1", bot)
    await asyncio.wait_for(started.wait(), WAIT)
    assert await supervisor.stop("pods/1") is True
    assert cleaned_up.is_set() and handle.state is TaskState.STOPPED and handle.done


async def test_starting_a_failed_name_again_replaces_it() -> None:
    supervisor = Supervisor(ManualClock(0))
    started = asyncio.Event()

    async def broken() -> None:
        raise RuntimeError("first try")

    async def fixed() -> None:
        started.set()
        await asyncio.Event().wait()

    old = supervisor.start("job", broken, restart=False)
    await asyncio.wait_for(old.wait(), WAIT)
    new = supervisor.start("job", fixed)
    await asyncio.wait_for(started.wait(), WAIT)
    assert await old.stop() is True  # the old handle's stop leaves the new task alone
    assert supervisor.get("job") is new and new.state is TaskState.RUNNING
    assert [(status.state, status.failures) for status in supervisor.status()] == [("running", 0)]
    assert await supervisor.close() == []
    assert new.state is TaskState.STOPPED and supervisor.status() == []


# -- shutdown ------------------------------------------------------------------------------------

async def test_an_endless_listener_no_longer_blocks_teardown() -> None:
    """Before the supervisor, teardown waited for listener tasks without cancelling them."""
    app = App()
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def endless(*_: Any) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    app.on("tick", endless)
    app.emit("tick")
    await asyncio.wait_for(started.wait(), WAIT)
    await asyncio.wait_for(app.teardown(), WAIT)
    assert cancelled.is_set() and app.supervisor.spawned() == []


async def test_a_task_ignoring_cancellation_does_not_hang_teardown(caplog: pytest.LogCaptureFixture) -> None:
    app = App({"supervisor": {"shutdown_deadline": 0.05}}, clock=ManualClock(0))
    started, release = asyncio.Event(), asyncio.Event()

    async def stubborn() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await release.wait()  # swallows the cancellation and goes on

    async def obedient() -> None:
        await asyncio.Event().wait()

    stubborn_task = app.supervise("stubborn", stubborn)
    obedient_task = app.supervise("obedient", obedient)
    await asyncio.wait_for(started.wait(), WAIT)
    with caplog.at_level(logging.WARNING, logger="cryptorobot.supervisor"):
        await asyncio.wait_for(app.teardown(), WAIT)  # the 0.05 s deadline, not forever
    assert obedient_task.state is TaskState.STOPPED
    assert not stubborn_task.done
    assert "shutdown deadline" in caplog.text and "stubborn" in caplog.text and "obedient" not in caplog.text
    release.set()
    await asyncio.wait_for(stubborn_task.wait(), WAIT)


async def test_work_spawned_while_closing_is_cancelled_too() -> None:
    supervisor = Supervisor(ManualClock(0))
    second_cancelled = asyncio.Event()

    async def second() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            second_cancelled.set()
            raise

    async def first() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            supervisor.spawn(second(), name="spawned on the way out")

    supervisor.spawn(first(), name="first")
    await asyncio.sleep(0)  # let `first` start waiting
    assert await asyncio.wait_for(supervisor.close(), WAIT) == []
    assert second_cancelled.is_set() and supervisor.spawned() == []


# -- the app: crash events, listeners, the server keeps running ------------------------------------

async def test_crashes_become_app_events_and_the_server_keeps_serving(serve: Any) -> None:
    from cryptorobot.adapters import MemoryService

    clock = ManualClock(0)
    app = App(clock=clock)
    app.use("notes", MemoryService())
    reports: asyncio.Queue[TaskCrash] = asyncio.Queue()
    app.on("task-crashed", reports.put_nowait)

    async def crash_listener(*_: Any) -> None:
        raise RuntimeError("listener bug")

    async def feed() -> None:
        raise RuntimeError("feed bug")

    app.on("connection", crash_listener)
    client = await serve(app)
    app.emit("connection", None)
    listener_crash = await asyncio.wait_for(reports.get(), WAIT)
    assert (listener_crash.name, listener_crash.restart_in) == ("listener of 'connection'", None)
    app.supervise("feed", feed, backoff=(2, 10))
    feed_crash = await asyncio.wait_for(reports.get(), WAIT)
    assert (feed_crash.name, feed_crash.restart_in, str(feed_crash.error)) == ("feed", 2, "feed bug")
    response = await client.get("/notes")
    assert response.status == 200


async def test_a_crashing_listener_of_the_crash_event_is_logged_not_reported_again(
        caplog: pytest.LogCaptureFixture) -> None:
    app = App()
    seen: list[str] = []

    async def broken_reporter(crash: TaskCrash) -> None:
        seen.append(crash.name)
        raise RuntimeError("reporter bug")

    async def job() -> None:
        raise RuntimeError("job bug")

    app.on("task-crashed", broken_reporter)
    with caplog.at_level(logging.ERROR, logger="cryptorobot.supervisor"):
        handle = app.supervise("job", job, restart=False)
        await asyncio.wait_for(handle.wait(), WAIT)
        await asyncio.wait_for(asyncio.gather(*app.supervisor.spawned()), WAIT)
    assert seen == ["job"]  # the reporter's own crash did not come back to it
    assert "reporter bug" in caplog.text and len(crash_records(caplog)) == 2
    await app.teardown()


def test_cryptorobot_serve_exits_promptly_on_sigterm_with_endless_work(tmp_path: Path) -> None:
    server = ServerProcess("tests.endless_app:create_app", tmp_path, env={"CRYPTOROBOT_ENV": "test"}).start()
    try:
        code = server.stop(timeout=20)  # hung forever before the supervisor; about 2 s now
    finally:
        server.kill()
    assert code == 0, server.output[-3000:]
    assert "endless feed cancelled" in server.output and "endless listener cancelled" in server.output

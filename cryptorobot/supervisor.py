"""Supervised background work: long-running tasks that are restarted when they crash, and
fire-and-forget work, all cancelled within a deadline when the app tears down.

`app.supervisor` (a `Supervisor`) runs the platform's ticker feeds, trading bots and
backtest jobs, and the framework's own background work (coroutine listeners of app and
service events, the setup of a service registered after `app.setup()`):

    handle = app.supervisor.start("feeds/binance", lambda: feed.run(), backoff=(1, 60))
    app.supervisor.status()        # [TaskStatus(name="feeds/binance", state="running", ...)]
    await app.supervisor.stop("feeds/binance")

Rules:

- A named task runs `work()` (a factory: each restart calls it again for a new coroutine).
  When the coroutine raises, the crash is logged once with its traceback and reported
  through `on_crash` (the App emits it as the `task-crashed` app event, a `TaskCrash`);
  with `restart=True` it runs again after an exponential backoff on the injected clock:
  `min`, `2 min`, `4 min`, ... capped at `max` seconds, back to `min` once a run lasted at
  least `max` seconds. With `restart=False` it stays listed as `failed`. A crash never
  propagates: the server keeps running.
- A task that returns is finished and leaves the list; `stop(name)` cancels one and waits.
- `spawn(awaitable)` runs one awaitable once; a crash is logged and reported the same way.
- `close(deadline)` cancels everything and waits at most `deadline` seconds of real (event
  loop) time, whatever the injected clock does; tasks still running then (they ignore
  cancellation) are logged by name and left behind, so teardown never hangs.

Every method must be called on the event loop that runs the work.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .clock import Clock, SystemClock

__all__ = ["DEFAULT_BACKOFF", "DEFAULT_DEADLINE", "Supervised", "Supervisor", "TaskCrash", "TaskState", "TaskStatus"]

log = logging.getLogger("cryptorobot.supervisor")

DEFAULT_BACKOFF = (1.0, 60.0)
"""Seconds before the first restart, and the most between two restarts."""
DEFAULT_DEADLINE = 5.0
"""Seconds `close()` waits for cancelled tasks to end."""


class TaskState(StrEnum):
    RUNNING = "running"
    RESTARTING = "restarting"  # crashed, waiting for its backoff to pass
    FAILED = "failed"  # crashed with restart=False; listed until stopped or started again
    FINISHED = "finished"  # returned; no longer listed
    STOPPED = "stopped"  # cancelled by stop() or close(); no longer listed


@dataclass(frozen=True)
class TaskStatus:
    """One line of an operator's status page."""

    name: str
    state: TaskState
    failures: int
    """Crashes since the task was started."""
    last_error: str | None
    """`"RuntimeError: boom"` of the latest crash."""
    last_failure_at: datetime | None
    started_at: datetime
    """When the current (or latest) run began."""
    restart_at: datetime | None
    """When a restarting task runs again."""


@dataclass(frozen=True)
class TaskCrash:
    """A crash report, as `on_crash` (the `task-crashed` app event) receives it."""

    name: str
    error: BaseException
    failures: int
    """Crashes of this task so far, this one included (1 for fire-and-forget work)."""
    restart_in: float | None
    """Seconds until the restart; None when it is not restarted."""
    at: datetime


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _is_crash(error: BaseException) -> bool:
    """Exceptions are crashes, and so is a CancelledError the work raised by itself; the
    task's own cancellation and KeyboardInterrupt/SystemExit are not."""
    if isinstance(error, asyncio.CancelledError):
        task = asyncio.current_task()
        return task is not None and task.cancelling() == 0
    return isinstance(error, Exception)


class Supervised:
    """The handle of a named task: its state, and `stop()`/`wait()`."""

    def __init__(self, supervisor: Supervisor, name: str, work: Callable[[], Awaitable[Any]], *,
                 restart: bool, backoff: tuple[float, float]) -> None:
        self.supervisor = supervisor
        self.name = name
        self.work = work
        self.restart = restart
        self.backoff = backoff
        self.state = TaskState.RUNNING
        self.failures = 0
        self.last_error: BaseException | None = None
        self.last_failure_at: datetime | None = None
        self.started_at = supervisor.clock.now()
        self.restart_at: datetime | None = None
        self.task: asyncio.Task[None] | None = None

    def status(self) -> TaskStatus:
        return TaskStatus(self.name, self.state, self.failures,
                          None if self.last_error is None else _describe(self.last_error),
                          self.last_failure_at, self.started_at, self.restart_at)

    @property
    def done(self) -> bool:
        return self.task is None or self.task.done()

    async def wait(self) -> None:
        """Return once the task ended: finished, failed without restart, or stopped."""
        if self.task is not None:
            await asyncio.wait([self.task])

    async def stop(self, deadline: float | None = None) -> bool:
        """Cancel this task and wait for it (at most `deadline` seconds, default the
        supervisor's); True when it ended in time. It leaves the list either way."""
        supervisor = self.supervisor
        if supervisor.get(self.name) is self:
            del supervisor._named[self.name]
        task = self.task
        if task is None or task.done():
            return True
        task.cancel()
        if task is asyncio.current_task():
            return True  # a task stopping itself ends at its next await
        done, _ = await asyncio.wait([task], timeout=supervisor.deadline if deadline is None else deadline)
        if not done:
            log.warning("task %r is still running after being stopped", self.name)
        return bool(done)

    def __repr__(self) -> str:
        return f"<Supervised {self.name!r} {self.state.value} failures={self.failures}>"


class Supervisor:
    """Runs named and fire-and-forget background work; see the module docstring.

    `clock` times the restart backoff (default: the system clock); `backoff` is the
    default `(min, max)` seconds; `deadline` the default for `close` and `stop`;
    `on_crash(TaskCrash)` is called for every crash (its own failures are logged).
    """

    def __init__(self, clock: Clock | None = None, *, backoff: Sequence[float] = DEFAULT_BACKOFF,
                 deadline: float = DEFAULT_DEADLINE, on_crash: Callable[[TaskCrash], Any] | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self.backoff = _checked_backoff(backoff)
        self.deadline = float(deadline)
        self.on_crash = on_crash
        self._named: dict[str, Supervised] = {}
        self._live: set[asyncio.Task[None]] = set()
        self._spawned: set[asyncio.Task[None]] = set()

    # -- named, restarted tasks -------------------------------------------------------------

    def start(self, name: str, work: Callable[[], Awaitable[Any]], *, restart: bool = True,
              backoff: Sequence[float] | None = None) -> Supervised:
        """Run `work()` as the task `name`, restarted after crashes unless `restart=False`.

        `backoff` is `(min, max)` seconds (default: the supervisor's). ValueError when a
        task of that name is running or restarting; a failed one is replaced.
        """
        current = self._named.get(name)
        if current is not None and not current.done:
            raise ValueError(f"a task named {name!r} is already running")
        handle = Supervised(self, name, work, restart=restart,
                            backoff=self.backoff if backoff is None else _checked_backoff(backoff))
        handle.task = self._track(asyncio.get_running_loop().create_task(self._supervise(handle), name=name))
        self._named[name] = handle
        return handle

    def get(self, name: str) -> Supervised | None:
        return self._named.get(name)

    def status(self) -> list[TaskStatus]:
        """Every listed task (running, restarting or failed), by name."""
        return [self._named[name].status() for name in sorted(self._named)]

    async def stop(self, name: str, *, deadline: float | None = None) -> bool:
        """Cancel the task `name` and wait for it (at most `deadline` seconds, default the
        supervisor's); True when it ended in time. KeyError for an unknown name."""
        return await self._named[name].stop(deadline)

    async def _supervise(self, handle: Supervised) -> None:
        clock = self.clock
        low, high = handle.backoff
        consecutive = 0
        try:
            while True:
                handle.state, handle.restart_at = TaskState.RUNNING, None
                handle.started_at = clock.now()
                began = clock.time()
                try:
                    await handle.work()
                except BaseException as error:
                    if not _is_crash(error):
                        raise
                    consecutive = 1 if clock.time() - began >= high else consecutive + 1
                    handle.failures += 1
                    handle.last_error, handle.last_failure_at = error, clock.now()
                    delay = min(high, low * 2 ** min(consecutive - 1, 64)) if handle.restart else None
                    self._crashed(handle.name, error, handle.failures, delay)
                    if delay is None:
                        handle.state = TaskState.FAILED
                        return
                    handle.state = TaskState.RESTARTING
                    handle.restart_at = clock.now() + timedelta(seconds=delay)
                    await clock.sleep(delay)
                else:
                    handle.state = TaskState.FINISHED
                    return
        finally:
            if handle.state in (TaskState.RUNNING, TaskState.RESTARTING):
                handle.state = TaskState.STOPPED
            if handle.state is not TaskState.FAILED and self._named.get(handle.name) is handle:
                del self._named[handle.name]

    # -- fire-and-forget work ------------------------------------------------------------------

    def spawn(self, work: Awaitable[Any], *, name: str = "background work", report: bool = True) -> asyncio.Task[None]:
        """Run `work` once in a task of its own; a crash is logged (and reported unless
        `report=False`), never raised. Cancelled by `close`."""

        async def guarded() -> None:
            try:
                await work
            except BaseException as error:
                if not _is_crash(error):
                    raise
                self._crashed(name, error, 1, None, report=report)

        task = self._track(asyncio.get_running_loop().create_task(guarded(), name=name))
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)
        if inspect.iscoroutine(work):
            task.add_done_callback(lambda _: _close_unstarted(work))
        return task

    def spawned(self) -> list[asyncio.Task[None]]:
        """The fire-and-forget work still running (e.g. to wait for listeners in a test)."""
        return list(self._spawned)

    # -- shutdown ------------------------------------------------------------------------------

    async def close(self, deadline: float | None = None) -> list[str]:
        """Cancel every task and wait for them, at most `deadline` seconds (default: the
        supervisor's); work spawned meanwhile is cancelled too. Returns (and logs) the
        names of the tasks still running at the deadline."""
        loop = asyncio.get_running_loop()
        end = loop.time() + (self.deadline if deadline is None else float(deadline))
        cancelled: set[asyncio.Task[None]] = set()
        pending: set[asyncio.Task[None]] = set()
        current = asyncio.current_task()
        while True:
            tasks = {task for task in self._live if not task.done() and task is not current}
            if not tasks:
                pending = set()
                break
            for task in tasks - cancelled:
                task.cancel()
            cancelled |= tasks
            remaining = end - loop.time()
            if remaining <= 0:
                pending = tasks
                break
            _, pending = await asyncio.wait(tasks, timeout=remaining)
            if pending:
                break
        self._named = {name: handle for name, handle in self._named.items() if not handle.done}
        stragglers = sorted(task.get_name() for task in pending)
        if stragglers:
            log.warning("still running after the %.3g s shutdown deadline (they ignore cancellation): %s",
                        self.deadline if deadline is None else deadline, ", ".join(stragglers))
        return stragglers

    # -- helpers -------------------------------------------------------------------------------

    def _track(self, task: asyncio.Task[None]) -> asyncio.Task[None]:
        self._live.add(task)
        task.add_done_callback(self._live.discard)
        return task

    def _crashed(self, name: str, error: BaseException, failures: int, restart_in: float | None, *,
                 report: bool = True) -> None:
        what = "not restarted" if restart_in is None else f"restarting in {restart_in:.3g} s"
        log.error("task %r crashed (failure %d), %s", name, failures, what, exc_info=error)
        if not report or self.on_crash is None:
            return
        try:
            self.on_crash(TaskCrash(name, error, failures, restart_in, self.clock.now()))
        except Exception:
            log.exception("reporting the crash of %r failed", name)


def _checked_backoff(backoff: Sequence[float]) -> tuple[float, float]:
    low, high = (float(value) for value in backoff) if len(backoff) == 2 else (-1.0, -1.0)
    if not 0 <= low <= high:
        raise ValueError(f"backoff must be (min, max) seconds with 0 <= min <= max, got {backoff!r}")
    return low, high


def _close_unstarted(work: Any) -> None:
    """A coroutine whose task was cancelled before it started is closed, not left unawaited."""
    if inspect.getcoroutinestate(work) == inspect.CORO_CREATED:
        work.close()

"""The worker pool of backtests: jobs run in other processes, never on the event loop.

`LocalPool` is a `concurrent.futures.ProcessPoolExecutor` (spawned processes, started at
`start()` and, with `warm`, already running with the engine imported before the first
request). Every job gets:

* progress: the worker puts `(run id, percent)` on one `multiprocessing.Queue`; a thread
  of the server reads it and hands each value to the run's `on_progress` on the event loop;
* cancellation: a slot in a shared byte array (`multiprocessing.RawArray`) that the
  worker's `cancelled()` reads, a memory read and no round trip; a job still queued is
  dropped from the executor's queue instead.

`submit(run_id, job, on_progress)` answers the job's output, or raises `BacktestCancelled`
after `cancel(run_id)`, or what the job raised. `DaskPool` (`dask_pool.py`) has the same
interface on a Dask cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from engine.backtest import BacktestCancelled

__all__ = ["Job", "LocalPool", "Pool", "ProgressHandler", "WorkerLost"]

SLOTS = 4096
"""Runs that can be queued or running at once in one pool (each holds a cancel slot)."""

ProgressHandler = Callable[[float], None]


class WorkerLost(Exception):
    """The process running a job ended without an answer (killed, out of memory)."""


class Job(Protocol):
    """Picklable work: `run(signals)` answers picklable output (see `jobs.Signals`)."""

    def run(self, signals: Any) -> Any: ...


class Pool(Protocol):
    async def start(self) -> None: ...

    async def submit(self, run_id: str, job: Job, on_progress: ProgressHandler | None = None) -> Any: ...

    def cancel(self, run_id: str) -> None: ...

    def running(self) -> list[str]: ...

    async def close(self) -> None: ...


# -- the worker side (module globals of each worker process) ------------------------------

_progress_queue: Any = None
_cancel_flags: Any = None


def _init_worker(queue: Any, flags: Any) -> None:
    """Each worker process's initializer: keep the channels, import the engine (a worker is
    warm before its first job)."""
    global _progress_queue, _cancel_flags
    _progress_queue, _cancel_flags = queue, flags
    from . import jobs  # noqa: F401 - the engine and every strategy type, loaded once per process


class _LocalSignals:
    __slots__ = ("run_id", "slot")

    def __init__(self, run_id: str, slot: int) -> None:
        self.run_id = run_id
        self.slot = slot

    def progress(self, percent: float) -> None:
        _progress_queue.put((self.run_id, float(percent)))

    def cancelled(self) -> bool:
        return bool(_cancel_flags[self.slot])


def _run_in_worker(job: Job, run_id: str, slot: int) -> Any:
    return job.run(_LocalSignals(run_id, slot))


def _warm_up() -> int:
    import os

    return os.getpid()


# -- the server side -------------------------------------------------------------------------

def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[..., Any], *args: Any) -> None:
    """`callback(*args)` on `loop` from another thread (nothing once the loop has closed)."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(callback, *args)


class LocalPool:
    """`workers` processes on this machine (see the module docstring)."""

    def __init__(self, workers: int, *, warm: bool = True) -> None:
        if workers < 1:
            raise ValueError("backtests.workers must be at least 1")
        self.workers = workers
        self.warm = warm
        self._executor: ProcessPoolExecutor | None = None
        self._queue: Any = None
        self._flags: Any = None
        self._pump: threading.Thread | None = None
        self._free = list(range(SLOTS - 1, -1, -1))
        self._slots: dict[str, int] = {}
        self._handlers: dict[str, ProgressHandler] = {}
        self._cancelled: set[str] = set()
        self._stops: dict[str, asyncio.Event] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        context = multiprocessing.get_context("spawn")  # not fork: the server has threads and open files
        self._loop = asyncio.get_running_loop()
        self._queue = context.Queue()
        self._flags = context.RawArray("b", SLOTS)
        self._executor = self._new_executor()
        self._pump = threading.Thread(target=self._read_progress, name="backtests-progress", daemon=True)
        self._pump.start()
        if self.warm:  # one submission per worker: each starts its process, which imports the engine
            executor = self._executor
            await asyncio.gather(*(asyncio.wrap_future(executor.submit(_warm_up)) for _ in range(self.workers)))

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(self._queue, self._flags))

    def _read_progress(self) -> None:
        while True:
            message = self._queue.get()
            if message is None:
                return
            assert self._loop is not None
            _call_soon(self._loop, self._deliver, *message)

    def _deliver(self, run_id: str, percent: float) -> None:
        handler = self._handlers.get(run_id)
        if handler is not None:
            handler(percent)

    async def submit(self, run_id: str, job: Job, on_progress: ProgressHandler | None = None) -> Any:
        if self._executor is None:
            raise RuntimeError("the pool is not started")
        if run_id in self._cancelled or not self._free:
            self._cancelled.discard(run_id)
            raise BacktestCancelled("cancelled before it started")
        slot = self._free.pop()
        self._flags[slot] = 0
        self._slots[run_id] = slot
        if on_progress is not None:
            self._handlers[run_id] = on_progress
        stop = self._stops[run_id] = asyncio.Event()
        executor, loop = self._executor, asyncio.get_running_loop()
        future = executor.submit(_run_in_worker, job, run_id, slot)
        # The slot is free again only once the job has ended, whoever stopped waiting for it:
        # a job cancelled while its worker is still starting sees its flag when it starts.
        future.add_done_callback(lambda _: _call_soon(loop, self._free.append, slot))
        answer = asyncio.wrap_future(future)
        stopped = loop.create_task(stop.wait())
        try:
            await asyncio.wait({answer, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not answer.done():
                raise BacktestCancelled("cancelled")
            return answer.result()
        except BrokenProcessPool:
            if self._executor is executor:  # the first to notice replaces the pool; the others' jobs failed too
                self._executor = self._new_executor()
                executor.shutdown(wait=False)
            raise WorkerLost("A worker process ended during the run (killed, or out of memory).") from None
        except asyncio.CancelledError:
            self._flags[slot] = 1  # the caller was cancelled (teardown): the worker stops too
            raise
        finally:
            stopped.cancel()
            answer.cancel()  # no-op once done; else the job is dropped from the queue if it has not started
            for runs in (self._slots, self._handlers, self._stops):
                runs.pop(run_id, None)
            self._cancelled.discard(run_id)

    def running(self) -> list[str]:
        """The runs submitted and not finished."""
        return list(self._slots)

    def cancel(self, run_id: str) -> None:
        """Stop `run_id` now: `submit` raises `BacktestCancelled` at once; the job never starts if
        it is still queued, and stops within `CANCEL_POLL_MS` if it runs (or when its worker
        has started). A run not submitted yet is refused when it is."""
        slot = self._slots.get(run_id)
        if slot is None:
            self._cancelled.add(run_id)
            return
        self._flags[slot] = 1
        self._stops[run_id].set()

    async def close(self) -> None:
        """Stop the workers (running jobs are told to stop) and the progress thread."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        for slot in range(SLOTS):  # every job still queued or running stops
            self._flags[slot] = 1
        await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
        self._queue.put(None)
        if self._pump is not None:
            await asyncio.to_thread(self._pump.join)
        self._queue.close()

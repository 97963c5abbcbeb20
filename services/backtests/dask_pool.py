"""`DaskPool`: the worker pool on a Dask distributed cluster (`backtests.scheduler`).

Same interface as `LocalPool`, through dask's futures API: `submit` is `Client.submit` of
the job (its candles travel with it, so workers need no access to the server's stores);
cancellation is a `distributed.Event` per run that the job's `cancelled()` reads (a
scheduler round trip, at most every `CANCEL_POLL_MS`); progress is a `distributed.Queue`
per run that the server reads. Nothing else changes: the services, the records and the
events are the same. A worker lost mid-run makes dask retry the task elsewhere (its
`allowed-failures`), then the run fails with `WorkerLost`.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import distributed

from engine.backtest import BacktestCancelled

from .pool import Job, ProgressHandler, WorkerLost

__all__ = ["DaskPool"]


class _DaskSignals:
    """A job's signals inside a Dask worker."""

    def __init__(self, cancel: str, progress: str) -> None:
        self._cancel = distributed.Event(cancel)
        self._progress = distributed.Queue(progress)

    def progress(self, percent: float) -> None:
        self._progress.put(float(percent))

    def cancelled(self) -> bool:
        return bool(self._cancel.is_set())


def _run_on_dask(job: Job, cancel: str, progress: str) -> Any:
    return job.run(_DaskSignals(cancel, progress))


def _import_engine() -> bool:
    from . import jobs  # noqa: F401 - the engine and every strategy type, loaded before the first job

    return True


class DaskPool:
    """Runs jobs on the Dask cluster whose scheduler is at `address` (`tcp://host:8786`)."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.client: Any = None
        self._prefix = uuid.uuid4().hex
        self._runs: dict[str, tuple[Any, distributed.Event, asyncio.Event]] = {}
        self._cancelled: set[str] = set()

    async def start(self) -> None:
        self.client = await distributed.Client(self.address, asynchronous=True)
        await self.client.run(_import_engine)

    async def submit(self, run_id: str, job: Job, on_progress: ProgressHandler | None = None) -> Any:
        if self.client is None:
            raise RuntimeError("the pool is not started")
        if run_id in self._cancelled:
            self._cancelled.discard(run_id)
            raise BacktestCancelled("cancelled before it started")
        name = f"backtests-{self._prefix}-{run_id}"
        cancel = distributed.Event(f"{name}-cancel", client=self.client)
        queue = distributed.Queue(f"{name}-progress", client=self.client)
        future = self.client.submit(_run_on_dask, job, f"{name}-cancel", f"{name}-progress", key=name, pure=False)
        stop = asyncio.Event()
        self._runs[run_id] = (future, cancel, stop)
        reader = asyncio.ensure_future(self._read(queue, on_progress))
        stopped = asyncio.ensure_future(stop.wait())
        answer = asyncio.ensure_future(future.result())
        try:
            await asyncio.wait({answer, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not answer.done():
                raise BacktestCancelled("cancelled")
            return answer.result()
        except distributed.KilledWorker:
            raise WorkerLost("A worker process ended during the run (killed, or out of memory).") from None
        except asyncio.CancelledError:
            await asyncio.shield(self._signal(cancel, future))
            raise
        finally:
            for task in (reader, stopped, answer):
                task.cancel()
            self._runs.pop(run_id, None)

    @staticmethod
    async def _read(queue: Any, on_progress: ProgressHandler | None) -> None:
        while True:
            percent = await queue.get()
            if on_progress is not None:
                on_progress(percent)

    @staticmethod
    async def _signal(cancel: Any, future: Any) -> None:
        with contextlib.suppress(Exception):  # the scheduler may be gone; the run is over for us anyway
            await cancel.set()
            await future.cancel()

    def running(self) -> list[str]:
        return list(self._runs)

    def cancel(self, run_id: str) -> None:
        """Stop `run_id`: `submit` raises `BacktestCancelled` at once; the job is told (its
        Event) and dropped from the cluster if it has not started."""
        run = self._runs.get(run_id)
        if run is None:
            self._cancelled.add(run_id)
            return
        future, cancel, stop = run
        stop.set()
        asyncio.get_running_loop().create_task(self._signal(cancel, future))

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            for future, cancel, _ in list(self._runs.values()):
                await self._signal(cancel, future)
            await client.close()

"""Worker processes for CPU-heavy work (model training; any job whose inputs and result pickle).

    result = await run_in_worker(app, train_model, series, "logistic")

One process pool per app (`[workers] processes`, default 1: the machine's other cores serve
requests), created on first use with the `spawn` start method (a fork of a running event
loop with its threads and sockets is not safe). At teardown the pool stops taking work and
queued jobs are cancelled; a job already running finishes in its process, which then exits.
The event loop never waits on the work itself.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from cryptorobot import App
from cryptorobot.hooks import HookContext, Next

__all__ = ["register", "run_in_worker", "worker_pool"]

POOL = "workerPool"
T = TypeVar("T")


class _Pool:
    def __init__(self, processes: int) -> None:
        self.processes = processes
        self.executor: ProcessPoolExecutor | None = None

    def get(self) -> ProcessPoolExecutor:
        if self.executor is None:
            self.executor = ProcessPoolExecutor(max_workers=self.processes, mp_context=multiprocessing.get_context("spawn"))
        return self.executor

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = None


def register(app: App) -> None:
    """Give `app` its worker pool (made on first use, shut down at teardown)."""
    processes = int((app.get("workers") or {}).get("processes") or 1)
    pool = _Pool(max(1, processes))
    app.set(POOL, pool)

    async def shut_down(context: HookContext, next_step: Next) -> None:
        pool.close()
        await next_step()

    app.hooks({"teardown": [shut_down]})


def worker_pool(app: App) -> ProcessPoolExecutor:
    """The app's process pool (`register` must have run)."""
    pool = app.get(POOL)
    if not isinstance(pool, _Pool):
        raise LookupError("worker processes are not registered on this app (services.workers.register)")
    return pool.get()


async def run_in_worker(app: App, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`function(*args, **kwargs)` in a worker process (all of them picklable, `function` a
    module-level function); its result, or what it raised."""
    return await asyncio.get_running_loop().run_in_executor(worker_pool(app), functools.partial(function, *args,
                                                                                                **kwargs))

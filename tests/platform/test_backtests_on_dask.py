"""`backtests.scheduler`: backtests and optimisation trials on a Dask distributed cluster.

A `dask scheduler` and two `dask worker` processes are started on this machine; the
platform, configured with the scheduler's address, runs a backtest and an optimisation
there (no local worker process is started) with the same records and events as locally.
"""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from backtest_support import finished, request, store_candles, walk
from platform_support import Platform, as_json
from services.backtests.jobs import BacktestJob
from tests.server_process import REPO, free_port

DASK = str(Path(sys.executable).parent / "dask")


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a local Dask cluster: a scheduler and two single-threaded workers."""
    import distributed

    logs = tmp_path_factory.mktemp("dask")
    address = f"tcp://127.0.0.1:{free_port()}"
    commands = [[DASK, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1], "--no-dashboard"]]
    commands += [[DASK, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                  "--local-directory", str(logs / f"worker{n}")] for n in range(2)]
    processes = []
    try:
        for n, command in enumerate(commands):
            with open(logs / f"process{n}.log", "wb") as log:
                processes.append(subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT))
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.mark.parametrize("storage", ["sqlite"])
async def test_a_backtest_and_an_optimisation_run_on_the_cluster(
        storage: str, scheduler: str, make_platform: Callable[..., Awaitable[Platform]], tmp_path: Path) -> None:
    candles = walk(3_000)
    store_candles(tmp_path, candles)
    platform = await make_platform(backtests={"scheduler": scheduler})
    _, token = await platform.member("ann@example.com")
    status, record = await platform.request("POST", "/backtests", json=request(3_000), token=token)
    assert status == 201, record
    done = as_json(await finished(platform.app, record["_id"], timeout=120))
    job = BacktestJob(candles, "sma_cross", done["settings"], "BTC/USDT", 10_000.0, 0.001, "next_point", False, False)
    assert (done["state"], done["results"]) == ("completed", as_json(job.run())["results"])
    assert multiprocessing.active_children() == []  # nothing ran in a local pool

    search = {**request(3_000), "ranges": {"fastPeriod": {"low": 2, "high": 20}, "slowPeriod": {"low": 25, "high": 60}},
              "nTrials": 6, "parallel": 2, "seed": 1}
    status, created = await platform.request("POST", "/backtests/optimizations", json=search, token=token)
    assert status == 201, created
    ended = await finished(platform.app, created["_id"], timeout=120, path="backtests/optimizations")
    assert (ended["state"], ended["trialsDone"]) == ("completed", 6)
    assert all(trial["state"] == "complete" for trial in ended["trials"])

"""`backtests/optimizations`: an Optuna search over a strategy type's number settings.

    POST /backtests/optimizations  {type, settings?, ranges: {key: {low, high, step?}}, objective?,
                                    direction?, nTrials?, parallel?, seed?, exchange, symbol,
                                    timeframe, start, end, initialCash?, fees?, fillModel?, ...}
    POST /backtests/optimizations + X-Service-Method: cancel  {"id": ...}

The run options and the 400s are those of a backtest (`service.run_spec`), plus the ranges
(`search.search_space`). The search asks Optuna's TPE sampler for settings (ask-and-tell),
runs each trial as a backtest in the worker pool, `parallel` at a time (default: the
pool's workers), and tells it the trial's `objective` statistic; a trial whose settings
the type refuses (e.g. a fast period above the slow one), whose orders fail, or whose
statistic is NaN counts as failed and the search goes on. States as a backtest's; the
patches carry `progress` (trials finished / `nTrials`), `trialsDone` and `best`; the last
one every trial (`trials`). `cancel` stops the trials running and keeps the finished ones.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from cryptorobot.adapters import AdapterService
from engine.backtest import BacktestCancelled
from engine.errors import EngineError, InvalidSettings
from engine.strategies import validate_settings

from .jobs import TrialJob
from .pool import WorkerLost
from .search import search_space
from .service import BacktestsService, Reporter, RunRecords, RunSpec, job_of, run_spec

__all__ = ["OptimizationsService"]

log = logging.getLogger("services.backtests.optimizations")

SEARCH_FIELDS = ("ranges", "objective", "direction", "nTrials", "seed")


class OptimizationsService(RunRecords):
    """The searches' records (`store`); trials go to the `backtests` service's pool."""

    def __init__(self, store: AdapterService, backtests: BacktestsService, workers: int) -> None:
        super().__init__(store, "backtests/optimizations")
        self.backtests = backtests
        self.workers = workers
        self.stopping: set[str] = set()

    async def create(self, data: dict[str, Any], params: dict[str, Any]) -> Any:
        assert self.app is not None
        spec = await run_spec(self.app, self.backtests.candles, data, data.get("userId"))
        space = search_space(spec["type"], data["ranges"])
        search = {name: data.get(name) for name in SEARCH_FIELDS}
        record: Any = await self.store.create(self.new_record({
            **spec, **search, "parallel": data.get("parallel") or self.workers, "trialsDone": 0, "best": None,
            "trials": []}, data))
        self.start(record, self._run(record, spec, space))
        return record

    async def remove(self, id: Any, params: dict[str, Any]) -> Any:
        record: Any = await self.store.remove(id, params)
        await self._stop(record["_id"])
        return record

    def stop_run(self, id: Any) -> None:
        self.stopping.add(str(id))
        for run_id in self.backtests.pool_runs(f"{id}/"):
            self.backtests.pool.cancel(run_id)

    async def _run(self, record: dict[str, Any], spec: RunSpec, space: dict[str, Any]) -> None:
        assert self.app is not None
        id, key = record["_id"], str(record["_id"])
        search = Search(record, spec, space)
        reporter = Reporter(lambda change: self._patch(id, change), self.app.clock, extra=search.summary)
        try:
            candles = await asyncio.to_thread(self.backtests.candles.load, spec.key, spec["start"], spec["end"])
            reporter.update(0.0)
            await search.run(lambda number, settings: self.backtests.pool.submit(
                f"{id}/{number}", TrialJob(job_of(spec, candles, settings), record["objective"])),
                             stopped=lambda: key in self.stopping, progress=reporter.update)
            final: dict[str, Any] = ({"state": "cancelled", "message": "Cancelled before it finished."}
                                     if key in self.stopping else {"state": "completed", "progress": 100.0})
        except asyncio.CancelledError:
            reporter.abandon()
            raise
        except Exception as error:
            log.exception("optimisation %s failed", id)
            final = {"state": "failed", "message": f"The search stopped unexpectedly ({type(error).__name__})."}
        finally:
            self.runs.pop(key, None)
            self.stopping.discard(key)
        await reporter.close()
        await self._patch(id, {**final, **search.summary(), "trials": search.trials,
                               "finishedAt": self.app.clock.now()})


class Search:
    """One search's trials: Optuna's study, asked and told on the server, trials run elsewhere."""

    def __init__(self, record: Mapping[str, Any], spec: RunSpec, space: dict[str, Any]) -> None:
        import optuna  # here: importing optuna takes a while, and only searches need it

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.optuna = optuna
        self.study = optuna.create_study(direction=record["direction"],
                                         sampler=optuna.samplers.TPESampler(seed=record.get("seed")))
        self.spec = spec
        self.space = space
        self.n_trials = int(record["nTrials"])
        self.parallel = int(record["parallel"])
        self.trials: list[dict[str, Any]] = []
        self.best: dict[str, Any] | None = None
        self.maximize = record["direction"] == "maximize"
        self.stopped: Any = lambda: False

    def summary(self) -> dict[str, Any]:
        return {"trialsDone": len(self.trials), "best": self.best}

    async def run(self, submit: Any, *, stopped: Any, progress: Any) -> None:
        """Ask, run `parallel` trials at a time through `submit(number, settings)`, tell."""
        running: dict[asyncio.Task[Any], Any] = {}
        self.stopped = stopped
        asked = 0
        while True:
            while not stopped() and asked < self.n_trials and len(running) < self.parallel:
                trial = self.study.ask(self.space)
                asked += 1
                running[asyncio.ensure_future(self._trial(trial, submit))] = trial
            if not running:
                return
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                running.pop(task)
                task.result()
            progress(100.0 * len(self.trials) / self.n_trials)

    async def _trial(self, trial: Any, submit: Any) -> None:
        settings = {**self.spec["settings"], **trial.params}
        entry: dict[str, Any] = {"number": trial.number, "settings": settings, "value": None, "statistics": None,
                                 "message": None}
        try:
            settings = validate_settings(self.spec["type"], settings)
            if self.stopped():
                raise BacktestCancelled("the search was cancelled")
            output = await submit(trial.number, settings)
        except BacktestCancelled:
            self.study.tell(trial, state=self.optuna.trial.TrialState.FAIL)
            return
        except (EngineError, WorkerLost) as error:
            message = error.message if isinstance(error, EngineError) else str(error)
            if isinstance(error, InvalidSettings):
                message = "; ".join(f"{key}: {why}" for key, why in error.errors.items())
            self.study.tell(trial, state=self.optuna.trial.TrialState.FAIL)
            self.trials.append({**entry, "state": "failed", "message": message})
            return
        value = output["value"]
        entry.update(settings=settings, value=value, statistics=output["statistics"])
        if value is None:
            self.study.tell(trial, state=self.optuna.trial.TrialState.FAIL)
            self.trials.append({**entry, "state": "failed", "message": "the objective is not a number for this run"})
            return
        self.study.tell(trial, value)
        self.trials.append({**entry, "state": "complete"})
        if self.best is None or (value > self.best["value"] if self.maximize else value < self.best["value"]):
            self.best = {key: entry[key] for key in ("number", "value", "settings", "statistics")}

"""`backtests`: a user's backtest runs, run in the worker pool, their results, logs and positions.

    POST   /backtests   {type, settings | strategyId, exchange, symbol, timeframe, start, end,
                         initialCash?, fees?, fillModel?, fractional?, finalizeTrades?}
    GET    /backtests?state=completed&$sort[createdAt]=-1      GET /backtests/:id
    DELETE /backtests/:id                                      (stops the run if it is running)
    POST   /backtests + X-Service-Method: cancel  {"id": ...}  (answers once it has stopped)
    GET    /backtests/:id/logs?$limit=100&$skip=0    GET /backtests/:id/positions?status=closed
    GET    /backtests/:id/trades (ccxt trades)       GET /backtests/:id/orders (ccxt orders)

A create is checked before anything runs: the strategy type and its settings, the options,
the symbol, the timeframe and that candles are stored for `[start, end)` (400s with
`data.code`: `INVALID_SETTINGS`, `VALIDATION_FAILED`, `INVALID_TIMEFRAME`, `NO_CANDLES`).
It answers at once with `state: loading_data`; then, each a patch (`backtests patched`, to
the owner only): `executing` when a worker starts it, `progress` (0-100) at most every
`PROGRESS_INTERVAL` seconds, and one of `completed` (with `results`), `failed` (with
`message`) or `cancelled`. Runs that were going on when the server stopped are marked
`failed` when it starts again (they are not resumed: a run is short, and created again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from cryptorobot.adapters import AdapterService
from cryptorobot.app import App
from cryptorobot.clock import Clock
from cryptorobot.errors import NotFound
from engine.backtest import BacktestCancelled, backtest_market
from engine.candles import CandleStore, SeriesKey
from engine.errors import EngineError
from engine.strategies import validate_settings
from services.errors import platform_error
from services.exchanges.service import caller_scope
from services.exchanges.storage import find_all

from .jobs import BacktestJob
from .pool import Pool, WorkerLost
from .strategy_ref import strategy_of

__all__ = ["ACTIVE", "PROGRESS_INTERVAL", "RESTARTED", "BacktestsService", "Reporter", "RunLines", "RunRecords", "RunSpec",
           "job_of", "run_spec"]

log = logging.getLogger("services.backtests")

ACTIVE = ("loading_data", "executing")
PROGRESS_INTERVAL = 0.25
"""Seconds between two progress patches of one run (at most four a second)."""
CANCEL_WAIT = 5.0
"""Seconds `cancel` waits for the run to stop before answering anyway."""
BATCH = 1000
"""Log lines or positions written per call."""
RESTARTED = "The server stopped during the run; it was not finished. Create it again."


class RunSpec(dict[str, Any]):
    """A checked backtest request: the record's fields (complete `settings`, `bars`)."""

    @property
    def key(self) -> SeriesKey:
        return SeriesKey(self["exchange"], self["symbol"], self["timeframe"])


async def run_spec(app: App, candles: CandleStore, data: Mapping[str, Any], owner: Any) -> RunSpec:
    """`data` (loaded by `RunSchema`) checked against the strategy types and the stored
    candles: the record's fields. Raises `InvalidSettings`, `InvalidTimeframe`, `NO_CANDLES`."""
    settings: Mapping[str, Any] | None
    spec = RunSpec({name: data[name] for name in ("exchange", "symbol", "timeframe", "start", "end", "initialCash",
                                                  "fees", "fillModel", "fractional", "finalizeTrades")})
    if "strategyId" in data:
        spec["strategyId"] = data["strategyId"]
        spec["type"], settings = await strategy_of(app, data["strategyId"], owner)
    else:
        spec["strategyId"], spec["type"] = None, data["type"]
        settings = data.get("settings")
    spec["settings"] = validate_settings(spec["type"], settings)
    backtest_market(spec["symbol"])  # BASE/QUOTE, or InvalidSettings
    key = spec.key
    page = await asyncio.to_thread(candles.page, key, spec["start"], spec["end"], limit=0)
    if not page.total:
        raise platform_error("NO_CANDLES", f"No {key.timeframe} candles of {key.symbol} on {key.exchange} from "
                             f"{spec['start']} to {spec['end']}: import or download them first",
                             exchange=key.exchange, symbol=key.symbol, timeframe=key.timeframe)
    spec["bars"] = page.total
    return spec


def job_of(spec: Mapping[str, Any], candles: Any, settings: Mapping[str, Any] | None = None) -> BacktestJob:
    """The worker's job for a checked request (`settings` replace the request's: a trial)."""
    return BacktestJob(candles, spec["type"], dict(settings or spec["settings"]), spec["symbol"],
                       float(spec["initialCash"]), float(spec["fees"]), spec["fillModel"], bool(spec["fractional"]),
                       bool(spec["finalizeTrades"]))


class Reporter:
    """A run's progress as patches, in order: the first value makes the record `executing`,
    later ones are sent at most every `interval` seconds (the latest value wins), each with
    what `extra()` adds."""

    def __init__(self, patch: Callable[[dict[str, Any]], Awaitable[Any]], clock: Clock,
                 interval: float = PROGRESS_INTERVAL, extra: Callable[[], dict[str, Any]] | None = None) -> None:
        self._patch = patch
        self._extra = extra
        self._clock = clock
        self._interval = interval
        self._latest: float | None = None
        self._started = False
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def update(self, percent: float) -> None:
        """A new value (on the event loop)."""
        self._latest = percent
        self._wake.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        while True:
            await self._wake.wait()
            if self._closing.is_set() and self._started:
                return
            self._wake.clear()
            await self._send_latest()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self._interval)
            if self._closing.is_set():
                return

    async def _send_latest(self) -> None:
        change: dict[str, Any] = {"progress": round(float(self._latest or 0.0), 2),
                                  **(self._extra() if self._extra is not None else {})}
        if not self._started:
            self._started = True
            change.update(state="executing", startedAt=self._clock.now())
        await self._patch(change)

    def abandon(self) -> None:
        """Stop at once (the run was cancelled by teardown)."""
        if self._task is not None:
            self._task.cancel()

    async def close(self) -> None:
        """Stop sending; the `executing` patch is sent first if it was not yet."""
        self._closing.set()
        self._wake.set()
        if self._task is not None:
            await self._task


class RunRecords:
    """What backtests and optimisations share: their records in `store` (find, get, the
    server's patches, events through the service), one supervised task per run in `runs`,
    `cancel`, and runs left over by a stopped server marked `failed` at setup.
    `stop_run(id)` tells a run to stop (each kind its own way)."""

    def __init__(self, store: AdapterService, path: str) -> None:
        self.store = store
        self.runs: dict[str, asyncio.Task[None]] = {}
        self.app: App | None = None
        self.path = path

    @property
    def id(self) -> str:
        return self.store.id

    def get_options(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        return self.store.get_options(params)

    async def setup(self, app: App, path: str) -> None:
        self.app, self.path = app, path
        await self.store.setup(app, path)
        for record in await find_all(self.store, {"state": {"$in": list(ACTIVE)}}):
            await self._patch(record["_id"], {"state": "failed", "message": RESTARTED, "finishedAt": app.clock.now()})

    async def teardown(self) -> None:
        await self.store.teardown()

    async def find(self, params: dict[str, Any]) -> Any:
        return await self.store.find(params)

    async def get(self, id: Any, params: dict[str, Any]) -> Any:
        return await self.store.get(id, params)

    async def patch(self, id: Any, data: Any, params: dict[str, Any]) -> Any:
        """Server code only (not exposed): the run's state changes."""
        return await self.store.patch(id, data, params)

    async def cancel(self, data: Any, params: dict[str, Any]) -> Any:
        """Stop the run `data["id"]` (no change once it has finished); the record after."""
        record = await self.owned(data["id"], params)
        if record["state"] in ACTIVE:
            await self._stop(record["_id"])
        return await self.owned(record["_id"], params)

    async def owned(self, id: Any, params: Mapping[str, Any]) -> dict[str, Any]:
        """The record `id` if the caller may see it; NotFound otherwise."""
        scope = caller_scope(params)
        return await self.store.get(id, {"query": {} if scope is None else {"userId": scope}})

    def start(self, record: Mapping[str, Any], work: Awaitable[None]) -> None:
        """Run `work` for `record`, supervised."""
        assert self.app is not None
        self.runs[str(record["_id"])] = self.app.supervisor.spawn(work, name=f"{self.path}/{record['_id']}")

    def stop_run(self, id: Any) -> None:
        raise NotImplementedError

    async def _stop(self, id: Any) -> None:
        task = self.runs.get(str(id))
        if task is not None and not task.done():
            self.stop_run(id)
            await asyncio.wait({task}, timeout=CANCEL_WAIT)

    async def _patch(self, id: Any, change: dict[str, Any]) -> None:
        assert self.app is not None
        with contextlib.suppress(NotFound):  # removed meanwhile
            await self.app.service(self.path).patch(id, change)

    def new_record(self, fields: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
        """A run's first record: `fields`, its owner and timestamps from `data`, `loading_data`."""
        assert self.app is not None
        now = self.app.clock.now()
        return {**fields, "userId": data.get("userId"), "state": "loading_data", "progress": 0.0, "message": None,
                "startedAt": None, "finishedAt": None, "createdAt": data.get("createdAt", now),
                "updatedAt": data.get("updatedAt", now)}


class BacktestsService(RunRecords):
    """The records (`store`), the rows of their results (`rows`: `jobs.ROWS`' paths), and
    the runs: one supervised task per run awaiting the worker `pool`."""

    def __init__(self, store: AdapterService, rows: Mapping[str, AdapterService], candles: CandleStore,
                 pool: Pool) -> None:
        super().__init__(store, "backtests")
        self.rows = dict(rows)
        self.candles = candles
        self.pool = pool

    async def setup(self, app: App, path: str) -> None:
        for name, rows in self.rows.items():
            await rows.setup(app, f"{path}/{name}")
        await self.pool.start()
        await super().setup(app, path)

    async def teardown(self) -> None:
        await self.pool.close()
        for rows in self.rows.values():
            await rows.teardown()
        await super().teardown()

    async def create(self, data: dict[str, Any], params: dict[str, Any]) -> Any:
        assert self.app is not None
        spec = await run_spec(self.app, self.candles, data, data.get("userId"))
        record: Any = await self.store.create(self.new_record({**spec, "results": None}, data))
        self.start(record, self._run(record, spec))
        return record

    async def remove(self, id: Any, params: dict[str, Any]) -> Any:
        record: Any = await self.store.remove(id, params)
        await self._stop(record["_id"])
        for rows in self.rows.values():
            await rows.remove(None, {"query": {"backtestId": record["_id"]}})
        return record

    def pool_runs(self, prefix: str) -> list[str]:
        """Ids of the pool's runs that start with `prefix` (an optimisation's trials)."""
        return [run_id for run_id in self.pool.running() if run_id.startswith(prefix)]

    def stop_run(self, id: Any) -> None:
        self.pool.cancel(str(id))

    # -- a run ------------------------------------------------------------------------------------

    async def _run(self, record: dict[str, Any], spec: RunSpec) -> None:
        assert self.app is not None
        id = record["_id"]
        reporter = Reporter(lambda change: self._patch(id, change), self.app.clock)
        try:
            candles = await asyncio.to_thread(self.candles.load, spec.key, spec["start"], spec["end"])
            output = await self.pool.submit(str(id), job_of(spec, candles), reporter.update)
            await self._keep_lines(id, record["userId"], output)
            final: dict[str, Any] = {"state": "completed", "progress": 100.0, "results": output["results"]}
        except asyncio.CancelledError:  # teardown: the record is marked failed at the next start
            reporter.abandon()
            raise
        except BacktestCancelled:
            final = {"state": "cancelled", "message": "Cancelled before it finished."}
        except EngineError as error:
            final = {"state": "failed", "message": error.message}
        except WorkerLost as error:
            final = {"state": "failed", "message": str(error)}
        except Exception as error:  # a crash of the worker or of this code: the run fails, not the server
            log.exception("backtest %s failed", id)
            final = {"state": "failed", "message": f"The run stopped unexpectedly ({type(error).__name__})."}
        finally:
            self.runs.pop(str(id), None)
        await reporter.close()
        await self._patch(id, {**final, "finishedAt": self.app.clock.now()})

    async def _keep_lines(self, id: Any, owner: Any, output: Mapping[str, Any]) -> None:
        for name, store in self.rows.items():
            records: list[Mapping[str, Any]] = [{**row, "backtestId": id, "userId": owner, "seq": seq}
                                                for seq, row in enumerate(output[name])]
            for first in range(0, len(records), BATCH):
                await store.create(records[first:first + BATCH], {"query": {"$select": ["_id"]}})


class RunLines:
    """`backtests/:backtestId/<rows>` (`jobs.ROWS`): a completed run's rows, page by page, in
    order (`seq`), to the run's owner only."""

    def __init__(self, backtests: BacktestsService, store: AdapterService) -> None:
        self.backtests = backtests
        self.store = store

    def get_options(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        return self.store.get_options(params)

    async def find(self, params: dict[str, Any]) -> Any:
        record = await self.backtests.owned((params.get("route") or {})["backtestId"], params)
        query = {key: value for key, value in (params.get("query") or {}).items() if key != "userId"}
        query.setdefault("$sort", {"seq": 1})
        return await self.store.find({"query": {**query, "backtestId": record["_id"]}})

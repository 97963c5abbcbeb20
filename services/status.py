"""`status`: detailed health for operators (`health` stays the cheap liveness probe).

    GET /status   (an administrator's token or API key)
    -> 200 {"healthy": true, "problems": [], "checkedAt": "...", "version": "0.1.0", "uptime": 3600.2,
            "database": {"storage": "sqlite", "ok": true, "roundTripMs": 0.8, "error": null},
            "feeds": {"running": 2, "connected": 2, "items": [
                {"exchange": "binance", "symbol": "BTC/USDT", "state": "running", "connected": true,
                 "lastUpdate": "...", "latencyMs": 84, "downSince": null, "failures": 0}, ...]},
            "pods": {"running": 0},
            "memory": {"rss": 183500800, "total": 8346370048, "available": 5120000000, "percent": 38.7},
            "disk": {"path": "./data", "total": ..., "free": ..., "percent": 41.2},
            "tasks": {"running": 5, "restarting": 0, "failed": 0}}

(sizes in bytes, percentages of use.) The checks:

* database: one round trip of the storage (a count of `users`, through the adapter), at
  most `status.database_timeout` seconds;
* feeds: every market-data feed the supervisor runs; `connected` is false from a drop to its
  recovery (`services.market_data` incidents); `latencyMs` is the wall time of receipt minus
  the exchange's ticker timestamp (null for `sim`, whose timestamps are market time);
* pods: the sum of the counters registered with `count_running(app, "pods", counter)`, so
  the traders service reports its running pods without this module importing it;
* memory of the process and the machine (psutil), disk of the data directory.

Unhealthy: the database fails or is slower than the timeout, a feed has been down longer
than `status.max_feed_down` seconds, the data directory's disk is fuller than
`status.max_disk_percent`, or the machine's memory is fuller than `status.max_memory_percent`.
Then `GET /status` answers 503 `UNAVAILABLE` (a Feathers `Unavailable` error) whose
`data.status` is the same report, so probes that look only at the status code see it too.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

from cryptorobot import App
from hooks import admins_only, authenticate
from services.errors import platform_error
from services.health import HealthService
from services.market_data import FEED_DROPPED, FEED_RECOVERED, FeedIncident, market_data

__all__ = ["StatusService", "count_running", "register"]

COUNTERS = "statusCounters"
FEED_PREFIX = "feeds/"
DEFAULTS = {"database_timeout": 2.0, "max_feed_down": 300.0, "max_disk_percent": 95.0, "max_memory_percent": 95.0}


def count_running(app: App, kind: str, counter: Callable[[], int]) -> None:
    """Report `counter()` as running `kind` (e.g. "pods") on `/status`; several add up."""
    counters: dict[str, list[Callable[[], int]]] = app.get(COUNTERS) or {}
    counters.setdefault(kind, []).append(counter)
    app.set(COUNTERS, counters)


class StatusService:
    """Answers `find` with the report; see the module documentation."""

    def __init__(self, app: App, settings: dict[str, float]) -> None:
        self.app = app
        self.settings = settings
        self.liveness = HealthService()
        self.down: dict[str, datetime] = {}
        """`exchange:symbol` of the feeds that dropped and did not recover, and since when."""

    def on_incident(self, incident: FeedIncident) -> None:
        key = f"{incident.exchange}:{incident.symbol}"
        if incident.kind == FEED_DROPPED:
            self.down.setdefault(key, incident.at)
        else:
            self.down.pop(key, None)

    async def _database(self) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(self.app.service("users").raw.find({"query": {"$limit": 0}}),
                                   self.settings["database_timeout"])
            error = None
        except TimeoutError:
            error = f"no answer within {self.settings['database_timeout']:g} s"
        except Exception as failure:
            error = f"{type(failure).__name__}: {failure}"
        return {"storage": self.app.get("storage") or "sqlite", "ok": error is None,
                "roundTripMs": round((time.perf_counter() - started) * 1000, 3), "error": error}

    def _feeds(self) -> dict[str, Any]:
        hub = market_data(self.app)
        items = []
        for task in self.app.supervisor.status():
            if not task.name.startswith(FEED_PREFIX):
                continue
            exchange, _, symbol = task.name[len(FEED_PREFIX):].partition("/")
            key = f"{exchange}:{symbol}"
            ticker = hub.tickers.get(key) or {}
            updated, stamp = ticker.get("updatedAt"), ticker.get("timestamp")
            latency = (int(updated.timestamp() * 1000) - int(stamp)
                       if exchange != "sim" and isinstance(updated, datetime) and stamp else None)
            items.append({"exchange": exchange, "symbol": symbol, "state": str(task.state),
                          "connected": task.state == "running" and key not in self.down,
                          "lastUpdate": updated, "latencyMs": latency, "downSince": self.down.get(key),
                          "failures": task.failures})
        return {"running": sum(item["state"] == "running" for item in items),
                "connected": sum(item["connected"] for item in items), "items": items}

    def _pods(self) -> dict[str, Any]:
        counters: dict[str, list[Callable[[], int]]] = self.app.get(COUNTERS) or {}
        return {"running": sum(counter() for counter in counters.get("pods", []))}

    def _machine(self) -> tuple[dict[str, Any], dict[str, Any]]:
        memory = psutil.virtual_memory()
        path = Path(self.app.get("data_dir") or "./data")
        disk = shutil.disk_usage(path if path.exists() else Path.cwd())
        return ({"rss": psutil.Process().memory_info().rss, "total": memory.total, "available": memory.available,
                 "percent": memory.percent},
                {"path": str(path), "total": disk.total, "free": disk.free,
                 "percent": round(100 * (disk.total - disk.free) / disk.total, 1) if disk.total else 0.0})

    async def report(self) -> dict[str, Any]:
        """The status report (see the module documentation)."""
        now = self.app.clock.now()
        database = await self._database()
        feeds = self._feeds()
        memory, disk = await asyncio.to_thread(self._machine)
        states = [str(task.state) for task in self.app.supervisor.status()]
        problems = []
        if not database["ok"]:
            problems.append(f"database: {database['error']}")
        for item in feeds["items"]:
            down = item["downSince"]
            if down is not None and (now - down).total_seconds() > self.settings["max_feed_down"]:
                problems.append(f"feed {item['exchange']} {item['symbol']} down since {down.isoformat()}")
        if disk["percent"] > self.settings["max_disk_percent"]:
            problems.append(f"disk {disk['percent']}% full")
        if memory["percent"] > self.settings["max_memory_percent"]:
            problems.append(f"memory {memory['percent']}% used")
        return {"healthy": not problems, "problems": problems, "checkedAt": now, "version": self.liveness.version,
                "uptime": round(time.monotonic() - self.liveness.started, 3), "database": database, "feeds": feeds,
                "pods": self._pods(), "memory": memory, "disk": disk,
                "tasks": {state: states.count(state) for state in ("running", "restarting", "failed")}}

    async def find(self, params: dict[str, Any]) -> dict[str, Any]:
        report = await self.report()
        if not report["healthy"]:
            raise platform_error("UNAVAILABLE", f"Unhealthy: {'; '.join(report['problems'])}", status=report)
        return report


def register(app: App) -> None:
    """Register `status` and follow the feeds' incidents."""
    settings = {**DEFAULTS, **{key: float(value) for key, value in (app.get("status") or {}).items()
                               if key in DEFAULTS}}
    service = StatusService(app, settings)
    app.use("status", service, {
        "methods": ["find"],
        "docs": {"description": "Detailed health for operators (administrators): database round trip, exchange "
                                "feeds (connected, last update, latency), pods running, memory and disk, with "
                                "`healthy`; 503 `UNAVAILABLE` with the same report in `data.status` when unhealthy. "
                                "`health` is the cheap liveness probe.", "codes": []},
    })
    app.service("status").hooks({"around": {"find": [authenticate("jwt", "api-key"), admins_only]}})
    app.on(FEED_DROPPED, service.on_incident)
    app.on(FEED_RECOVERED, service.on_incident)

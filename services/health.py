"""`health`: liveness and version for load balancers and operators (`GET /health`)."""

from __future__ import annotations

import time
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from cryptorobot import App

__all__ = ["HealthService", "register"]


def _version() -> str:
    try:
        return version("cryptorobot")
    except PackageNotFoundError:
        return "unknown"


class HealthService:
    """Answers `find` with the process's status; nothing else is exposed."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.version = _version()
        self.app: App | None = None

    def setup(self, app: App, path: str) -> None:
        self.app = app

    async def find(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "status": "ok",
            "version": self.version,
            "uptime": round(time.monotonic() - self.started, 3),
            "services": sorted(self.app.services) if self.app else [],
        }


def register(app: App) -> None:
    app.use("health", HealthService(), {"docs": {"codes": []}})

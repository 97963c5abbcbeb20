"""The server the README's "Python client" examples run against (test_client_readme.py).

The platform (memory storage) with `connection-drop`, plus stand-ins for the trading
services the examples use: memory services at their paths (those of `STAND_INS`), private
to their owner like every platform resource (login required, restricted to the owner,
events to the owner's room). The examples make by hand what the real services make
themselves (a trader with a status, trades, pod events) and patch a strategy by a literal
id, so the platform is built here without its `strategies` and `traders` services (and
without a stand-in for a path it does serve, such as `models/signals`). They prove the
client's side of the examples; the records' shapes are the test's, not the services'.
`readme/signals` stands in for a signal model: its `create` records a `models/signals`
signal for the caller, as the platform's scorer does for a model's subscribers.

    cryptorobot serve --app tests.client.readme_app:create_app
"""

from __future__ import annotations

from typing import Any
from unittest import mock

from cryptorobot import App
from cryptorobot.adapters import MemoryService
from tests.client.client_app import create_platform

__all__ = ["STAND_INS", "create_app"]

STAND_INS = ("strategies", "traders", "traders/pods/events", "trades", "models/signals")


def create_app() -> App:
    from hooks import authenticate, restrict_to_owner

    with mock.patch("services.strategies.register"), mock.patch("services.traders.register"):
        app = create_platform()
    for path in (path for path in STAND_INS if path not in app.services):
        app.use(path, MemoryService(id="_id", paginate={"default": 25, "max": 100}))
        app.service(path).hooks({"before": {"all": [authenticate("jwt", "api-key"), restrict_to_owner("userId")]}})
    app.use("readme/signals", SignalMaker(app), {"methods": ["create"]})
    app.service("readme/signals").hooks({"before": {"all": [authenticate("jwt", "api-key")]}})
    return app


class SignalMaker:
    """Records a model signal addressed to the caller (server code, as the scorer does)."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def create(self, data: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        from services.models.signals import AUDIENCE, SIGNALS_PATH

        return await self.app.service(SIGNALS_PATH).create(data, {AUDIENCE: [params["user"]["_id"]]})

"""The app that `client.mjs` drives with the official Feathers JS clients.

    cryptorobot serve --app tests.interop.app:create_app --host 127.0.0.1 --port 3030

* `messages`: memory adapter, paginated (default 10, max 50), multi, all six methods plus the
  custom method `summary`.
* `traders/pods/events`: a nested path; memory adapter without pagination or multi, exposing
  find, get and create only (so `remove` answers 405 and an array create is refused).
* `traders/:traderId/orders`: echoes `params.route`, `params.query` and the provider, so the
  client can check route placeholders and query-string decoding.

Every connection joins `everyone`, and every event is published to it.
"""

from __future__ import annotations

from typing import Any

from cryptorobot import App
from cryptorobot.adapters import MemoryService

__all__ = ["create_app", "MessageService", "EchoService"]


class MessageService(MemoryService):
    async def summary(self, data: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """How many messages carry `data["run"]`, with `data` and the caller's provider."""
        records = await self._find({"query": {"run": data.get("run")}, "paginate": False})
        return {**data, "count": len(records), "provider": params.get("provider")}


class EchoService:
    async def find(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"route": params.get("route"), "query": params.get("query"), "provider": params.get("provider")}


def create_app() -> App:
    app = App()
    app.use(
        "messages",
        MessageService(id="id", paginate={"default": 10, "max": 50}, multi=True),
        {"methods": ["find", "get", "create", "update", "patch", "remove", "summary"]},
    )
    app.use("traders/pods/events", MemoryService(id="id"), {"methods": ["find", "get", "create"]})
    app.use("traders/:traderId/orders", EchoService())
    app.on("connection", lambda connection: app.channel("everyone").join(connection))
    app.publish(lambda data, context: app.channel("everyone"))
    return app

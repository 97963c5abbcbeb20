"""The apps the client tests talk to: a test app of the framework, and the platform.

`create_app()` (served in-process over real sockets, or by `cryptorobot serve --app
tests.client.client_app:create_app`):

* `messages`: memory adapter, paginated (default 10, max 50), multi, the six methods and the
  custom methods `summary` (how many messages carry `data["run"]`), `fail` (a BadRequest with
  `data.code` and `errors`), `announce` (emits the custom event `status` with its data) and
  `hold` (answers only when the test calls `release()`: a call under way at a disconnect).
* `notes`: memory adapter without pagination, exposing find, get and create only.
* `traders/pods/events`: memory adapter at a nested path, as the platform's pod events.
* `echo` and `traders/:traderId/orders`: answer with the query and route as the server got them;
  a find with `hold` in its query answers only at `release()`, as `messages.hold`.
* `connection-drop`: cuts the caller's socket as a lost network would (tests/interop/auth_app.py).
* `authentication`: a stand-in that logs anyone in with the token `token-1`, except that the
  next `failures` jwt logins fail with a GeneralError (a server problem, not a refusal).

Every connection joins `everyone`, and every event is published there.

`create_platform(data_dir)`: the platform (memory storage, test config) with `connection-drop`.
"""

from __future__ import annotations

import asyncio
import tempfile
from typing import Any

from cryptorobot import App
from cryptorobot.adapters import MemoryService
from cryptorobot.config import load_config
from cryptorobot.errors import BadRequest, GeneralError
from tests.interop.auth_app import ConnectionDrop

__all__ = ["FAILURE", "Authentication", "Echo", "Holding", "MessageService", "create_app", "create_platform"]

FAILURE = {"name": "BadRequest", "message": "Not today", "code": 400, "className": "bad-request",
           "data": {"code": "TEST_CODE", "detail": 42}, "errors": {"text": "too short"}}
"""What `messages.fail` answers."""


class Holding:
    """Calls that wait until the test releases them (calls under way at a disconnect)."""

    def __init__(self) -> None:
        self.held: list[asyncio.Future[None]] = []
        self.holding = asyncio.Event()

    async def _hold(self) -> None:
        held = asyncio.get_running_loop().create_future()
        self.held.append(held)
        self.holding.set()
        await held

    def release(self) -> None:
        for held in self.held:
            if not held.done():
                held.set_result(None)


class MessageService(Holding, MemoryService):
    def __init__(self, **options: Any) -> None:
        MemoryService.__init__(self, **options)
        Holding.__init__(self)
        self.app: App | None = None

    async def summary(self, data: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        records = await self._find({"query": {"run": data.get("run")}, "paginate": False})
        return {**data, "count": len(records), "provider": params.get("provider")}

    async def fail(self, data: Any, params: dict[str, Any]) -> None:
        raise BadRequest(FAILURE["message"], {**FAILURE["data"], "errors": FAILURE["errors"]})

    async def announce(self, data: Any, params: dict[str, Any]) -> Any:
        assert self.app is not None
        self.app.service("messages").emit("status", data)
        return data

    async def hold(self, data: Any, params: dict[str, Any]) -> Any:
        await self._hold()
        return data


class Authentication:
    def __init__(self) -> None:
        self.logins: list[str] = []
        self.failures = 0

    async def create(self, data: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        self.logins.append(data["strategy"])
        if data["strategy"] == "jwt" and self.failures:
            self.failures -= 1
            raise GeneralError("The user store is not reachable")
        return {"accessToken": "token-1", "authentication": {"strategy": data["strategy"]}, "user": {"name": "ann"}}


class Echo(Holding):
    async def find(self, params: dict[str, Any]) -> dict[str, Any]:
        if (params.get("query") or {}).get("hold"):
            await self._hold()
        return {"query": params.get("query"), "route": params.get("route"), "provider": params.get("provider")}


def create_app() -> App:
    app = App()
    messages = MessageService(id="id", paginate={"default": 10, "max": 50}, multi=True)
    messages.app = app
    app.use("messages", messages, {"methods": ["find", "get", "create", "update", "patch", "remove", "summary", "fail",
                                               "announce", "hold"], "events": ["status"]})
    app.use("notes", MemoryService(id="id"), {"methods": ["find", "get", "create"]})
    app.use("traders/pods/events", MemoryService(id="_id"))
    app.use("echo", Echo())
    app.use("traders/:traderId/orders", Echo())
    app.use("connection-drop", ConnectionDrop())
    app.use("authentication", Authentication())
    app.on("connection", lambda connection: app.channel("everyone").join(connection))
    app.publish(lambda data, context: app.channel("everyone"))
    return app


def create_platform(data_dir: str | None = None) -> App:
    from cryptorobot.platform import create_app as platform_app

    app = platform_app({**load_config("test", environ={}), "storage": "memory",
                        "data_dir": data_dir or tempfile.mkdtemp(prefix="cryptorobot-client-")})
    app.use("connection-drop", ConnectionDrop())
    return app

"""The platform app that `auth_client.mjs` drives with `@feathersjs/authentication-client`.

    CRYPTOROBOT_DATA_DIR=/tmp/x cryptorobot serve --app tests.interop.auth_app:create_app --port 3030

The real platform (`create_app` with the test configuration: memory storage, bcrypt cost 4)
plus two test-only services:

* `connection-drop`: `create` cuts the caller's socket at the Engine.IO level, shortly after
  answering. No Socket.IO disconnect packet is sent, so for the client this is a lost
  connection (`transport close`), which it reconnects by itself, as after a network failure.
  (A server-side `disconnect`, reason `io server disconnect`, would not be reconnected.)
* `connection-log`: `find` lists the app events the server saw (`connection`, `login`,
  `logout`, `disconnect`) with the socket id and user, so the client can prove that a
  reconnect really was a new connection that logged in again with the stored token.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from typing import Any

from cryptorobot import App, Connection
from cryptorobot.config import load_config
from cryptorobot.errors import BadRequest
from cryptorobot.platform import create_app as create_platform

__all__ = ["create_app"]


class ConnectionDrop:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    async def create(self, data: Any, params: dict[str, Any]) -> dict[str, Any]:
        connection = params.get("connection")
        if not isinstance(connection, Connection) or connection.transport is None:
            raise BadRequest("Only a socket connection can be dropped")
        engine = connection.transport.sio.eio
        engine_sid = connection.transport.sio.manager.eio_sid_from_sid(connection.sid, "/")

        async def drop() -> None:
            await asyncio.sleep(0.1)  # let the acknowledgement reach the client first
            engine_socket = engine.sockets.get(engine_sid)
            await engine.disconnect(engine_sid)
            if engine_socket is not None:
                # python-engineio sends an Engine.IO CLOSE packet, which engine.io-client ignores
                # over websocket, and closes the websocket only when its writer wakes up: wake it.
                engine_socket.queue.put_nowait(None)

        task = asyncio.get_running_loop().create_task(drop())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return {"dropping": connection.sid}


class ConnectionLog:
    def __init__(self, app: App) -> None:
        self.entries: list[dict[str, Any]] = []

        def entry(event: str, connection: Any, result: Any = None) -> None:
            user = (result or {}).get("user") or (connection or {}).get("user") or {}
            self.entries.append({
                "event": event,
                "sid": getattr(connection, "sid", None),
                "userId": user.get("_id"),
                "strategy": ((result or {}).get("authentication") or {}).get("strategy"),
            })

        app.on("connection", lambda connection: entry("connection", connection))
        app.on("disconnect", lambda connection: entry("disconnect", connection))
        app.on("login", lambda result, params, context=None: entry("login", params.get("connection"), result))
        app.on("logout", lambda result, params, context=None: entry("logout", params.get("connection"), result))

    async def find(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self.entries)


def create_app() -> App:
    data_dir = os.environ.get("CRYPTOROBOT_DATA_DIR") or tempfile.mkdtemp(prefix="cryptorobot-auth-interop-")
    app = create_platform({**load_config("test"), "data_dir": data_dir})
    app.use("connection-drop", ConnectionDrop())
    app.use("connection-log", ConnectionLog(app))
    return app

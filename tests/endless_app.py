"""An app with endless background work, for the SIGTERM test: a supervised feed and a
coroutine listener that never return; each says when it is cancelled."""

from __future__ import annotations

import asyncio
from typing import Any

from cryptorobot import App
from cryptorobot.config import load_config
from services import health


async def forever(what: str) -> None:
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        print(f"endless {what} cancelled", flush=True)
        raise


def create_app() -> App:
    app = App(load_config())
    health.register(app)
    app.on("started", lambda: forever("listener"))

    async def start_work(context: Any, next_step: Any) -> None:
        await next_step()
        app.supervise("endless feed", lambda: forever("feed"))
        app.emit("started")

    app.hooks({"setup": [start_work]})
    return app

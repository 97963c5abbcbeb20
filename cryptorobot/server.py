"""Serving an App: one aiohttp application carrying both transports, and its life cycle."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from .app import App
from .config import from_section
from .cors import CorsPolicy
from .files import private_umask
from .static_sites import attach_static_sites
from .transports.http_limits import HttpLimits, body_deadline, hide_server_version
from .transports.inflight import InFlight
from .transports.rest import RestTransport
from .transports.socket_server import SocketLimits
from .transports.socketio import SocketIOTransport

__all__ = ["create_web_app", "serve", "APP_KEY"]

log = logging.getLogger("cryptorobot.server")

APP_KEY: web.AppKey[App] = web.AppKey("cryptorobot", App)
SOCKETIO_KEY: web.AppKey[SocketIOTransport] = web.AppKey("cryptorobot.socketio", SocketIOTransport)

CALLS_DEADLINE = 30.0
"""Seconds a stopping server waits for calls in progress."""
CLOSE_TIMEOUT = 5.0
"""Seconds aiohttp then gives open connections to close before cancelling their handlers."""


def _client_manager(settings: dict[str, Any]) -> Any:
    """python-socketio's Redis manager when `redis_url` is set: events reach every process
    subscribed to the same `redis_channel`."""
    if not settings.get("redis_url"):
        return None
    import socketio

    return socketio.AsyncRedisManager(settings["redis_url"], channel=settings.get("redis_channel") or "cryptorobot")


def create_web_app(app: App) -> web.Application:
    """The aiohttp application for `app`, configured from `app.settings`."""
    rest_settings = app.get("rest") or {}
    socket_settings = app.get("socketio") or {}
    max_body_size = int(rest_settings.get("max_body_size", 1024 * 1024))
    # The request line carries the query: a 500-value `$in` from the JS client is ~14 kB.
    max_url_size = int(rest_settings.get("max_url_size", 64 * 1024))
    # Timeouts, one-line client errors and no versions in `Server` (transports/http_limits.py); one CORS
    # policy for both transports (cors.py); Socket.IO's bounds per connection (transports/socket_server.py).
    hide_server_version()
    http = from_section(HttpLimits, rest_settings)
    cors = CorsPolicy.from_setting((app.get("cors") or {}).get("origins", "*"))
    trusted_proxies = int(app.get("trusted_proxies") or 0)  # transports/client_address.py
    web_app = web.Application(
        client_max_size=max_body_size,
        middlewares=[body_deadline(http.request_timeout, max_body_size, app.present_error)],
        handler_args={"max_line_size": max_url_size, "max_field_size": max_url_size, **http.handler_args(max_body_size)})
    socket = SocketIOTransport(
        app,
        client_manager=_client_manager(socket_settings),
        limits=from_section(SocketLimits, socket_settings),
        trusted_proxies=trusted_proxies,
        **cors.engineio_options(),
    )
    socket.attach(web_app)
    rest_calls = InFlight()
    socket_prefix = f"/{socket.path.strip('/')}/"

    @web.middleware
    async def track_rest_calls(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith(socket_prefix):  # long polls and websockets last
            return await handler(request)
        with rest_calls.track():
            return await handler(request)

    web_app.middlewares.append(track_rest_calls)
    # Routes of our own go here, before the REST transport's catch-all route.
    from .openapi import attach_openapi

    attach_openapi(web_app, app)  # GET /openapi.json and /docs (setting `openapi = false`: off)
    attach_static_sites(web_app, app)  # web pages the composition root registered (static_sites.py)
    RestTransport(app, cors=cors, max_body_size=max_body_size, trusted_proxies=trusted_proxies).attach(web_app)
    web_app[APP_KEY] = app
    web_app[SOCKETIO_KEY] = socket

    async def on_startup(_: web.Application) -> None:
        await app.setup(web_app)

    async def on_shutdown(_: web.Application) -> None:
        # aiohttp no longer accepts connections nor reads requests from open ones, so no
        # call starts from now on. Calls in progress finish (CALLS_DEADLINE at most), the
        # events they queued are delivered, then every socket is closed as a lost network
        # would close it: clients reconnect to whichever process serves next.
        deadline = asyncio.get_running_loop().time() + CALLS_DEADLINE
        if rest_calls.count or socket.calls.count:
            log.info("stopping: waiting for %d calls in progress", rest_calls.count + socket.calls.count)
        for calls in (rest_calls, socket.calls):
            if not await calls.idle(deadline - asyncio.get_running_loop().time()):
                log.warning("stopping with %d calls still in progress", calls.count)
        await app.events.drain()
        await socket.close_connections()

    async def on_cleanup(_: web.Application) -> None:
        await app.teardown(web_app)

    web_app.on_startup.append(on_startup)
    web_app.on_shutdown.append(on_shutdown)
    web_app.on_cleanup.append(on_cleanup)
    return web_app


def serve(app: App, host: str | None = None, port: int | None = None) -> None:
    """Run until SIGINT/SIGTERM; then calls in progress finish, queued events are delivered
    and sockets are closed so that clients reconnect (see `create_web_app`'s on_shutdown)."""
    loop: asyncio.AbstractEventLoop
    try:
        import uvloop
        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    private_umask()  # whatever this process writes (under the data directory or not) is its user's only
    host = host or app.get("host") or "127.0.0.1"
    port = int(app.get("port") if port is None else port)
    # The calls were waited for in on_shutdown: aiohttp's own wait is only for connections
    # to finish closing (and for calls past CALLS_DEADLINE, which it then cancels).
    web.run_app(create_web_app(app), host=host, port=port, shutdown_timeout=CLOSE_TIMEOUT,
                print=lambda text: log.info(text.strip()), access_log=None,
                loop=loop)

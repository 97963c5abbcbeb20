"""The asynchronous client of a cryptorobot (or any Feathers v5) server."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from .. import errors
from .calls import LOGIN_REFUSED, Call, Transport
from .handlers import Handler, Handlers
from .rest import RestTransport
from .service import Service
from .socket import SocketTransport

if TYPE_CHECKING:
    from .sync import SyncClient

__all__ = ["CLIENT_EVENTS", "CONNECTION_EVENTS", "Client"]

CONNECTION_EVENTS = ("connect", "disconnect", "reconnect")
"""Socket.IO only: `connect` (the first connection is up), `disconnect(reason)` (the connection
was lost; the client reconnects by itself), `reconnect` (back, logged in again)."""
CLIENT_EVENTS = (*CONNECTION_EVENTS, "login", "logout")
"""`login(result)` after every successful authentication (the automatic one after a reconnect
too); `logout(result)` after `logout()`, or with None when the server refused the stored
login after a reconnect (it is forgotten)."""


class Client:
    """A client of the server at `url`: `await client.service("strategies").find(query=...)`.

        async with Client("http://localhost:3030") as client:
            await client.authenticate({"strategy": "local", "email": "you@example.com",
                                       "password": "your-password"})
            client.service("traders").on("patched", lambda trader: print(trader["status"]))
            page = await client.service("strategies").find(query={"type": "momentum"})

    Options:

    * `transport`: `"socketio"` (default: python-socketio over a websocket; calls and events on
      one connection, kept open and restored by itself) or `"rest"` (aiohttp; no events).
    * `api_key`: sent as `X-API-Key` with every request (REST) or in the Socket.IO handshake,
      so every connection, reconnections included, is authenticated without a login call.
    * `headers`: more HTTP headers for every request (REST) or the handshake (Socket.IO).
    * `timeout`: seconds a sent call waits for its answer (None: no limit).
    * `connect_timeout`: seconds a call waits for a connection (the first one, or the next
      after a loss, with the login restored) before failing with `errors.Timeout`.
    * `reconnect_delay`: (first, longest) seconds between connection attempts (Socket.IO's
      backoff: doubling, randomised by +-50 %).
    * `authentication_path`: where the authentication service is (`authentication`).

    Errors of the server come back as the `cryptorobot.errors` class of their `name`, with
    `data` (e.g. `data["code"]` for platform errors) and `errors`. The client raises
    `errors.Timeout` (no connection in time, or no answer in time) and `errors.Unavailable`
    (the connection was lost while a call that is not safe to repeat was under way) itself,
    with `data["reason"]` `"not-connected"`, `"no-answer"` or `"connection-lost"`.

    Not thread-safe: use it from the event loop it was first used on (`SyncClient` wraps it
    for blocking code).
    """

    def __init__(self, url: str, *, transport: Literal["socketio", "rest"] = "socketio", api_key: str | None = None,
                 headers: Mapping[str, str] | None = None, timeout: float | None = 60.0, connect_timeout: float = 30.0,
                 reconnect_delay: tuple[float, float] = (1.0, 5.0), authentication_path: str = "authentication") -> None:
        self.url = url.rstrip("/")
        self.authentication_path = authentication_path.strip("/")
        self._authentication: dict[str, Any] | None = None
        self._renewal: dict[str, Any] | None = None
        self._handlers = Handlers()
        self._services: dict[str, Service] = {}
        all_headers = {**({"X-API-Key": api_key} if api_key else {}), **(headers or {})}
        options: dict[str, Any] = {"headers": all_headers, "timeout": timeout, "connect_timeout": connect_timeout,
                                   "reconnect_delay": reconnect_delay}
        self._transport: Transport
        if transport == "socketio":
            self._transport = SocketTransport(self.url, restore=self._restore_login, notify=self._handlers.emit,
                                              deliver=self._handlers.emit, **options)
        elif transport == "rest":
            self._transport = RestTransport(self.url, access_token=lambda: self.access_token, **options)
        else:
            raise ValueError(f"transport must be 'socketio' or 'rest', not {transport!r}")

    # -- services --------------------------------------------------------------------------------

    def service(self, path: str) -> Service:
        """The remote service at `path` (`"strategies"`, `"traders/pods/events"`, ...)."""
        path = path.strip("/")
        if path not in self._services:
            self._services[path] = Service(self, path)
        return self._services[path]

    async def _send(self, call: Call) -> Any:
        """Send one call (what `Service` methods do)."""
        return await self._transport.call(call)

    @property
    def transport(self) -> str:
        """`"socketio"` or `"rest"`."""
        return self._transport.name

    @property
    def connected(self) -> bool:
        """Socket.IO: connected, and logged in again if it was. REST: not closed."""
        return self._transport.connected

    async def connect(self) -> None:
        """Connect now rather than at the first call (Socket.IO; nothing to do over REST).
        `errors.Timeout` after `connect_timeout` seconds without a connection."""
        await self._transport.connect()

    # -- authentication --------------------------------------------------------------------------

    async def authenticate(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Log in: `{"strategy": "local", "email": ..., "password": ...}`, `{"strategy": "jwt",
        "accessToken": ...}` or `{"strategy": "api-key", "apiKey": ...}`.

        Returns the server's result `{accessToken, authentication, user}` and keeps it
        (`authentication`, `access_token`): later REST calls send the token, and a Socket.IO
        connection that comes back logs in again with it (with the API key for an `api-key`
        login, since keys do not expire). A refused login (401-407) forgets the kept one.
        """
        try:
            result = await self._transport.call(Call("create", self.authentication_path, data=dict(data), repeatable=True),
                                                login=True)
        except errors.FeathersError as failure:
            if failure.code in LOGIN_REFUSED:
                self._authentication = self._renewal = None
            raise
        self._authentication = result
        self._renewal = dict(data) if data.get("strategy") == "api-key" else None
        self._handlers.emit("login", result)
        return result

    async def logout(self) -> dict[str, Any] | None:
        """Log out (the socket leaves its user's channels) and forget the login; the server's
        result, or None when the client was not logged in."""
        if self._authentication is None:
            return None
        try:
            result = await self._transport.call(Call("remove", self.authentication_path, id=None))
        finally:
            self._authentication = self._renewal = None
        self._handlers.emit("logout", result)
        return result

    @property
    def authentication(self) -> dict[str, Any] | None:
        """The last login's result (`accessToken`, `authentication`, `user`), or None."""
        return self._authentication

    @property
    def access_token(self) -> str | None:
        return (self._authentication or {}).get("accessToken")

    async def _restore_login(self) -> None:
        """On a new Socket.IO connection, before calls go out: log in again as before."""
        if self._authentication is None:
            return
        data = self._renewal or {"strategy": "jwt", "accessToken": self.access_token}
        assert isinstance(self._transport, SocketTransport)
        try:
            result = await self._transport.send_now(Call("create", self.authentication_path, data=data))
        except errors.FeathersError as failure:
            if failure.code in LOGIN_REFUSED:
                self._authentication = self._renewal = None
                self._handlers.emit("logout", None)
            raise
        self._authentication = result
        self._handlers.emit("login", result)

    # -- events ----------------------------------------------------------------------------------

    def on(self, event: str, handler: Handler | None = None) -> Any:
        """Call `handler` for `event`: a client event (`CLIENT_EVENTS`) or a service event
        `"<path> <event>"` (`client.service(path).on(event, ...)` says the same).

        Returns `handler`; without one, a decorator. Service and connection events exist
        only over Socket.IO: a REST client raises RuntimeError for them.
        """
        if handler is None:
            return lambda handler: self.on(event, handler)
        if not self._transport.events and event not in ("login", "logout"):
            raise RuntimeError(f"'{event}' events arrive only over Socket.IO, and this client uses REST: "
                               f"Client({self.url!r}) (transport 'socketio', the default) receives them")
        self._handlers.add(event, handler)
        return handler

    def off(self, event: str, handler: Handler | None = None) -> None:
        """Stop calling `handler` for `event` (every handler of `event` when None)."""
        self._handlers.remove(event, handler)

    # -- life cycle ------------------------------------------------------------------------------

    async def close(self) -> None:
        """Disconnect and release the connection; calls still waiting fail with RuntimeError,
        and so do later ones. Coroutine handlers still running are cancelled."""
        await self._transport.close()
        await self._handlers.close()

    async def __aenter__(self) -> Client:
        try:
            await self.connect()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.close()

    @staticmethod
    def sync(url: str, **options: Any) -> SyncClient:
        """A `SyncClient` (blocking methods, its own event loop on a thread) with these options."""
        from .sync import SyncClient

        return SyncClient(url, **options)

    def __repr__(self) -> str:
        return f"Client({self.url!r}, transport={self.transport!r})"

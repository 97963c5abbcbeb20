"""A blocking wrapper of `Client` for scripts and notebooks.

`SyncClient` runs an asyncio `Client` on an event loop of its own, in a daemon thread, and
each method blocks the calling thread until that loop has the answer. The caller's thread
never runs the loop, so it works the same in a plain script and inside Jupyter, whose
cell code runs while the notebook's own event loop is running (where `asyncio.run` fails):
nothing is nested and nothing is patched. (In a notebook the async `Client` works too,
with top-level `await`.)

Event handlers: plain functions run one at a time, in the order the events arrived, on a
worker thread of the client (`cryptorobot-client-handlers`), so they may call the client's
blocking methods themselves; coroutine functions run on the client's loop, where they must
use the async client (`sync_client.client`), not the blocking one.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

from .client import Client
from .handlers import Handler
from .service import Service

__all__ = ["SyncClient", "SyncService"]

T = TypeVar("T")
Query = Mapping[str, Any] | None


class SyncClient:
    """`Client(url, **options)` with blocking methods (same options, same errors).

        with SyncClient("http://localhost:3030") as client:
            client.authenticate({"strategy": "local", "email": "you@example.com", "password": "..."})
            client.service("traders").on("patched", lambda trader: print(trader["status"]))
            print(client.service("strategies").find(query={"type": "momentum"}))

    `close()` (or leaving the `with` block) disconnects and stops the loop and worker threads.
    """

    def __init__(self, url: str, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="cryptorobot-client", daemon=True)
        self._thread.start()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cryptorobot-client-handlers")
        self._closed = False

        async def create() -> Client:
            return Client(url, **options)

        self.client: Client
        """The asynchronous client underneath (for coroutine event handlers)."""
        try:
            self.client = self._run(create())
        except BaseException:
            self._stop_threads()
            raise
        self.client._handlers.run_plain = self._worker.submit
        self._services: dict[str, SyncService] = {}

    def run(self, awaitable: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the client's loop and wait for its result (any `Client` call:
        `sync.run(sync.client.service("x").find())`)."""
        return self._run(awaitable)

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self._thread:
            coroutine.close()
            raise RuntimeError("A blocking SyncClient call inside a coroutine handler would block the client's own "
                               "loop: await the async client (sync_client.client) there, or use a plain function")
        if self._closed:
            coroutine.close()
            raise RuntimeError("The client is closed")
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # e.g. KeyboardInterrupt in a notebook: the call stops too
            raise

    # -- the Client's interface, blocking ----------------------------------------------------------

    def service(self, path: str) -> SyncService:
        path = path.strip("/")
        if path not in self._services:
            self._services[path] = SyncService(self, self.client.service(path))
        return self._services[path]

    def connect(self) -> None:
        self._run(self.client.connect())

    def authenticate(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return self._run(self.client.authenticate(data))

    def logout(self) -> dict[str, Any] | None:
        return self._run(self.client.logout())

    @property
    def authentication(self) -> dict[str, Any] | None:
        return self.client.authentication

    @property
    def access_token(self) -> str | None:
        return self.client.access_token

    @property
    def connected(self) -> bool:
        return self.client.connected

    @property
    def transport(self) -> str:
        return self.client.transport

    def on(self, event: str, handler: Handler | None = None) -> Any:
        """As `Client.on`; plain handlers run on the client's handler thread (module docstring)."""
        return self.client.on(event, handler)

    def off(self, event: str, handler: Handler | None = None) -> None:
        self.client.off(event, handler)

    def close(self) -> None:
        """Disconnect, then stop the client's threads (idempotent)."""
        if self._closed:
            return
        try:
            self._run(self.client.close())
        finally:
            self._closed = True
            self._stop_threads()

    def _stop_threads(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
        # From a handler on the worker thread itself, waiting for it would never end.
        self._worker.shutdown(wait=not _on_worker_thread())

    def __enter__(self) -> SyncClient:
        try:
            self.connect()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SyncClient({self.client.url!r}, transport={self.transport!r})"


class SyncService:
    """`Service` with blocking methods (`sync_client.service(path)`)."""

    def __init__(self, owner: SyncClient, service: Service) -> None:
        self._owner = owner
        self.service = service
        self.path = service.path

    def find(self, query: Query = None) -> Any:
        return self._owner.run(self.service.find(query))

    def get(self, id: Any, query: Query = None) -> Any:
        return self._owner.run(self.service.get(id, query))

    def create(self, data: Any, query: Query = None) -> Any:
        return self._owner.run(self.service.create(data, query))

    def update(self, id: Any, data: Any, query: Query = None) -> Any:
        return self._owner.run(self.service.update(id, data, query))

    def patch(self, id: Any, data: Any, query: Query = None) -> Any:
        return self._owner.run(self.service.patch(id, data, query))

    def remove(self, id: Any, query: Query = None) -> Any:
        return self._owner.run(self.service.remove(id, query))

    def call(self, method: str, data: Any = None, query: Query = None) -> Any:
        return self._owner.run(self.service.call(method, data, query))

    def __getattr__(self, method: str) -> Callable[..., Any]:
        """`service.start(data=None, query=None)`: the custom method of that name, blocking."""
        if method.startswith("_"):
            raise AttributeError(method)

        def custom(data: Any = None, query: Query = None) -> Any:
            return self.call(method, data, query)

        custom.__name__ = custom.__qualname__ = method
        return custom

    def on(self, event: str, handler: Handler | None = None) -> Any:
        return self.service.on(event, handler)

    def off(self, event: str, handler: Handler | None = None) -> None:
        self.service.off(event, handler)

    def __repr__(self) -> str:
        return f"SyncService({self.path!r})"


def _on_worker_thread() -> bool:
    return threading.current_thread().name.startswith("cryptorobot-client-handlers")

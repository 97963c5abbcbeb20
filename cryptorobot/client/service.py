"""A remote service: the six Feathers methods, custom methods and its events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from .calls import Call
from .handlers import Handler

if TYPE_CHECKING:
    from .client import Client

__all__ = ["Service"]

Query = Mapping[str, Any] | None


class Service:
    """The service at `path` on the client's server (`client.service(path)`).

    Every method returns what the server's method returned (a page `{total, limit, skip,
    data}` or a list from `find`, a record from the others, a list for multi calls) and raises
    the Feathers error it failed with (`cryptorobot.errors`: `NotFound`, `BadRequest`, ...,
    with `data` and `errors` as sent). `query` holds Feathers' query syntax (`{"type":
    "momentum", "createdAt": {"$gte": "2024-01-01"}, "$sort": {"createdAt": -1}, "$limit": 10}`).

    Custom methods are called by name, `await service.start(data, query)`, or with
    `await service.call("start", data, query)`; their data is a dict (or None).
    """

    def __init__(self, client: Client, path: str) -> None:
        self.client = client
        self.path = path

    async def find(self, query: Query = None) -> Any:
        return await self._send(Call("find", self.path, query=query or {}))

    async def get(self, id: Any, query: Query = None) -> Any:
        return await self._send(Call("get", self.path, id=id, query=query or {}))

    async def create(self, data: Any, query: Query = None) -> Any:
        """`data`: a record, or a list of records where the service allows multi create."""
        return await self._send(Call("create", self.path, data=data, query=query or {}))

    async def update(self, id: Any, data: Any, query: Query = None) -> Any:
        """Replace the record `id` with `data`."""
        return await self._send(Call("update", self.path, id=id, data=data, query=query or {}))

    async def patch(self, id: Any, data: Any, query: Query = None) -> Any:
        """Merge `data` into record `id`; id None patches every record the query matches (multi)."""
        return await self._send(Call("patch", self.path, id=id, data=data, query=query or {}))

    async def remove(self, id: Any, query: Query = None) -> Any:
        """Remove record `id` and return it; id None removes every record the query matches (multi)."""
        return await self._send(Call("remove", self.path, id=id, query=query or {}))

    async def call(self, method: str, data: Any = None, query: Query = None) -> Any:
        """The custom method `method` (one the service exposes, e.g. `start`)."""
        return await self._send(Call(method, self.path, data=data, query=query or {}))

    def __getattr__(self, method: str) -> Callable[..., Awaitable[Any]]:
        """`service.start(data=None, query=None)`: the custom method of that name."""
        if method.startswith("_"):
            raise AttributeError(method)

        async def custom(data: Any = None, query: Query = None) -> Any:
            return await self.call(method, data, query)

        custom.__name__ = custom.__qualname__ = method
        return custom

    def on(self, event: str, handler: Handler | None = None) -> Any:
        """Call `handler(data)` for each `event` (`created`, `patched`, a custom event...) the
        server sends about this service, i.e. the Socket.IO event `"<path> <event>"`.

        Usable as a decorator (`@service.on("patched")`). Plain functions and coroutine
        functions both work (`handlers`); events arrive only over Socket.IO: a REST client
        raises RuntimeError.
        """
        return self.client.on(f"{self.path} {event}", handler)

    def off(self, event: str, handler: Handler | None = None) -> None:
        """Stop calling `handler` for `event` (every handler of `event` when None)."""
        self.client.off(f"{self.path} {event}", handler)

    async def _send(self, call: Call) -> Any:
        return await self.client._send(call)

    def __repr__(self) -> str:
        return f"Service({self.path!r})"

"""Where ended sessions are recorded (`cryptorobot.auth.revocation.RevocationStore`).

* `MemoryRevocationStore`: this process only, forgotten at restart (tests, `storage =
  "memory"`).
* `AdapterRevocationStore`: a table of the `storage` database (SQLite: survives restarts;
  MongoDB: shared by every process using it).
* `RedisRevocationStore`: keys with a TTL in Redis, shared by every process using it; one
  `MGET` per request.

`revocation_store(app)` picks one from the `[authentication.revocation]` settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..adapters import AdapterService, Index
from ..clock import Clock
from ..errors import Conflict
from ..storage import persisted
from .revocation import RevocationStore

if TYPE_CHECKING:
    from ..app import App

__all__ = ["STORE_KINDS", "AdapterRevocationStore", "MemoryRevocationStore", "RedisRevocationStore", "revocation_store"]

STORE_KINDS = ("auto", "storage", "redis", "memory")
TABLE = "authentication/revocations"


class MemoryRevocationStore:
    """A dict in this process; expired entries are dropped as they are met."""

    shared = False

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._entries: dict[str, tuple[str, float]] = {}

    async def setup(self) -> None:
        return None

    async def get_many(self, keys: Sequence[str]) -> list[str | None]:
        now, found = self.clock.time(), []
        for key in keys:
            entry = self._entries.get(key)
            if entry is not None and entry[1] <= now:
                del self._entries[key]
                entry = None
            found.append(None if entry is None else entry[0])
        return found

    async def put(self, key: str, value: str, expires_at: float) -> None:
        self._entries[key] = (value, expires_at)

    async def close(self) -> None:
        self._entries.clear()


class AdapterRevocationStore:
    """Records `{_id: key, value, expiresAt}` in an adapter of the `storage` database;
    expired records are ignored when read and removed whenever something is recorded."""

    def __init__(self, adapter: AdapterService, clock: Clock, *, shared: bool, app: App | None = None) -> None:
        self.adapter = adapter
        self.clock = clock
        self.shared = shared
        self.app = app

    async def setup(self) -> None:
        await self.adapter.setup(self.app, TABLE)

    async def get_many(self, keys: Sequence[str]) -> list[str | None]:
        records: list[dict[str, Any]] = await self.adapter.find(  # type: ignore[assignment]
            {"query": {"_id": {"$in": list(keys)}}, "paginate": False})
        now = self.clock.time()
        values = {record["_id"]: record["value"] for record in records if record["expiresAt"] > now}
        return [values.get(key) for key in keys]

    async def put(self, key: str, value: str, expires_at: float) -> None:
        record = {"_id": key, "value": value, "expiresAt": expires_at}
        try:
            await self.adapter.create(record)
        except Conflict:
            await self.adapter.update(key, record)
        await self.adapter.remove(None, {"query": {"expiresAt": {"$lte": self.clock.time()}}})

    async def close(self) -> None:
        await self.adapter.teardown()


class RedisRevocationStore:
    """Keys `<prefix><key>` in Redis, each expiring with what it records."""

    shared = True

    def __init__(self, url: str, clock: Clock, prefix: str = "cryptorobot:revoked:") -> None:
        import redis.asyncio

        self.client = redis.asyncio.from_url(url, decode_responses=True)
        self.clock = clock
        self.prefix = prefix

    async def setup(self) -> None:
        await self.client.ping()  # a wrong URL fails at start, not at the first request

    async def get_many(self, keys: Sequence[str]) -> list[str | None]:
        values: list[str | None] = await self.client.mget([self.prefix + key for key in keys])  # type: ignore[assignment]
        return values

    async def put(self, key: str, value: str, expires_at: float) -> None:
        milliseconds = max(1, int((expires_at - self.clock.time()) * 1000))
        await self.client.set(self.prefix + key, value, px=milliseconds)

    async def close(self) -> None:
        await self.client.aclose()


def revocation_store(app: App) -> RevocationStore:
    """The store the `[authentication.revocation]` settings name (`store`: "auto" = Redis
    when `redis_url` or `socketio.redis_url` is set, else "storage")."""
    settings: dict[str, Any] = (app.get("authentication") or {}).get("revocation") or {}
    socket_settings: dict[str, Any] = app.get("socketio") or {}
    kind = settings.get("store") or "auto"
    redis_url = settings.get("redis_url") or socket_settings.get("redis_url")
    if kind not in STORE_KINDS:
        raise ValueError(f"authentication.revocation.store must be one of {', '.join(STORE_KINDS)}, not {kind!r}")
    if kind == "auto":
        kind = "redis" if redis_url else "storage"
    if kind == "redis":
        if not redis_url:
            raise ValueError("authentication.revocation.store = \"redis\" needs redis_url (or socketio.redis_url)")
        channel = socket_settings.get("redis_channel") or "cryptorobot"
        return RedisRevocationStore(redis_url, app.clock, prefix=f"{channel}:revoked:")
    if kind == "memory":
        return MemoryRevocationStore(app.clock)
    adapter = persisted(app, id="_id", multi=["remove"], indexes=[Index(("expiresAt",))])
    return AdapterRevocationStore(adapter, app.clock, shared=(app.get("storage") == "mongodb"), app=app)

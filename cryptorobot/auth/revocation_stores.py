"""Where ended sessions are recorded (`cryptorobot.auth.revocation.RevocationStore`).

Every request asks the store about its token, so the common stores answer from a copy in
this process's memory and only writes travel:

* `MemoryRevocationStore`: this process only, forgotten at restart (`storage = "memory"`).
* `AdapterRevocationStore`: a table of the `storage` database. SQLite is one process's
  store: the table is read into memory once and written through, so a check is a dict
  lookup and ends survive restarts. MongoDB is shared by processes that write to it
  unannounced: every check queries it (`shared`).
* `RedisRevocationStore`: keys with a TTL in Redis, shared by every process using it. Each
  write also publishes the record on a channel in the same transaction; every process
  follows the channel (`follow`, run as supervised background work) into its copy, which
  it reloads whole on (re)subscribing. While the copy is not in sync (starting, Redis
  lost) checks ask Redis directly (`MGET`).

`revocation_store(app)` picks one from the `[authentication.revocation]` settings.
"""

from __future__ import annotations

import asyncio
import json
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
    expired records are ignored when read and removed whenever something is recorded.
    Unless `shared`, the table is read into memory at setup and checks never leave it."""

    def __init__(self, adapter: AdapterService, clock: Clock, *, shared: bool, app: App | None = None) -> None:
        self.adapter = adapter
        self.clock = clock
        self.shared = shared
        self.app = app
        self.copy: MemoryRevocationStore | None = None if shared else MemoryRevocationStore(clock)

    async def setup(self) -> None:
        await self.adapter.setup(self.app, TABLE)
        if self.copy is not None:
            for record in await self._records({"paginate": False}):
                await self.copy.put(record["_id"], record["value"], record["expiresAt"])

    async def _records(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return await self.adapter.find(params)  # type: ignore[return-value]

    async def get_many(self, keys: Sequence[str]) -> list[str | None]:
        if self.copy is not None:
            return await self.copy.get_many(keys)
        records = await self._records({"query": {"_id": {"$in": list(keys)}}, "paginate": False})
        now = self.clock.time()
        values = {record["_id"]: record["value"] for record in records if record["expiresAt"] > now}
        return [values.get(key) for key in keys]

    async def put(self, key: str, value: str, expires_at: float) -> None:
        record = {"_id": key, "value": value, "expiresAt": expires_at}
        try:
            await self.adapter.create(record)
        except Conflict:
            await self.adapter.update(key, record)
        if self.copy is not None:
            await self.copy.put(key, value, expires_at)
        await self.adapter.remove(None, {"query": {"expiresAt": {"$lte": self.clock.time()}}})

    async def close(self) -> None:
        await self.adapter.teardown()


class RedisRevocationStore:
    """Keys `<prefix><key>` in Redis, each expiring with what it records, and this
    process's copy of them, kept current by `follow` (see the module docstring)."""

    shared = True

    def __init__(self, url: str, clock: Clock, prefix: str = "cryptorobot:revoked:") -> None:
        import redis.asyncio

        self.client = redis.asyncio.from_url(url, decode_responses=True)
        self.clock = clock
        self.prefix = prefix
        self.channel = f"{prefix}published"
        self.copy = MemoryRevocationStore(clock)
        self.in_sync = asyncio.Event()
        """Set while the copy follows Redis (checks read the copy); clear: checks ask Redis."""

    async def setup(self) -> None:
        await self.client.ping()  # a wrong URL fails at start, not at the first request

    async def get_many(self, keys: Sequence[str]) -> list[str | None]:
        if self.in_sync.is_set():
            return await self.copy.get_many(keys)
        values: list[str | None] = await self.client.mget([self.prefix + key for key in keys])  # type: ignore[assignment]
        return values

    async def put(self, key: str, value: str, expires_at: float) -> None:
        milliseconds = max(1, int((expires_at - self.clock.time()) * 1000))
        message = json.dumps({"key": key, "value": value, "expiresAt": expires_at})
        async with self.client.pipeline(transaction=True) as transaction:  # MULTI: set and announce together
            transaction.set(self.prefix + key, value, px=milliseconds)
            transaction.publish(self.channel, message)
            await transaction.execute()
        await self.copy.put(key, value, expires_at)

    async def follow(self) -> None:
        """Keep the copy current: subscribe, load every key, then apply what is published,
        in order. Runs until cancelled; raises when Redis is lost (checks then ask Redis
        until a restart of this work is in sync again)."""
        try:
            async with self.client.pubsub() as subscription:
                await subscription.subscribe(self.channel)
                await self._load_all()
                self.in_sync.set()
                async for message in subscription.listen():
                    if message.get("type") == "message":
                        record = json.loads(message["data"])
                        await self.copy.put(record["key"], record["value"], record["expiresAt"])
        finally:
            self.in_sync.clear()

    async def _load_all(self) -> None:
        keys = [key async for key in self.client.scan_iter(match=f"{self.prefix}*") if key != self.channel]
        if not keys:
            return
        async with self.client.pipeline(transaction=False) as batch:
            for key in keys:
                batch.get(key)
                batch.pttl(key)
            answers = await batch.execute()
        now = self.clock.time()
        for key, value, remaining in zip(keys, answers[::2], answers[1::2], strict=True):
            if value is not None and remaining > 0:
                await self.copy.put(key[len(self.prefix):], value, now + remaining / 1000)

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

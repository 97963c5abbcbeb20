"""A cap on each user's realtime connections, by tier: the newest connection wins.

A connection counts for a user from its login (`login` app event, handshake logins too)
until its logout or disconnect. When a login puts a user over their tier's `connections`,
the oldest of their connections are closed: each first receives the event `CLOSED_EVENT`
(`"connection-closed"`) whose payload is a Feathers error a client can show (429
`TooManyRequests`, `data: {limit, max}`; the app's error presenter may add to it), then a
server disconnect, which Socket.IO clients do not reconnect by themselves. Newest-wins
means a client that reconnects before the server noticed its previous socket died
replaces it instead of being locked out by it.

Where connections are recorded:

* `MemoryConnections`: this process (every connection of a user is here).
* `RedisConnections`: a sorted set per user in Redis (`<prefix>:connections:<userId>`, login
  times as scores, refreshed to expire a day after the last login), shared by every
  process; a connection on another process is closed through the Socket.IO client manager
  (Redis), so processes must share `socketio.redis_url` too.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from ..channels import Connection
from ..errors import ConnectionLimitExceeded
from ..hooks import HookContext
from .settings import RateLimitSettings

if TYPE_CHECKING:
    from ..app import App

__all__ = ["CLOSED_EVENT", "ConnectionCap", "ConnectionRecords", "MemoryConnections", "RedisConnections"]

CLOSED_EVENT = "connection-closed"
"""The event a connection receives, with the reason, just before the server closes it."""
RECORD_LIFETIME = 86400
"""Seconds a user's record of connections in Redis outlives their last login (crashed processes' leftovers)."""


class ConnectionRecords(Protocol):
    """Which connections (socket ids) each user has logged in, oldest first."""

    async def add(self, user: str, sid: str, at: float) -> list[str]:
        """Record `sid` for `user` (logged in at `at`, epoch seconds); every sid of the user, oldest first."""

    async def remove(self, user: str, sid: str) -> None: ...


class MemoryConnections:
    """Records in this process."""

    def __init__(self) -> None:
        self._users: dict[str, dict[str, int]] = {}
        self._order = itertools.count()

    async def add(self, user: str, sid: str, at: float) -> list[str]:
        sids = self._users.setdefault(user, {})
        sids.pop(sid, None)
        sids[sid] = next(self._order)
        return list(sids)

    async def remove(self, user: str, sid: str) -> None:
        sids = self._users.get(user)
        if sids is not None:
            sids.pop(sid, None)
            if not sids:
                del self._users[user]


class RedisConnections:
    """Records in Redis, shared by processes (`client`: a `redis.asyncio.Redis` with decoded
    answers, owned by whoever made it)."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def _key(self, user: str) -> str:
        return f"{self.prefix}:connections:{user}"

    async def add(self, user: str, sid: str, at: float) -> list[str]:
        key = self._key(user)
        async with self.client.pipeline(transaction=True) as transaction:
            transaction.zadd(key, {sid: at})
            transaction.expire(key, RECORD_LIFETIME)
            transaction.zrange(key, 0, -1)
            *_, sids = await transaction.execute()
        return list(sids)

    async def remove(self, user: str, sid: str) -> None:
        await self.client.zrem(self._key(user), sid)


class ConnectionCap:
    """Keeps each user's logged-in connections within their tier (see the module docstring).

    `entity`/`id_field`: where the login result holds the user and its id.
    """

    def __init__(self, app: App, settings: RateLimitSettings, records: ConnectionRecords, *,
                 entity: str = "user", id_field: str = "_id") -> None:
        self.app = app
        self.settings = settings
        self.records = records
        self.entity = entity
        self.id_field = id_field
        self._owners: dict[Connection, str] = {}
        app.on("login", self._on_login)
        app.on("logout", self._on_logout)
        app.on("disconnect", self._forget)

    async def _on_login(self, result: Mapping[str, Any], params: Mapping[str, Any],
                        context: HookContext | None = None) -> None:
        connection = params.get("connection")
        if not isinstance(connection, Connection) or connection.closed or connection.sid is None:
            return
        # The internal record (the event's result is what the client sees; the tier may be hidden).
        source = context.result if context is not None and isinstance(context.result, Mapping) else result
        user = source.get(self.entity)
        tier = self.settings.tier_of(user)
        if not isinstance(user, Mapping) or tier is None:
            return
        owner = str(user[self.id_field])
        previous = self._owners.get(connection)
        if previous is not None and previous != owner:
            await self.records.remove(previous, connection.sid)
        self._owners[connection] = owner
        sids = await self.records.add(owner, connection.sid, self.app.clock.time())
        if connection.closed:  # it left while we recorded it
            await self._forget(connection)
            return
        for sid in sids[: max(0, len(sids) - tier.connections)]:
            await self.records.remove(owner, sid)
            await self._close(sid, tier.name, tier.connections)

    async def _close(self, sid: str, tier: str, cap: int) -> None:
        reason = self.app.present_error(ConnectionLimitExceeded(
            f"Closed: a newer connection of this account took its place ({tier} accounts keep "
            f"{cap} realtime connection{'s' if cap != 1 else ''})",
            {"limit": f"ratelimit.tiers.{tier}.connections", "max": cap}))
        for transport in self.app.events.transports:
            close = getattr(transport, "close_connection", None)
            if close is not None:
                await close(sid, CLOSED_EVENT, reason.to_json())

    async def _on_logout(self, result: Any, params: Mapping[str, Any], context: HookContext | None = None) -> None:
        connection = params.get("connection")
        if isinstance(connection, Connection):
            await self._forget(connection)

    async def _forget(self, connection: Connection) -> None:
        owner = self._owners.pop(connection, None)
        if owner is not None and connection.sid is not None:
            await self.records.remove(owner, connection.sid)

"""Channels: named groups of real-time connections, mapped one to one onto Socket.IO rooms.

A named channel is a room: joining adds the connection to the room through the transport
that owns the connection, so a Redis client manager carries an emit to that room to every
process. Membership is also kept here, locally, because publishers may inspect
`channel.connections` or `filter` them; a filtered channel names its connections one by
one and so reaches only this process's sockets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

__all__ = ["Connection", "Channel", "NamedChannel", "CombinedChannel", "ChannelRegistry", "RoomMember"]


class RoomMember(Protocol):
    """What a transport attaches to its connections so channels can move them between rooms."""

    def enter_room(self, connection: Connection, room: str) -> None: ...
    def leave_room(self, connection: Connection, room: str) -> None: ...


class Connection(dict):
    """The per-socket mapping (Feathers' `socket.feathers`), spread into every call's params.

    Compared and hashed by identity: two sockets are never the same connection, even when
    their mappings are equal. `closed` is True once the connection has gone (the app's
    `disconnect` event); channels ignore it from then on, so a login that finishes after its
    client left joins nothing. Code that keeps state per connection should likewise check
    `closed` before adding any and drop it on `disconnect`: together they hold whatever the
    order of a login and a disconnect.
    """

    __hash__ = object.__hash__  # type: ignore[assignment]  # dict sets None (unhashable); identity, at C speed

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    def __init__(self, provider: str, headers: dict[str, str] | None = None,
                 transport: RoomMember | None = None, sid: str | None = None) -> None:
        super().__init__(provider=provider, headers=headers or {})
        self.transport = transport
        self.sid = sid
        self.closed = False

    def __repr__(self) -> str:
        return f"<Connection {self.sid} user={'user' in self}>"


class Channel:
    """A set of connections with an optional payload that replaces the event data for them."""

    def __init__(self, connections: Iterable[Connection] = (), data: Any = None,
                 rooms: Sequence[str] = ()) -> None:
        self._connections: dict[Connection, None] = dict.fromkeys(c for c in connections if c)
        self.data = data
        self.rooms: tuple[str, ...] = tuple(rooms)

    @property
    def connections(self) -> list[Connection]:
        return list(self._connections)

    @property
    def length(self) -> int:
        return len(self._connections)

    def __len__(self) -> int:
        return len(self._connections)

    def __bool__(self) -> bool:
        # An empty local channel may still have members on other processes (its room).
        return True

    def __contains__(self, connection: object) -> bool:
        return connection in self._connections

    def filter(self, predicate: Callable[[Connection], bool]) -> Channel:
        """A new channel with the matching connections (local ones only, sent one by one)."""
        return Channel((c for c in self._connections if predicate(c)), self.data)

    def send(self, data: Any) -> Channel:
        """The same audience with a custom payload."""
        return Channel(self._connections, data, self.rooms)


class NamedChannel(Channel):
    """A registered channel; it is the Socket.IO room of the same name."""

    def __init__(self, registry: ChannelRegistry, name: str) -> None:
        super().__init__(rooms=(name,))
        self.name = name
        self._registry = registry

    def join(self, *connections: Connection | None) -> NamedChannel:
        """Add open connections; closed ones are skipped (a channel left empty is deleted)."""
        live = [connection for connection in connections if connection and not connection.closed]
        if live:
            members = self._registry.enlist(self)
            for connection in live:
                if connection not in members:
                    members[connection] = None
                    if connection.transport is not None:
                        connection.transport.enter_room(connection, self.name)
        elif any(connections) and not self._connections:
            self._registry.discard(self.name, self)
        return self

    def leave(self, *members: Connection | Callable[[Connection], bool] | None) -> NamedChannel:
        for member in members:
            if member is None:
                continue
            if isinstance(member, Connection):
                leaving = [member] if member in self._connections else []
            else:
                leaving = [c for c in self._connections if member(c)]
            for connection in leaving:
                del self._connections[connection]
                if connection.transport is not None:
                    connection.transport.leave_room(connection, self.name)
        if not self._connections:
            self._registry.discard(self.name, self)
        return self

    def __repr__(self) -> str:
        return f"<NamedChannel {self.name!r} {len(self)} connections>"


class CombinedChannel(Channel):
    """Several named channels at once; each connection counted once."""

    def __init__(self, children: Sequence[NamedChannel], data: Any = None) -> None:
        merged: dict[Connection, None] = {}
        for child in children:
            merged.update(child._connections)
        super().__init__(merged, data, [child.name for child in children])
        self.children = list(children)

    def join(self, *connections: Connection | None) -> CombinedChannel:
        for child in self.children:
            child.join(*connections)
        self._connections.update(dict.fromkeys(c for c in connections if c and not c.closed))
        return self

    def leave(self, *members: Connection | Callable[[Connection], bool] | None) -> CombinedChannel:
        for child in self.children:
            child.leave(*members)
        self._connections = {}
        for child in self.children:
            self._connections.update(child._connections)
        return self


class ChannelRegistry:
    """`app.channel(...)` and `app.channels`: named channels created on first use."""

    def __init__(self) -> None:
        self._named: dict[str, NamedChannel] = {}

    @property
    def names(self) -> list[str]:
        return list(self._named)

    def get(self, *names: str | Sequence[str]) -> NamedChannel | CombinedChannel:
        flat = [name for item in names for name in ([item] if isinstance(item, str) else item)]
        if not flat:
            raise ValueError("app.channel needs at least one channel name")
        channels = [self._named[name] if name in self._named else self._create(name) for name in flat]
        if len(channels) == 1:
            return channels[0]
        return CombinedChannel(channels)

    def _create(self, name: str) -> NamedChannel:
        channel = self._named[name] = NamedChannel(self, name)
        return channel

    def discard(self, name: str, channel: NamedChannel | None = None) -> None:
        """Forget the channel `name` (only if it is `channel`, when given)."""
        if channel is None or self._named.get(name) is channel:
            self._named.pop(name, None)

    def enlist(self, channel: NamedChannel) -> dict[Connection, None]:
        """The members of `channel`, registering it again if it was deleted meanwhile (a
        caller kept it across its last `leave`); a channel created since under the same name
        takes its members and shares them from then on."""
        current = self._named.setdefault(channel.name, channel)
        if current is not channel:
            current._connections.update(channel._connections)
            channel._connections = current._connections
        return current._connections

    def leave_all(self, connection: Connection) -> None:
        """Take a connection out of every channel (logout)."""
        for channel in list(self._named.values()):
            if connection in channel:
                channel.leave(connection)

    def close(self, connection: Connection) -> None:
        """The connection has gone (the app's `disconnect`): mark it closed, so it can join
        nothing again, and take it out of every channel."""
        connection.closed = True
        self.leave_all(connection)

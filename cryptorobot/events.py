"""Publishing service events to real-time connections, in order, through the channels.

`ServiceProxy.emit` hands every publishable event to the `EventPublisher`, which runs the
publishers and transport sends one event at a time on a single worker task: events reach
clients in the order the calls finished, a slow client never delays the caller, and
`drain()` (run at teardown) makes sure nothing queued is lost on a clean shutdown.
`deliver()` skips the queue for senders that pace their own events.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .channels import Channel, Connection
from .hooks import NOT_SET, HookContext

if TYPE_CHECKING:
    from .app import App
    from .service import ServiceProxy

__all__ = ["Delivery", "EventPublisher", "RealtimeTransport"]

log = logging.getLogger("cryptorobot.events")


@dataclass
class Delivery:
    """One payload for a set of rooms and/or individual connections; `local`: for this
    process's sockets only (a Redis manager does not carry it to the others)."""

    payload: Any
    rooms: list[str] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)
    skip: list[Connection] = field(default_factory=list)
    local: bool = False


class RealtimeTransport(Protocol):
    async def deliver(self, event_name: str, deliveries: list[Delivery]) -> None: ...


def _flatten(chosen: Any) -> list[Channel]:
    if chosen is None or chosen is False:
        return []
    if isinstance(chosen, Channel):
        return [chosen]
    if isinstance(chosen, (list, tuple)):
        return [channel for item in chosen for channel in _flatten(item)]
    raise TypeError(f"a publisher must return channels, not {type(chosen).__name__}")


def _default_payload(data: Any, context: HookContext | None) -> Any:
    """`dispatch` when set (the element at the same index for list results), else the data."""
    if context is None or context.dispatch is NOT_SET:
        return data
    result, dispatch = context.result, context.dispatch
    if isinstance(result, list) and isinstance(dispatch, list):
        for index, element in enumerate(result):
            if element is data:
                return dispatch[index] if index < len(dispatch) else data
        return data
    return dispatch


def plan_deliveries(channels: list[Channel], default: Any) -> list[Delivery]:
    """Group channels by payload; a connection gets the payload of the first channel it is in.

    Channels with the same payload share one delivery (rooms and single connections); a
    connection whose first channel belongs to another delivery is skipped in this one, so
    every connection gets the event exactly once.
    """
    deliveries: list[Delivery] = []
    by_payload: dict[int, Delivery] = {}
    first: dict[Connection, Delivery] = {}
    placed: list[tuple[Delivery, Channel]] = []
    for channel in channels:
        payload = default if channel.data is None else channel.data
        delivery = by_payload.get(id(payload))
        if delivery is None:
            delivery = by_payload[id(payload)] = Delivery(payload)
            deliveries.append(delivery)
        delivery.rooms.extend(room for room in channel.rooms if room not in delivery.rooms)
        for connection in channel.connections:
            owner = first.setdefault(connection, delivery)
            if not channel.rooms and owner is delivery and connection not in delivery.connections:
                delivery.connections.append(connection)
        placed.append((delivery, channel))
    for delivery, channel in placed:
        if channel.rooms:
            delivery.skip.extend(c for c in channel.connections
                                 if first[c] is not delivery and c not in delivery.skip)
    return deliveries


class EventPublisher:
    """Resolves publishers to channels and hands the result to every real-time transport."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.transports: list[RealtimeTransport] = []
        self.publishers: dict[str | None, Callable[..., Any]] = {}
        self._queue: asyncio.Queue[tuple[ServiceProxy, str, Any, HookContext | None]] | None = None
        self._worker: asyncio.Task[None] | None = None

    def publish(self, service: ServiceProxy, event: str, data: Any, context: HookContext | None) -> None:
        if not self.transports:
            return
        if self._worker is None or self._worker.done():
            self._queue = asyncio.Queue()
            self._worker = asyncio.get_running_loop().create_task(self._run(self._queue))
        assert self._queue is not None
        self._queue.put_nowait((service, event, data, context))

    async def _run(self, queue: asyncio.Queue[tuple[ServiceProxy, str, Any, HookContext | None]]) -> None:
        while True:
            await self._send_next(queue)

    async def _send_next(self, queue: asyncio.Queue[tuple[ServiceProxy, str, Any, HookContext | None]]) -> None:
        """Send one queued event. Its own frame, so that while the worker waits for the next
        event nothing keeps the last context (and the connection in its params) alive."""
        service, event, data, context = await queue.get()
        try:
            await self._send(service, event, data, context)
        except Exception:
            log.exception("publishing '%s %s' failed", service.path, event)
        finally:
            queue.task_done()

    def _publisher_for(self, service: ServiceProxy, event: str) -> Callable[..., Any] | None:
        for publishers in (service.publishers, self.publishers):
            for key in (event, None):
                if key in publishers:
                    return publishers[key]
        return None

    async def _send(self, service: ServiceProxy, event: str, data: Any, context: HookContext | None) -> None:
        publisher = self._publisher_for(service, event)
        if publisher is None:
            return
        if context is None:
            context = HookContext(self.app, service, service.path, event)
            context.result = data
        chosen = publisher(data, context)
        if inspect.isawaitable(chosen):
            chosen = await chosen
        channels = _flatten(chosen)
        if not channels:
            return
        deliveries = plan_deliveries(channels, _default_payload(data, context))
        name = f"{service.path} {event}"
        for transport in self.transports:
            await transport.deliver(name, deliveries)

    async def deliver(self, event_name: str, deliveries: list[Delivery]) -> None:
        """Hand `deliveries` of `event_name` (`"<path> <event>"`) to every real-time transport
        now, outside the queue and the publishers: for events whose sender keeps its own order
        and rate (coalesced tickers), so that nothing waits in the queue behind them or piles
        up in it when sockets are slower than the events."""
        for transport in self.transports:
            await transport.deliver(event_name, deliveries)

    async def drain(self) -> None:
        """Wait until every queued event has been handed to the transports."""
        if self._queue is not None and self._worker is not None and not self._worker.done():
            await self._queue.join()

    async def close(self) -> None:
        await self.drain()
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None

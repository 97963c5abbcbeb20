"""Real-time connections logged in with a token, and when they stop being so.

A socket that logged in keeps its token for every later call, and keeps receiving its
user's events. `SocketSessions` disconnects it (the app's `disconnect` event, which closes
the socket; the client may reconnect and log in again) when its token:

* expires: a timer at the token's `exp`;
* is ended in this process (logout elsewhere, a password change, a revoked API key):
  `end(revocation)`, at once;
* is ended by another process sharing the revocation store (Redis, MongoDB): `sweep()`
  checks every logged-in socket of this process in one store round trip, every
  `sweep_interval` seconds (`[authentication.revocation] sweep_interval`).

Calls are checked on their own, each time (the JWT strategy asks the revocation store), so
a revoked token's calls fail at once everywhere; the sweep only bounds how long a socket of
another process may go on receiving events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..channels import Connection
from ..clock import Timer
from .revocation import Revocation, Revocations

if TYPE_CHECKING:
    from ..app import App

__all__ = ["DEFAULT_SWEEP_INTERVAL", "SocketSessions"]

DEFAULT_SWEEP_INTERVAL = 5.0


class SocketSessions:
    """The token payload of every logged-in connection of this process."""

    def __init__(self, app: App, revocations: Revocations, sweep_interval: float = DEFAULT_SWEEP_INTERVAL) -> None:
        self.app = app
        self.revocations = revocations
        self.sweep_interval = sweep_interval
        self._payloads: dict[Connection, Mapping[str, Any]] = {}
        self._expiry_timers: dict[Connection, Timer] = {}

    def track(self, connection: Connection, payload: Mapping[str, Any]) -> None:
        """`connection` is now logged in with the token of `payload`."""
        self.forget(connection)
        self._payloads[connection] = payload
        expires = payload.get("exp")
        if isinstance(expires, (int, float)):
            clock = self.app.clock
            self._expiry_timers[connection] = clock.call_later(expires - clock.time(), self._disconnect, connection)

    def forget(self, connection: Connection) -> None:
        """`connection` logged out or went away."""
        self._payloads.pop(connection, None)
        timer = self._expiry_timers.pop(connection, None)
        if timer is not None:
            timer.cancel()

    def end(self, revocation: Revocation, *, spare: Any = None) -> None:
        """Disconnect the connections whose tokens `revocation` ends (but `spare`)."""
        for connection, payload in list(self._payloads.items()):
            if connection is not spare and revocation.matches(payload):
                self._disconnect(connection)

    async def sweep(self) -> None:
        """Disconnect the connections whose tokens the store says were ended."""
        tracked = list(self._payloads.items())
        for index in await self.revocations.ended_among(payload for _, payload in tracked):
            connection = tracked[index][0]
            if connection in self._payloads:
                self._disconnect(connection)

    async def sweep_forever(self) -> None:
        """`sweep()` every `sweep_interval` seconds (run as supervised background work)."""
        while True:
            await self.app.clock.sleep(self.sweep_interval)
            await self.sweep()

    def _disconnect(self, connection: Connection) -> None:
        self.forget(connection)
        self.app.emit("disconnect", connection)

    def close(self) -> None:
        for timer in self._expiry_timers.values():
            timer.cancel()
        self._expiry_timers.clear()
        self._payloads.clear()

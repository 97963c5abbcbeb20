"""One remote method call, as both transports send it, and the errors a client raises itself."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import errors

__all__ = ["LOGIN_REFUSED", "STANDARD_METHODS", "Call", "Transport", "backoff", "connection_lost", "error_from_wire",
           "gave_up_waiting", "wait_until"]

STANDARD_METHODS = ("find", "get", "create", "update", "patch", "remove")
LOGIN_REFUSED = range(401, 408)
"""Error codes that mean "these credentials do not log in": the Feathers client forgets its
token on them."""
_WITH_ID = frozenset({"get", "update", "patch", "remove"})
_WITH_DATA = frozenset({"create", "update", "patch"})  # and every custom method
_SAFE = frozenset({"find", "get"})


@dataclass(frozen=True, slots=True)
class Call:
    """`method` on the service at `path`: `id` for get/update/patch/remove (None: all that
    match the query), `data` for create/update/patch and custom methods, and the `query`."""

    method: str
    path: str
    id: Any = None
    data: Any = None
    query: Mapping[str, Any] = field(default_factory=dict)
    repeatable: bool | None = None
    """Safe to send again when the connection was lost before the answer came (the first
    attempt may have run): find and get by default; a login too."""

    @property
    def safe_to_repeat(self) -> bool:
        return self.method in _SAFE if self.repeatable is None else self.repeatable

    @property
    def has_id(self) -> bool:
        return self.method in _WITH_ID

    @property
    def has_data(self) -> bool:
        return self.method in _WITH_DATA or self.method not in STANDARD_METHODS

    def socket_arguments(self) -> tuple[Any, ...]:
        """What follows the method name in the Socket.IO emit (`feathers-wire.md` 4.3):
        the path, then the id and/or data the method takes, then the query."""
        return (self.path, *((self.id,) if self.has_id else ()), *((self.data,) if self.has_data else ()),
                dict(self.query))

    def __str__(self) -> str:
        return f"{self.method} on '{self.path}'"


class Transport:
    """How a client reaches the server: Socket.IO (`socket.SocketTransport`) or REST
    (`rest.RestTransport`)."""

    name: str
    events: bool
    """Whether service events arrive over this transport."""

    @property
    def connected(self) -> bool:
        raise NotImplementedError

    async def call(self, call: Call, *, login: bool = False) -> Any:
        """The call's result, waiting for a connection first; its Feathers error if it failed.
        A `login` (the authentication call) does not wait for a stored login to be restored."""
        raise NotImplementedError

    async def connect(self) -> None:
        """Wait until a call could be sent (nothing to wait for over REST)."""

    async def close(self) -> None:
        raise NotImplementedError


def error_from_wire(body: Any, status: int | None = None) -> errors.FeathersError:
    """The Feathers error a server sent: the class its `name` says, with `data` and `errors`."""
    if isinstance(body, dict) and ("name" in body or "message" in body):
        return errors.from_json({"code": status, **body} if status is not None and "code" not in body else body)
    return errors.from_json({"code": status, "message": str(body) if body else "Error"})


def gave_up_waiting(call: Call | None, url: str, seconds: float, problem: str | None) -> errors.Timeout:
    """No connection to the server in time: `call` (if any) was not sent."""
    reason = f" ({problem})" if problem else ""
    unsent = f"; {call} was not sent" if call is not None else ""
    return errors.Timeout(f"No connection to {url} within {seconds:g} s{reason}{unsent}", {"reason": "not-connected"})


def connection_lost(call: Call, url: str) -> errors.Unavailable:
    """A call whose answer the connection did not bring back (it may or may not have run)."""
    return errors.Unavailable(f"The connection to {url} was lost before the answer to {call} came; "
                              "the call may or may not have run", {"reason": "connection-lost"})


def backoff(attempt: int, delay: tuple[float, float]) -> float:
    """Seconds before reconnection attempt `attempt` (from 0): Socket.IO's rule, the first
    delay doubling up to the second, each randomised by +-50 %."""
    first, longest = delay
    return min(first * 2**min(attempt, 30), longest) * random.uniform(0.5, 1.5)


async def wait_until(future: asyncio.Future[Any], deadline: float) -> bool:
    """Wait for `future` until the loop time `deadline`; False when the time ran out. Its
    result is not consumed (other waiters see it too); its exception is raised."""
    remaining = deadline - asyncio.get_running_loop().time()
    if not future.done():
        if remaining <= 0:
            return False
        done, _ = await asyncio.wait({future}, timeout=remaining)
        if not done:
            return False
    future.result()
    return True

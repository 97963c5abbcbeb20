"""Ended sessions: tokens that stop counting before their `exp`.

A JWT is valid by its signature until it expires; to end one earlier the server must
remember that it ended. `Revocations` records three kinds of end in a `RevocationStore`
(memory, the `storage` database, or Redis; `revocation_stores.py`) and checks every token
against them on every request (`check`, called by the JWT strategy):

* `end_token(payload)`: one token (logout, `DELETE /authentication`);
* `end_subject(subject, keep=jti)`: every token of a user issued before now, except the
  token `keep` (a password change ends the other sessions, not the one making it);
* `end_api_key(key_id)`: every token obtained with that key (`apiKey` claim), when the
  key is revoked.

A check reads at most three keys in one round trip (`get_many`). Records expire when the
tokens they concern would have expired anyway: a token's at its `exp`, the others after
the longest token lifetime, so the store holds only what still matters.

"Issued before now" needs more precision than `iat` (whole seconds): a password change
and a new login in the same second must not end the new token. Tokens carry a UUIDv7
(RFC 9562) `jti`, whose first 48 bits are the issue time in milliseconds; tokens without
one count as issued at `iat`.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..clock import Clock
from ..errors import NotAuthenticated

__all__ = ["Revocation", "RevocationStore", "Revocations", "issued_ms", "keys_of", "token_id"]


def token_id(now_ms: int) -> str:
    """A UUIDv7 (RFC 9562 section 5.7): `now_ms` in the first 48 bits, 74 random bits."""
    random = int.from_bytes(os.urandom(10), "big")
    value = ((now_ms & 0xFFFF_FFFF_FFFF) << 80) | (0x7 << 76) | ((random >> 62) & 0xFFF) << 64 \
        | (0b10 << 62) | (random & 0x3FFF_FFFF_FFFF_FFFF)
    return str(uuid.UUID(int=value))


def issued_ms(payload: Mapping[str, Any]) -> int:
    """When a token was issued, in epoch ms: from a UUIDv7 `jti`, else from `iat`."""
    try:
        parsed = uuid.UUID(str(payload.get("jti")))
    except ValueError:
        parsed = None
    if parsed is not None and parsed.version == 7:
        return parsed.int >> 80
    return int(payload.get("iat") or 0) * 1000


class RevocationStore(Protocol):
    """Where ends are recorded: string values under string keys, each until `expires_at`."""

    shared: bool
    """Whether other processes see what this one records (Redis, MongoDB)."""

    async def setup(self) -> None: ...
    async def get_many(self, keys: Sequence[str]) -> list[str | None]: ...
    async def put(self, key: str, value: str, expires_at: float) -> None: ...
    async def close(self) -> None: ...


@dataclass(frozen=True)
class Revocation:
    """One recorded end: which tokens it concerns (`matches`) and why (`reason`)."""

    key: str
    reason: str
    before_ms: int | None = None
    keep: str | None = None

    def matches(self, payload: Mapping[str, Any]) -> bool:
        """Whether this end concerns the token of `payload`."""
        if self.key not in keys_of(payload):
            return False
        return self.before_ms is None or (issued_ms(payload) <= self.before_ms and payload.get("jti") != self.keep)


def _token_key(payload: Mapping[str, Any]) -> str:
    return f"token:{payload.get('jti')}"


def _subject_key(subject: Any) -> str:
    return f"subject:{subject}"


def _api_key_key(key_id: Any) -> str:
    return f"api-key:{key_id}"


def keys_of(payload: Mapping[str, Any]) -> list[str]:
    """The store keys under which an end of `payload`'s token would be recorded."""
    keys = [_token_key(payload), _subject_key(payload.get("sub"))]
    if payload.get("apiKey") is not None:
        keys.append(_api_key_key(payload["apiKey"]))
    return keys


class Revocations:
    """Records and checks ended sessions in `store`; `clock` tells the time and
    `max_lifetime` (seconds) is the longest a token lives."""

    def __init__(self, store: RevocationStore, clock: Clock, max_lifetime: float) -> None:
        self.store = store
        self.clock = clock
        self.max_lifetime = max_lifetime

    @staticmethod
    def _ending(key: str, value: str | None) -> Revocation | None:
        if value is None:
            return None
        recorded = json.loads(value)
        return Revocation(key, recorded["reason"], recorded.get("before"), recorded.get("keep"))

    def ended_by(self, payload: Mapping[str, Any], values: Sequence[str | None]) -> Revocation | None:
        """The end among the stored `values` (for `keys_of(payload)`) that ends this token."""
        for key, value in zip(keys_of(payload), values, strict=False):
            ending = self._ending(key, value)
            if ending is not None and ending.matches(payload):
                return ending
        return None

    async def check(self, payload: Mapping[str, Any]) -> None:
        """Raise `NotAuthenticated` (`data.name` "TokenRevokedError", `data.reason`) when
        the token of `payload` has been ended."""
        ending = self.ended_by(payload, await self.store.get_many(keys_of(payload)))
        if ending is not None:
            raise NotAuthenticated("Token revoked", {"name": "TokenRevokedError", "reason": ending.reason})

    async def ended_among(self, payloads: Iterable[Mapping[str, Any]]) -> list[int]:
        """Indexes of the `payloads` whose tokens have been ended (one store round trip)."""
        payloads = list(payloads)
        keyed = [keys_of(payload) for payload in payloads]
        values = await self.store.get_many([key for keys in keyed for key in keys]) if payloads else []
        ended, start = [], 0
        for index, (payload, keys) in enumerate(zip(payloads, keyed, strict=True)):
            if self.ended_by(payload, values[start:start + len(keys)]) is not None:
                ended.append(index)
            start += len(keys)
        return ended

    async def _record(self, revocation: Revocation, expires_at: float) -> Revocation:
        value: dict[str, Any] = {"reason": revocation.reason}
        if revocation.before_ms is not None:
            value.update(before=revocation.before_ms, keep=revocation.keep)
        await self.store.put(revocation.key, json.dumps(value), expires_at)
        return revocation

    async def end_token(self, payload: Mapping[str, Any], reason: str = "logout") -> Revocation:
        """End one token, until its `exp`."""
        expires = payload.get("exp")
        until = float(expires) if isinstance(expires, (int, float)) else self.clock.time() + self.max_lifetime
        return await self._record(Revocation(_token_key(payload), reason), until)

    async def end_subject(self, subject: Any, *, keep: str | None = None, reason: str = "password") -> Revocation:
        """End every token of `subject` issued before now, except the token with jti `keep`."""
        ending = Revocation(_subject_key(subject), reason, self.clock.now_ms(), keep)
        return await self._record(ending, self.clock.time() + self.max_lifetime)

    async def end_api_key(self, key_id: Any, reason: str = "api-key") -> Revocation:
        """End every token obtained with the API key `key_id`."""
        return await self._record(Revocation(_api_key_key(key_id), reason), self.clock.time() + self.max_lifetime)

"""JSON Web Tokens through pyjwt, failing with the messages Feathers' clients know.

Feathers signs with jsonwebtoken; its error messages (`jwt expired`, `invalid signature`,
...) and error names travel to clients inside `NotAuthenticated`, so pyjwt's exceptions are
mapped onto them here.

Time comes from the injected clock (`cryptorobot.clock`), not from pyjwt's own reading of
the system clock: `iat`/`exp` are set from it, and `exp`, `nbf` and `iat` are checked
against it with pyjwt's rules (expired once `now >= exp`; not active while `nbf > now` or
`iat > now`), which are jsonwebtoken's for `exp` and `nbf`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import jwt

from ..clock import Clock, SystemClock
from ..errors import NotAuthenticated
from .revocation import token_id

__all__ = ["TokenIssuer", "parse_duration"]

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31557600}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|y)?\s*$")


def parse_duration(value: str | int | float) -> int:
    """Seconds in `"1d"`, `"12h"`, `"30m"`, `3600` (zeit/ms style, as Feathers' `expiresIn`)."""
    if isinstance(value, (int, float)):
        return int(value)
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"not a duration: {value!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2) or "s"])


def _expired_at(token: str) -> str | None:
    exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    if not isinstance(exp, (int, float)):
        return None
    return datetime.fromtimestamp(exp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_TIME_CLAIMS = (("iat", jwt.InvalidIssuedAtError), ("nbf", jwt.DecodeError), ("exp", jwt.DecodeError))


def _check_times(claims: Mapping[str, Any], now: float) -> None:
    """pyjwt's time checks in pyjwt's order (`iat`, `nbf`, `exp`), against `now` (epoch
    seconds) instead of the system clock."""
    for name, invalid in _TIME_CLAIMS:
        if name not in claims:
            continue
        try:
            value = int(claims[name])
        except (TypeError, ValueError, OverflowError):
            raise invalid(f"the {name} claim must be an integer") from None
        if name == "exp" and value <= now:
            raise jwt.ExpiredSignatureError("Signature has expired")
        if name != "exp" and value > now:
            raise jwt.ImmatureSignatureError(f"The token is not yet valid ({name})")


class TokenIssuer:
    """Creates and verifies access tokens with one secret and one set of claims; `clock`
    (default: the system clock) is the time they are issued and checked at."""

    def __init__(self, secret: str, *, algorithm: str = "HS256", audience: str | None = None,
                 issuer: str | None = None, expires_in: str | int = "1d", token_type: str = "access",
                 clock: Clock | None = None) -> None:
        if not isinstance(secret, str) or not secret:
            raise ValueError("the authentication secret must be a non-empty string")
        self._secret = secret
        self.algorithm = algorithm
        # Empty means "none" (an empty environment override): pyjwt would demand an `aud` claim.
        self.audience = audience or None
        self.issuer = issuer or None
        self.lifetime = parse_duration(expires_in)
        self.token_type = token_type
        self.clock: Clock = clock or SystemClock()

    def create(self, subject: str, payload: Mapping[str, Any] | None = None) -> str:
        now = int(self.clock.time())
        # The jti is a UUIDv7: it tells the issue time to the millisecond (see revocation.py).
        claims: dict[str, Any] = {**(payload or {}), "iat": now, "exp": now + self.lifetime,
                                  "sub": str(subject), "jti": token_id(self.clock.now_ms())}
        if self.audience:
            claims["aud"] = self.audience
        if self.issuer:
            claims["iss"] = self.issuer
        return jwt.encode(claims, self._secret, algorithm=self.algorithm, headers={"typ": self.token_type})

    def _decode(self, token: str) -> dict[str, Any]:
        """pyjwt's checks, with the times checked against our clock where pyjwt would check them."""
        now = self.clock.time()
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._secret, algorithms=[self.algorithm], audience=self.audience, issuer=self.issuer,
                options={"require": ["exp", "iat", "sub"], "verify_exp": False, "verify_nbf": False,
                         "verify_iat": False})
        except (jwt.InvalidIssuerError, jwt.InvalidAudienceError):
            # The signature held; pyjwt checks the times before these claims, and so do we.
            _check_times(jwt.decode(token, options={"verify_signature": False}), now)
            raise
        _check_times(claims, now)
        return claims

    def verify(self, token: Any) -> dict[str, Any]:
        """The token's claims; any failure is `NotAuthenticated` with jsonwebtoken's message."""
        if not isinstance(token, str) or not token:
            raise NotAuthenticated("No access token")
        parts = token.split(".")
        if len(parts) != 3:
            raise NotAuthenticated("jwt malformed", {"name": "JsonWebTokenError"})
        if not parts[2].strip():  # unsigned (`alg: none`): never accepted
            raise NotAuthenticated("jwt signature is required", {"name": "JsonWebTokenError"})
        try:
            return self._decode(token)
        except jwt.ExpiredSignatureError:
            raise NotAuthenticated("jwt expired", {"name": "TokenExpiredError", "expiredAt": _expired_at(token)}) from None
        except jwt.InvalidAlgorithmError:
            raise NotAuthenticated("invalid algorithm", {"name": "JsonWebTokenError"}) from None
        except jwt.InvalidSignatureError:
            raise NotAuthenticated("invalid signature", {"name": "JsonWebTokenError"}) from None
        except jwt.InvalidAudienceError:
            raise NotAuthenticated(f"jwt audience invalid. expected: {self.audience}", {"name": "JsonWebTokenError"}) from None
        except jwt.InvalidIssuerError:
            raise NotAuthenticated(f"jwt issuer invalid. expected: {self.issuer}", {"name": "JsonWebTokenError"}) from None
        except jwt.ImmatureSignatureError:
            raise NotAuthenticated("jwt not active", {"name": "NotBeforeError"}) from None
        except jwt.PyJWTError:  # e.g. three parts that do not decode, a missing claim
            raise NotAuthenticated("invalid token", {"name": "JsonWebTokenError"}) from None

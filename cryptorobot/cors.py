"""Which browser origins may call the API: one policy for REST and the Socket.IO handshake.

The `[cors] origins` setting:

* `"*"`: any origin (development's default). REST answers `Access-Control-Allow-Origin: *`
  and never allows credentials, so a page elsewhere can read what it could fetch anyway
  with its own token, and nothing a browser holds for this site (cookies) goes with it.
* a list of origins (`["https://app.example.com"]`): exactly those. REST echoes a listed
  origin; the Socket.IO polling handshake allows credentials for them (sticky-session
  cookies behind a load balancer).
* `[]` or `""`: none (production's default). REST sends no CORS headers, and Socket.IO
  accepts browser connections from its own origin only (the `Host` the request came to).

`null` (sandboxed frames, `file:` pages) is never an allowed origin, even when listed.
Clients outside browsers send no `Origin` and are never affected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["CorsPolicy"]

_ALLOWED_VERBS = "GET,HEAD,PUT,PATCH,POST,DELETE"
_ALLOWED_HEADERS = "Authorization,Content-Type,X-Service-Method,X-API-Key"
_EXPOSED_HEADERS = "X-RateLimit-Limit,X-RateLimit-Remaining,X-RateLimit-Reset,Retry-After"
"""Response headers a page may read besides the CORS-safelisted ones (`cryptorobot.ratelimit`)."""


@dataclass(frozen=True)
class CorsPolicy:
    """`origins` None: any origin; a tuple: exactly those (empty: none)."""

    origins: tuple[str, ...] | None = ()

    @classmethod
    def from_setting(cls, value: Any) -> CorsPolicy:
        """From `"*"`, `["*"]`, a list of origins, one origin as a string, or `[]`/`""`/None."""
        if value is None or value == "":
            return cls(())
        listed = [value] if isinstance(value, str) else [str(origin) for origin in value]
        if "*" in listed:
            return cls(None)
        return cls(tuple(origin.rstrip("/") for origin in listed if origin and origin != "null"))

    def allows(self, origin: str | None) -> bool:
        """Whether a request from `origin` may read the response (no `Origin`: not a CORS request)."""
        if not origin or origin == "null":
            return self.origins is None and origin == "null"
        return self.origins is None or origin in self.origins

    def headers(self, origin: str | None) -> dict[str, str]:
        """The CORS headers of a REST response to a request from `origin`."""
        if not origin or not self.allows(origin):
            return {}
        if self.origins is None:
            return {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": _EXPOSED_HEADERS}
        return {"Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": _EXPOSED_HEADERS,
                "Vary": "Origin"}

    def preflight_headers(self, origin: str | None, requested_headers: str | None) -> dict[str, str]:
        """The headers of a REST answer to an `OPTIONS` preflight from `origin`."""
        headers = self.headers(origin)
        if headers:
            headers["Access-Control-Allow-Methods"] = _ALLOWED_VERBS
            headers["Access-Control-Allow-Headers"] = requested_headers or _ALLOWED_HEADERS
            headers["Access-Control-Max-Age"] = "600"
        return headers

    def engineio_options(self) -> dict[str, Any]:
        """`cors_allowed_origins` and `cors_credentials` for python-engineio's server."""
        if self.origins is None:
            return {"cors_allowed_origins": "*", "cors_credentials": False}
        if not self.origins:  # engineio's None: the request's own origin only
            return {"cors_allowed_origins": None, "cors_credentials": False}
        return {"cors_allowed_origins": list(self.origins), "cors_credentials": True}

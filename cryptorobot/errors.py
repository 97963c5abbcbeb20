"""Errors with Feathers' names, codes and JSON shape, so the official clients rebuild them.

Hierarchy::

    FeathersError                  (never raised itself; `code` decides the HTTP status)
    ├── BadRequest           400   invalid data, query or arguments
    ├── NotAuthenticated     401
    ├── PaymentError         402
    ├── Forbidden            403
    ├── NotFound             404   unknown record, service or path
    ├── MethodNotAllowed     405   method not exposed, multi not allowed
    ├── NotAcceptable        406
    ├── Timeout              408
    ├── Conflict             409   duplicate key
    ├── Gone                 410
    ├── LengthRequired       411
    ├── PayloadTooLarge      413   (not in Feathers' client table; arrives as a plain error)
    ├── Unprocessable        422
    ├── TooManyRequests      429
    │   ├── RateLimitExceeded        a budget of calls is spent (`cryptorobot.ratelimit`)
    │   ├── TooManyAttempts          too many failed passwords or keys (`cryptorobot.auth.throttle`)
    │   ├── TooManyCallsInFlight     one socket runs too many calls at once
    │   └── ConnectionLimitExceeded  a user's realtime connections are at their cap
    ├── GeneralError         500   anything unexpected; reveals no internals
    ├── NotImplemented       501
    ├── BadGateway           502
    └── Unavailable          503   a backing store or exchange is out of reach

The refinements under `TooManyRequests` cross the wire as `TooManyRequests` (same name,
code and class name): they only tell an app's error presenter (`App.present_error`) which
refusal it is, e.g. to stamp a machine code in `data`. `headers` of any error are HTTP
headers the REST transport adds to its response (`Retry-After`); they never reach the JSON.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "FeathersError", "BadRequest", "NotAuthenticated", "PaymentError", "Forbidden", "NotFound",
    "MethodNotAllowed", "NotAcceptable", "Timeout", "Conflict", "Gone", "LengthRequired",
    "PayloadTooLarge", "Unprocessable", "TooManyRequests", "RateLimitExceeded", "TooManyAttempts",
    "TooManyCallsInFlight", "ConnectionLimitExceeded", "GeneralError", "NotImplementedError_", "BadGateway",
    "Unavailable", "convert", "from_json", "has_data", "has_errors",
]

_UNSET: Any = object()


class FeathersError(Exception):
    """Base of every error that crosses the wire as `{name, message, code, className, ...}`.

    Construction follows Feathers: `data` given as a list is kept as it is (validation
    error lists); given as a dict, its `message` replaces the message, its `errors` becomes
    `errors`, and the remaining keys become `data`.
    """

    code = 500
    class_name = "general-error"

    def __init__(self, message: Any = None, data: Any = _UNSET, *, errors: Any = _UNSET) -> None:
        self.data: Any = _UNSET
        self.errors: Any = errors
        self.headers: dict[str, str] = {}
        """HTTP headers for a REST response carrying this error (not part of the JSON)."""
        if isinstance(message, dict):
            source, message = message, None
            data = source if data is _UNSET else {**source, **data}
        if isinstance(data, dict):
            data = dict(data)
            if "message" in data:
                message = data.pop("message")
            if "errors" in data:
                self.errors = data.pop("errors")
        self.data = data
        self.message = "Error" if message is None else str(message)
        super().__init__(self.message)

    name = "FeathersError"

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "message": self.message,
            "code": self.code,
            "className": self.class_name,
        }
        if self.data is not _UNSET:
            body["data"] = self.data
        if self.errors is not _UNSET:
            body["errors"] = self.errors
        return body

    def __repr__(self) -> str:
        return f"{self.name}({self.message!r})"


class BadRequest(FeathersError):
    """400 bad-request"""

    name, code, class_name = "BadRequest", 400, "bad-request"


class NotAuthenticated(FeathersError):
    """401 not-authenticated"""

    name, code, class_name = "NotAuthenticated", 401, "not-authenticated"


class PaymentError(FeathersError):
    """402 payment-error"""

    name, code, class_name = "PaymentError", 402, "payment-error"


class Forbidden(FeathersError):
    """403 forbidden"""

    name, code, class_name = "Forbidden", 403, "forbidden"


class NotFound(FeathersError):
    """404 not-found"""

    name, code, class_name = "NotFound", 404, "not-found"


class MethodNotAllowed(FeathersError):
    """405 method-not-allowed"""

    name, code, class_name = "MethodNotAllowed", 405, "method-not-allowed"


class NotAcceptable(FeathersError):
    """406 not-acceptable"""

    name, code, class_name = "NotAcceptable", 406, "not-acceptable"


class Timeout(FeathersError):
    """408 timeout"""

    name, code, class_name = "Timeout", 408, "timeout"


class Conflict(FeathersError):
    """409 conflict"""

    name, code, class_name = "Conflict", 409, "conflict"


class Gone(FeathersError):
    """410 gone"""

    name, code, class_name = "Gone", 410, "gone"


class LengthRequired(FeathersError):
    """411 length-required"""

    name, code, class_name = "LengthRequired", 411, "length-required"


class PayloadTooLarge(FeathersError):
    """413 payload-too-large"""

    name, code, class_name = "PayloadTooLarge", 413, "payload-too-large"


class Unprocessable(FeathersError):
    """422 unprocessable"""

    name, code, class_name = "Unprocessable", 422, "unprocessable"


class TooManyRequests(FeathersError):
    """429 too-many-requests"""

    name, code, class_name = "TooManyRequests", 429, "too-many-requests"


class RateLimitExceeded(TooManyRequests):
    """429: the caller's budget of calls for the window is spent (`Retry-After` says when
    one frees up)."""


class TooManyAttempts(TooManyRequests):
    """429: too many failed passwords or API keys from this address or for this account."""


class TooManyCallsInFlight(TooManyRequests):
    """429: one socket connection has too many calls running at once."""


class ConnectionLimitExceeded(TooManyRequests):
    """429: a user's realtime connections are at their cap (sent with the closing of the
    connection that made room, not as a call's answer)."""


class GeneralError(FeathersError):
    """500 general-error"""

    name, code, class_name = "GeneralError", 500, "general-error"


# Python already has NotImplementedError; the wire name stays "NotImplemented".
class NotImplementedError_(FeathersError):
    """501 not-implemented"""

    name, code, class_name = "NotImplemented", 501, "not-implemented"


class BadGateway(FeathersError):
    """502 bad-gateway"""

    name, code, class_name = "BadGateway", 502, "bad-gateway"


class Unavailable(FeathersError):
    """503 unavailable"""

    name, code, class_name = "Unavailable", 503, "unavailable"


_BY_NAME: dict[str, type[FeathersError]] = {
    cls.name: cls
    for cls in (BadRequest, NotAuthenticated, PaymentError, Forbidden, NotFound, MethodNotAllowed,
                NotAcceptable, Timeout, Conflict, Gone, LengthRequired, PayloadTooLarge,
                Unprocessable, TooManyRequests, GeneralError, NotImplementedError_, BadGateway,
                Unavailable)
}
_BY_CODE: dict[int, type[FeathersError]] = {cls.code: cls for cls in _BY_NAME.values()}


def has_data(error: FeathersError) -> bool:
    """Whether `error` carries `data` (Feathers leaves it out of the JSON when unset)."""
    return error.data is not _UNSET


def has_errors(error: FeathersError) -> bool:
    """Whether `error` carries per-field `errors` (a validation failure)."""
    return error.errors is not _UNSET


def convert(exc: BaseException) -> FeathersError:
    """The error a client should see: Feathers errors as they are, anything else a bare 500."""
    if isinstance(exc, FeathersError):
        return exc
    return GeneralError("Internal server error")


def from_json(body: dict[str, Any]) -> FeathersError:
    """Rebuild an error received from a server (used by the Python client)."""
    code = body.get("code")
    cls = _BY_NAME.get(str(body.get("name"))) or (_BY_CODE.get(code) if isinstance(code, int) else None) or GeneralError
    error = cls(body.get("message"))
    if "data" in body:
        error.data = body["data"]
    if "errors" in body:
        error.errors = body["errors"]
    return error

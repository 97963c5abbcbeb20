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
    ├── GeneralError         500   anything unexpected; reveals no internals
    ├── NotImplemented       501
    ├── BadGateway           502
    └── Unavailable          503   a backing store or exchange is out of reach
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "FeathersError", "BadRequest", "NotAuthenticated", "PaymentError", "Forbidden", "NotFound",
    "MethodNotAllowed", "NotAcceptable", "Timeout", "Conflict", "Gone", "LengthRequired",
    "PayloadTooLarge", "Unprocessable", "TooManyRequests", "GeneralError", "NotImplementedError_",
    "BadGateway", "Unavailable", "convert", "from_json",
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


def _error(name: str, code: int, class_name: str, wire_name: str | None = None) -> type[FeathersError]:
    attrs = {"name": wire_name or name, "code": code, "class_name": class_name, "__doc__": f"{code} {class_name}"}
    return type(name, (FeathersError,), attrs)


BadRequest = _error("BadRequest", 400, "bad-request")
NotAuthenticated = _error("NotAuthenticated", 401, "not-authenticated")
PaymentError = _error("PaymentError", 402, "payment-error")
Forbidden = _error("Forbidden", 403, "forbidden")
NotFound = _error("NotFound", 404, "not-found")
MethodNotAllowed = _error("MethodNotAllowed", 405, "method-not-allowed")
NotAcceptable = _error("NotAcceptable", 406, "not-acceptable")
Timeout = _error("Timeout", 408, "timeout")
Conflict = _error("Conflict", 409, "conflict")
Gone = _error("Gone", 410, "gone")
LengthRequired = _error("LengthRequired", 411, "length-required")
PayloadTooLarge = _error("PayloadTooLarge", 413, "payload-too-large")
Unprocessable = _error("Unprocessable", 422, "unprocessable")
TooManyRequests = _error("TooManyRequests", 429, "too-many-requests")
GeneralError = _error("GeneralError", 500, "general-error")
# Python already has NotImplementedError; the wire name stays "NotImplemented".
NotImplementedError_ = _error("NotImplementedError_", 501, "not-implemented", "NotImplemented")
BadGateway = _error("BadGateway", 502, "bad-gateway")
Unavailable = _error("Unavailable", 503, "unavailable")

_BY_NAME: dict[str, type[FeathersError]] = {
    cls.name: cls
    for cls in (BadRequest, NotAuthenticated, PaymentError, Forbidden, NotFound, MethodNotAllowed,
                NotAcceptable, Timeout, Conflict, Gone, LengthRequired, PayloadTooLarge,
                Unprocessable, TooManyRequests, GeneralError, NotImplementedError_, BadGateway,
                Unavailable)
}
_BY_CODE: dict[int, type[FeathersError]] = {cls.code: cls for cls in _BY_NAME.values()}


def convert(exc: BaseException) -> FeathersError:
    """The error a client should see: Feathers errors as they are, anything else a bare 500."""
    if isinstance(exc, FeathersError):
        return exc
    return GeneralError("Internal server error")


def from_json(body: dict[str, Any]) -> FeathersError:
    """Rebuild an error received from a server (used by the Python client)."""
    cls = _BY_NAME.get(str(body.get("name"))) or _BY_CODE.get(body.get("code"), GeneralError)  # type: ignore[arg-type]
    error = cls(body.get("message"))
    if "data" in body:
        error.data = body["data"]
    if "errors" in body:
        error.errors = body["errors"]
    return error

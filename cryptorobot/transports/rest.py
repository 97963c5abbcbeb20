"""REST over aiohttp: one catch-all handler mapping HTTP verbs onto service methods.

`app.lookup` resolves the path (Feathers' matching rules, each segment percent-decoded),
as it does for Socket.IO, so both transports agree on every path. Query strings are parsed like Node's `qs`; values stay
strings here (schemas coerce them later in the hook chain).

Every failure leaves as the app's presentation of it (`App.present_error`), with the
error's own `headers`. With rate limits (`app.rate_limits`) every request is charged (a
request that failed before being charged is charged to its address afterwards) and its
response carries the `X-RateLimit-*` headers of the budget it was charged to.
`params["ip"]` is the client's address (`client_address`, `trusted_proxies` setting).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web

from .. import jsonutil
from ..cors import CorsPolicy
from ..errors import BadRequest, FeathersError, MethodNotAllowed, NotFound, PayloadTooLarge
from ..ratelimit import CHARGED
from ..service import STANDARD_METHODS, argument_names
from .client_address import client_address
from .querystring import parse_query_string

if TYPE_CHECKING:
    from ..app import App
    from ..service import ServiceProxy

__all__ = ["RestTransport"]

log = logging.getLogger("cryptorobot.rest")

_BODY_VERBS = frozenset({"POST", "PUT", "PATCH"})
_JSON = "application/json"


def _js_falsy(value: Any) -> bool:
    """JavaScript falsiness for a response body: None, False, 0 and "" (not [] or {})."""
    return value is None or value is False or (type(value) in (int, float) and value == 0) or value == ""


def _method_for(verb: str, has_id: bool, custom: str | None) -> str:
    if verb == "GET":
        return "get" if has_id else "find"
    if verb == "POST":
        return custom or "create"
    if verb == "PUT":
        return "update"
    if verb == "PATCH":
        return "patch"
    if verb == "DELETE":
        return "remove"
    raise MethodNotAllowed(f"Method {verb} not allowed")


class RestTransport:
    """Serves every registered service over HTTP; attach last, it owns the catch-all route."""

    def __init__(self, app: App, *, cors: CorsPolicy | None = None, max_body_size: int = 1024 * 1024,
                 trusted_proxies: int = 0) -> None:
        """`cors`: which browser origins may read responses (default: any, `cryptorobot.cors`);
        `trusted_proxies`: how many proxies in front append to `X-Forwarded-For` (`client_address`)."""
        self.app = app
        self.cors = cors or CorsPolicy(None)
        self.max_body_size = max_body_size
        self.trusted_proxies = trusted_proxies

    def attach(self, web_app: web.Application) -> None:
        # `[\s\S]`, not `.`: a path with an encoded newline (`/users/a%0Ab`) is still ours (a JSON 404).
        web_app.router.add_route("*", r"/{tail:[\s\S]*}", self.handle)

    def _cors_headers(self, request: web.Request) -> dict[str, str]:
        return self.cors.headers(request.headers.get("Origin"))

    def _preflight(self, request: web.Request) -> web.Response:
        headers = self.cors.preflight_headers(request.headers.get("Origin"),
                                              request.headers.get("Access-Control-Request-Headers"))
        return web.Response(status=204, headers=headers)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            return self._preflight(request)
        received = {name.lower(): value for name, value in request.headers.items()}
        params: dict[str, Any] = {"provider": "rest", "headers": received,
                                  "ip": client_address(request.remote, received, self.trusted_proxies)}
        failure: Exception | None = None
        status, text = 500, None
        headers: dict[str, str] = {}
        try:
            status, body, headers = await self._dispatch(request, params)
            text = None if status == 204 else jsonutil.dumps(body)  # may fail: not JSON
        except Exception as caught:
            failure = caught
            if not isinstance(failure, FeathersError):
                log.exception("%s %s failed", request.method, request.path)
        limits = self.app.rate_limits
        if limits is not None:
            failure = await limits.settle(params, failed=failure is not None) or failure
        if failure is not None:  # every failure leaves as Feathers error JSON
            error = self.app.present_error(failure)
            status, text, headers = error.code, jsonutil.dumps(error.to_json()), dict(error.headers)
        window = params.get(CHARGED)
        if window is not None:
            headers = {**window.headers(), **headers}
        headers.update(self._cors_headers(request))
        if text is None:
            return web.Response(status=204, headers=headers)
        return web.Response(status=status, text=text, content_type=_JSON, headers=headers)

    async def _dispatch(self, request: web.Request, params: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        """Run the request's service call with `params` (provider, headers and ip set)."""
        raw_path = request.raw_path.split("?", 1)[0]
        found = self.app.lookup(raw_path, percent_encoded=True)
        if found is None:
            raise NotFound(f"Path {raw_path} not found")
        proxy, id, route = found
        custom = request.headers.get("X-Service-Method") if request.method == "POST" else None
        method = _method_for(request.method, id is not None, custom)
        self._check_exposed(proxy, method, custom)
        data = await self._read_body(request) if request.method in _BODY_VERBS else None
        params.update(query=self._read_query(request), route=route)
        authentication = self.app.parse_authentication(params["headers"])
        if authentication is not None:
            params["authentication"] = authentication
        values = {"id": id, "data": data}
        context = await proxy.run(method, [values[name] for name in argument_names(method)], params)
        return self._status(method, context), context.outgoing, self._headers(context)

    @staticmethod
    def _check_exposed(proxy: ServiceProxy, method: str, custom: str | None) -> None:
        if (custom is not None and custom in STANDARD_METHODS) or method not in proxy.methods:
            raise MethodNotAllowed(f"Method `{method}` is not supported by this endpoint.")

    @staticmethod
    def _read_query(request: web.Request) -> dict[str, Any]:
        raw = request.rel_url.raw_query_string  # `query_string` is already decoded once
        if not raw:
            return {}
        try:
            return parse_query_string(raw)
        except ValueError as problem:
            raise BadRequest(f"Invalid query string: {problem}") from None

    async def _read_body(self, request: web.Request) -> Any:
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise PayloadTooLarge(f"Request body larger than {self.max_body_size} bytes") from None
        if not raw.strip():
            return {}
        content_type = request.content_type
        if content_type == "application/x-www-form-urlencoded":
            try:
                return parse_query_string(raw.decode("utf-8", "replace"))
            except ValueError as problem:
                raise BadRequest(f"Invalid form body: {problem}") from None
        try:
            return jsonutil.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("Invalid JSON in request body") from None

    @staticmethod
    def _headers(context: Any) -> dict[str, str]:
        """`context.http.headers`, after a `Location` from `context.http.location` (any status)."""
        headers: dict[str, str] = {}
        location = context.http.get("location")
        if location is not None:
            headers["Location"] = quote(str(location), safe=":/?#[]@!$&'()*+,;=%~")
        headers.update(context.http.get("headers") or {})
        return headers

    @staticmethod
    def _status(method: str, context: Any) -> int:
        http = context.http
        location = http.get("location")
        if http.get("status"):
            return int(http["status"])
        if method == "create":
            return 201
        if location is not None:
            return 303
        if _js_falsy(context.outgoing):
            return 204
        return 200

"""HTTP connection hygiene for the aiohttp server that carries both transports.

* **Timeouts** (`HttpLimits`, the `[rest]` settings): a connection that has not sent a
  complete request line and headers within `keepalive_timeout` seconds of opening, or of
  its previous response, is closed (aiohttp's keep-alive timer covers both cases). A
  request whose body has not fully arrived within `request_timeout` seconds is answered
  `408 Timeout` and its connection closed after at most as long again (`body_deadline`, a
  middleware, so REST and the Socket.IO polling transport alike). Without these a
  half-sent request holds its connection (and a file descriptor) for 75 seconds or forever.
* **Client errors in one line** (`OneLineClientErrors`): aiohttp logs a malformed request
  (a 400 its parser raises) with a full traceback; these become one line at INFO. Server
  faults keep their tracebacks.
* **No versions in `Server`** (`hide_server_version`): aiohttp announces
  `Python/3.x aiohttp/3.x` on every response, its own error responses included.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web, web_response
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Middleware

from .. import jsonutil
from ..errors import FeathersError, Timeout, convert

__all__ = ["SERVER_NAME", "HttpLimits", "OneLineClientErrors", "body_deadline", "hide_server_version"]

SERVER_NAME = "cryptorobot"
"""The whole `Server` header: no versions to look vulnerabilities up by."""


@dataclass(frozen=True)
class HttpLimits:
    """Seconds an HTTP connection may take; see the module docstring."""

    keepalive_timeout: float = 5.0
    request_timeout: float = 10.0

    def handler_args(self, max_body_size: int) -> dict[str, Any]:
        """aiohttp request-handler arguments. The read buffer holds a whole body of
        `max_body_size`, so `body_deadline` can wait for one without reading it."""
        return {"keepalive_timeout": self.keepalive_timeout, "lingering_time": self.request_timeout,
                "read_bufsize": max(max_body_size, 2**16), "logger": OneLineClientErrors(logging.getLogger("aiohttp.server"))}


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def body_deadline(timeout: float, max_body_size: int,
                  present_error: Callable[[BaseException], FeathersError] = convert) -> Middleware:
    """A middleware: a request with a body is handled once the whole body has arrived,
    or answered `408 Timeout` (Feathers JSON, as `present_error` shows it) after `timeout`
    seconds. The body is left unread for the handler; one larger than `max_body_size` is
    left to the handler's 413."""

    @web.middleware
    async def body_deadline_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        content = request.content
        declared = request.content_length
        if request.body_exists and not content.is_eof() and (declared is None or declared <= max_body_size):
            try:
                async with asyncio.timeout(timeout):
                    await content.wait_eof()
            except TimeoutError:
                error = present_error(Timeout(f"The request was not received within {timeout:g} s"))
                return web.Response(status=error.code, text=jsonutil.dumps(error.to_json()),
                                    content_type="application/json", headers={"Connection": "close"})
        return await handler(request)

    return body_deadline_middleware


class OneLineClientErrors(logging.LoggerAdapter):
    """A logger for aiohttp's request handler: a request its parser refused (a 4xx
    `HttpProcessingError`) is one INFO line; every other exception keeps its traceback."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__(logger, {})

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        error = exc_info if isinstance(exc_info, BaseException) else sys.exc_info()[1]
        if isinstance(error, HttpProcessingError) and 400 <= (error.code or 0) < 500:
            text = " ".join(str(error.message).split())  # aiohttp's message points at the bad byte over 3 lines
            self.logger.info("%s: %d %s", str(msg) % args, error.code, text)
            return
        self.logger.error(msg, *args, exc_info=exc_info, **kwargs)  # .exception() is .error() with exc_info


def hide_server_version() -> None:
    """Make aiohttp's default `Server` header `SERVER_NAME` for every response of this
    process. aiohttp has no setting for it, and its own responses to malformed requests
    never reach the application's signals, so its default itself is replaced."""
    web_response.SERVER_SOFTWARE = SERVER_NAME  # type: ignore[attr-defined]

"""The client over REST (aiohttp), as `@feathersjs/rest-client` sends calls (`feathers-wire.md` 1.2, 1.3).

| call | request |
| --- | --- |
| `find(query)` | `GET /<path>?<query>` |
| `get(id, query)` | `GET /<path>/<id>?<query>` |
| `create(data, query)` | `POST /<path>` |
| `update(id, data, query)` | `PUT /<path>/<id>` (`PUT /<path>` for id None) |
| `patch(id, data, query)` | `PATCH /<path>/<id>` (`PATCH /<path>`: every record the query matches) |
| `remove(id, query)` | `DELETE /<path>/<id>` (`DELETE /<path>`: idem) |
| custom `name(data, query)` | `POST /<path>` with `X-Service-Method: <name>` |

Ids are percent-encoded as one path segment; the query string is `qs.stringify(query)`
(`querystring.stringify_query`). Every request carries `Accept: application/json`, the
client's headers (`X-API-Key` when it has one) and `Authorization: Bearer <token>` once logged
in; bodies are JSON. A 204 is None; an error status raises the Feathers error of its body.

A request that could not be sent because the server can not be reached (connection refused,
e.g. while it restarts) is tried again with Socket.IO's backoff for at most `connect_timeout`
seconds (`errors.Timeout`, `data.reason` `"not-connected"`). A connection dropped after the
request went out raises `errors.Unavailable` (`data.reason` `"connection-lost"`), except for
find, get and logins, which are sent again. Events do not exist over REST.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

from .. import errors, jsonutil
from .calls import STANDARD_METHODS, Call, Transport, backoff, connection_lost, error_from_wire, gave_up_waiting
from .querystring import stringify_query

__all__ = ["RestTransport"]

_VERBS = {"find": "GET", "get": "GET", "create": "POST", "update": "PUT", "patch": "PATCH", "remove": "DELETE"}
_JSON = "application/json"


class RestTransport(Transport):
    """Feathers calls as HTTP requests (module docstring)."""

    name = "rest"
    events = False

    def __init__(self, url: str, *, headers: Mapping[str, str], timeout: float | None, connect_timeout: float,
                 reconnect_delay: tuple[float, float], access_token: Callable[[], str | None]) -> None:
        self.url = url
        self.headers = dict(headers)
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.reconnect_delay = reconnect_delay
        self._access_token = access_token
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    @property
    def connected(self) -> bool:
        return not self._closed

    def request_for(self, call: Call) -> tuple[str, str, dict[str, str], str | None]:
        """(verb, URL, headers, JSON body) of `call`."""
        url = f"{self.url}/{call.path}"
        if call.has_id and call.id is not None:
            url += "/" + quote(str(call.id), safe="")
        query = stringify_query(call.query)
        if query:
            url += "?" + query
        headers = {"Accept": _JSON, **self.headers}
        token = self._access_token()
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if call.method not in STANDARD_METHODS:
            headers["X-Service-Method"] = call.method
        body = None
        if call.has_data:
            headers["Content-Type"] = _JSON
            body = jsonutil.dumps(call.data) if call.data is not None else None
        return _VERBS.get(call.method, "POST"), url, headers, body

    async def call(self, call: Call, *, login: bool = False) -> Any:
        if self._closed:
            raise RuntimeError("The client is closed")
        verb, url, headers, body = self.request_for(call)
        session = self._open_session()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.connect_timeout
        attempt = 0
        while True:
            try:
                async with session.request(verb, url, data=body, headers=headers) as response:
                    return await _answer(response)
            except aiohttp.ClientConnectorError as failure:  # not connected: nothing was sent
                problem = str(failure)
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ClientPayloadError) as failure:
                if not call.safe_to_repeat:
                    raise connection_lost(call, self.url) from failure
                problem = str(failure)
            except TimeoutError:
                raise errors.Timeout(f"No answer to {call} from {self.url} within {self.timeout:g} s",
                                     {"reason": "no-answer"}) from None
            pause = backoff(attempt, self.reconnect_delay)
            if loop.time() + pause > deadline:
                raise gave_up_waiting(call, self.url, self.connect_timeout, problem)
            attempt += 1
            await asyncio.sleep(pause)

    async def close(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session


async def _answer(response: aiohttp.ClientResponse) -> Any:
    if response.status == 204:
        return None
    text = await response.text()
    try:
        body = jsonutil.loads(text) if text else None
    except ValueError:
        body = None
        if response.status < 400:
            raise error_from_wire({"message": "JSON parsing error"}, response.status) from None
    if response.status >= 400:
        raise error_from_wire(body if body is not None else {"message": text or response.reason or "Error"},
                              response.status)
    return body

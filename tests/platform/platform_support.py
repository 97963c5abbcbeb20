"""Helpers for the platform tests (fixtures are in conftest.py)."""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptorobot import App, Connection, jsonutil

PASSWORD = "correct horse battery"
STORAGES = ["memory", "sqlite"]


def merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in override.items():
        result[key] = merged(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) else value
    return result


def as_json(value: Any) -> Any:
    """`value` as a client receives it (datetimes become ISO strings, ...)."""
    return json.loads(jsonutil.dumps(value))


def not_authenticated(message: str, code: str = "UNAUTHORIZED", data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The body of a 401 with machine code `code` and other `data`."""
    return {"name": "NotAuthenticated", "message": message, "code": 401, "className": "not-authenticated",
            "data": {"code": code, **(data or {})}}


def not_found(id: Any) -> dict[str, Any]:
    return {"name": "NotFound", "message": f"No record found for id '{id}'", "code": 404, "className": "not-found",
            "data": {"code": "NOT_FOUND"}}


def bad_request(errors: dict[str, Any]) -> dict[str, Any]:
    """The body of a 400 with per-field `errors`."""
    return {"name": "BadRequest", "message": "validation failed", "code": 400, "className": "bad-request",
            "data": {"code": "VALIDATION_FAILED"}, "errors": errors}


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


class Platform:
    """One served platform app and helpers for its REST API."""

    def __init__(self, app: App, http: Any) -> None:
        self.app = app
        self.http = http

    async def request(self, method: str, path: str, *, json: Any = None, data: Any = None, token: str | None = None,
                      api_key: str | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if api_key is not None:
            headers["X-API-Key"] = api_key
        response = await self.http.request(method, path, json=json, data=data, headers=headers)
        body = await response.json() if response.status != 204 else None
        return response.status, body

    async def sign_up(self, email: str, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
        status, body = await self.request("POST", "/users", json={"email": email, "password": password, **extra})
        assert status == 201, body
        return body

    async def login(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        status, body = await self.request("POST", "/authentication",
                                          json={"strategy": "local", "email": email, "password": password})
        assert status == 201, body
        return body

    async def member(self, email: str) -> tuple[dict[str, Any], str]:
        """A signed-up user (external form) and an access token for them."""
        await self.sign_up(email)
        result = await self.login(email)
        return result["user"], result["accessToken"]

    async def set_tier(self, user: dict[str, Any], tier: str) -> None:
        """Put `user` on `tier` (server code: `[ratelimit.tiers]`), e.g. "pro" for more than
        one logged-in socket."""
        await self.app.service("users").patch(user["_id"], {"tier": tier})

    async def stored(self, path: str, id: Any) -> dict[str, Any]:
        """The record as stored (internal call: nothing hidden)."""
        return await self.app.service(path).get(id)

    def connection(self, socket: Any) -> Connection:
        """The server side of a connected test socket."""
        from cryptorobot.server import SOCKETIO_KEY

        sid = socket.sio.get_sid("/")

        transport = self.http.server.app[SOCKETIO_KEY]
        return transport.connections[sid]

    def rooms_of(self, connection: Connection) -> list[str]:
        """The named channels holding `connection`, sorted."""
        return sorted(name for name in self.app.channels if connection in self.app.channel(name))


def add_notes(platform: Platform) -> None:
    """`notes`: an owned resource with no publisher of its own, so the platform's default
    (the owner's room) applies; every method is exposed and restricted to the owner."""
    from cryptorobot.adapters import MemoryService
    from hooks import authenticate, restrict_to_owner

    platform.app.use("notes", MemoryService(id="_id"))
    signed_in, owner_only = authenticate("jwt", "api-key"), restrict_to_owner("userId")
    platform.app.service("notes").hooks({"before": {"all": [signed_in, owner_only]}})


async def socket_login(socket: Any, email: str, password: str = PASSWORD) -> dict[str, Any]:
    """Log a test socket in with the local strategy; the successful result."""
    ack = await socket.call("create", "authentication", {"strategy": "local", "email": email, "password": password}, {})
    assert isinstance(ack, tuple) and ack[0] is None, ack
    return ack[1]

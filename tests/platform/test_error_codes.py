"""Every error leaving the platform carries `data.code` from the one table (`services/errors.py`),
over REST and Socket.IO, whether a hook, a service, the engine or a transport refused; the
table is the README's and the OpenAPI document's."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import engine.errors
from cryptorobot.adapters import MemoryService
from cryptorobot.auth import generate_api_key
from cryptorobot.config import load_config
from cryptorobot.openapi import openapi_spec
from cryptorobot.platform import create_app
from engine.errors import EngineError, InsufficientBalance
from platform_support import PASSWORD, Platform, socket_login
from services.errors import CODES, GENERIC, platform_error
from tests.conftest import WAIT
from tests.transports.raw_socket import RawSocket

README = Path(__file__).resolve().parents[2] / "README.md"
SETTINGS = {
    "trusted_proxies": 1,
    "rest": {"max_body_size": 4096, "request_timeout": 0.3},
    "socketio": {"max_message_size": 4096, "max_calls_in_flight": 2},
    "ratelimit": {"tiers": {"tiny": {"requests": 1, "connections": 1}}},
    "authentication": {"throttle": {"account_address": 1}},
}


class Probe:
    """Fails the ways a platform service can: `find` with a bug, `create` with an engine
    error, `get` waits at a gate (calls in flight pile up)."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def find(self, params: dict[str, Any]) -> Any:
        raise RuntimeError("a bug, with internals: /srv/secret/path")

    async def create(self, data: Any, params: dict[str, Any]) -> Any:
        raise InsufficientBalance("Not enough USDT: 10 free, 50 needed", currency="USDT", free=10, needed=50)

    async def get(self, id: Any, params: dict[str, Any]) -> Any:
        self.waiting.set()
        await self.gate.wait()
        return {"id": id}


@pytest.fixture
async def walk(make_platform: Callable[..., Awaitable[Platform]]) -> Platform:
    platform = await make_platform(**SETTINGS)
    platform.app.use("probe", Probe())
    platform.app.use("scratch", MemoryService(id="_id"))  # no schemas: the adapter's own query checks
    return platform


def coded(body: Any, expected: str) -> str:
    """The code of an error body, checked to be `expected` and in the table, with Feathers'
    shape intact."""
    assert isinstance(body, dict) and {"name", "message", "code", "className"} <= set(body), body
    code = body["data"]["code"]
    assert code in CODES, body
    assert CODES[code][0].code == body["code"], body  # the code's class is the status answered
    assert code == expected, body
    return code


async def test_rest_error_paths_all_carry_codes(walk: Platform) -> None:
    ann, token = await walk.member("ann@example.com")
    bob, _ = await walk.member("bob@example.com")
    key, hashed = generate_api_key()
    await walk.app.service("api-keys").raw.create({"name": "bot", "userId": ann["_id"], "hash": hashed})
    _, ended = await walk.member("cid@example.com")
    await walk.request("DELETE", "/authentication", token=ended)
    zed, zed_token = await walk.member("zed@example.com")
    await walk.set_tier(zed, "tiny")
    await walk.request("GET", "/users", token=zed_token)  # the tiny tier's one call
    json_headers = {"Content-Type": "application/json"}
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("no token", "GET /users", {}, "UNAUTHORIZED"),
        ("a forged token", "GET /users", {"token": "x.y.z"}, "UNAUTHORIZED"),
        ("an ended session", "GET /users", {"token": ended}, "TOKEN_REVOKED"),
        ("a wrong password", "POST /authentication", {"json": {"strategy": "local", "email": "ann@example.com",
                                                               "password": "wrong"}}, "UNAUTHORIZED"),
        ("a key managing the account", f"PATCH /users/{ann['_id']}", {"api_key": key, "json": {"name": "x"}},
         "FORBIDDEN"),
        ("a tier change by its user", f"PATCH /users/{ann['_id']}", {"token": token, "json": {"tier": "pro"}},
         "FORBIDDEN"),
        ("another user's record", f"GET /users/{bob['_id']}", {"token": token}, "NOT_FOUND"),
        ("an unknown path", "GET /no/such/thing", {}, "NOT_FOUND"),
        ("invalid data", "POST /users", {"json": {"email": "not an email", "password": PASSWORD}}, "VALIDATION_FAILED"),
        ("an unknown query field", "GET /users?colour=red", {"token": token}, "VALIDATION_FAILED"),
        ("bad JSON", "POST /users", {"data": "{not json", "headers": json_headers}, "BAD_REQUEST"),
        ("an array where none is taken", "POST /api-keys", {"token": token, "json": [{"name": "k"}]}, "BAD_REQUEST"),
        ("a query over the limits", "GET /api-keys?" + "&".join(f"$or[{n}][name]=k" for n in range(101)),
         {"token": token}, "BAD_REQUEST"),
        ("a method not exposed", f"PUT /users/{ann['_id']}", {"token": token, "json": {}}, "METHOD_NOT_ALLOWED"),
        ("a verb not served", "DELETE /health", {}, "METHOD_NOT_ALLOWED"),
        ("a taken email", "POST /users", {"json": {"email": "ann@example.com", "password": PASSWORD}}, "CONFLICT"),
        ("a body over the limit", "POST /users", {"data": json.dumps({"name": "x" * 5000}), "headers": json_headers},
         "PAYLOAD_TOO_LARGE"),
        ("a spent budget", "GET /users", {"token": zed_token}, "RATE_LIMIT_EXCEEDED"),
        ("an engine error", "POST /probe", {"json": {}}, "INSUFFICIENT_BALANCE"),
        ("a timeframe neither stored nor derivable",
         "GET /candles?exchange=sim&symbol=BTC/USD&timeframe=7x", {"token": token}, "INVALID_TIMEFRAME"),
        ("a bug", "GET /probe", {}, "INTERNAL_ERROR"),
        ("a refused query with a field named code", "GET /scratch?$or[0][code][0]=1&$or[0][$where]=1", {},
         "BAD_REQUEST"),
    ]
    seen = set()
    for label, line, options, expected in cases:
        method, path = line.split(" ", 1)
        status, body = await walk.request(method, path, **options)
        assert isinstance(body, dict) and "className" in body, (label, body)
        seen.add(coded(body, expected))
        assert status == body["code"], label
    status, body = await walk.request("GET", "/probe")
    assert body["message"] == "Internal server error" and "secret" not in json.dumps(body)
    # Failed passwords: the pair lock of this test's settings is one failure.
    status, body = await walk.request("POST", "/authentication", json={
        "strategy": "local", "email": "ann@example.com", "password": PASSWORD})
    seen.add(coded(body, "TOO_MANY_ATTEMPTS"))
    assert seen >= {"UNAUTHORIZED", "TOKEN_REVOKED", "FORBIDDEN", "NOT_FOUND", "VALIDATION_FAILED", "BAD_REQUEST",
                    "METHOD_NOT_ALLOWED", "CONFLICT", "PAYLOAD_TOO_LARGE", "RATE_LIMIT_EXCEEDED", "TOO_MANY_ATTEMPTS",
                    "INSUFFICIENT_BALANCE", "INVALID_TIMEFRAME", "INTERNAL_ERROR"}


async def test_a_body_that_never_arrives_is_a_coded_408(walk: Platform) -> None:
    reader, writer = await asyncio.open_connection(walk.http.server.host, walk.http.server.port)
    writer.write(b"POST /users HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 40\r\n\r\n{\"email\":")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), WAIT)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    coded(json.loads(body), "REQUEST_TIMEOUT")


async def test_socket_error_paths_all_carry_codes(walk: Platform, sockets: Any) -> None:
    ann, _ = await walk.member("ann@example.com")
    zed, zed_token = await walk.member("zed@example.com")
    await walk.set_tier(zed, "tiny")
    anonymous, socket = await sockets(walk.http), await sockets(walk.http)
    await socket_login(socket, "ann@example.com")
    tiny = await sockets(walk.http, headers={"Authorization": f"Bearer {zed_token}"})
    assert (await tiny.call("find", "users", {}))[0] is None  # the tiny tier's one call
    cases: list[tuple[Any, tuple[Any, ...], str]] = [
        (anonymous, ("find", "users", {}), "UNAUTHORIZED"),
        (anonymous, ("create", "authentication", {"strategy": "jwt", "accessToken": "x.y.z"}, {}), "UNAUTHORIZED"),
        (socket, ("get", "users", "nobody", {}), "NOT_FOUND"),
        (socket, ("find", "no/such/service", {}), "NOT_FOUND"),
        (socket, ("update", "users", ann["_id"], {}, {}), "METHOD_NOT_ALLOWED"),
        (socket, ("archive", "users", {}, {}), "METHOD_NOT_ALLOWED"),
        (anonymous, ("create", "users", {"email": "nope", "password": PASSWORD}, {}), "VALIDATION_FAILED"),
        (socket, ("find", "users", "not an object"), "BAD_REQUEST"),
        (socket, ("get", "users", ann["_id"], {}, {}, {}), "BAD_REQUEST"),
        (anonymous, ("create", "users", {"email": "ann@example.com", "password": PASSWORD}, {}), "CONFLICT"),
        (tiny, ("find", "users", {}), "RATE_LIMIT_EXCEEDED"),
        (socket, ("create", "probe", {}, {}), "INSUFFICIENT_BALANCE"),
        (socket, ("find", "candles", {"exchange": "sim", "symbol": "BTC/USD", "timeframe": "7x"}), "INVALID_TIMEFRAME"),
        (socket, ("find", "probe", {}), "INTERNAL_ERROR"),
        (socket, ("patch", "users", ann["_id"], {"tier": "pro"}, {}), "FORBIDDEN"),
    ]
    for client, call, expected in cases:
        answer = await client.call(*call)
        coded(answer, expected)
    refused = await asyncio.wait_for(_handshake_refusal(walk, "x.y.z"), WAIT)
    assert refused["data"]["code"] == "UNAUTHORIZED"


async def _handshake_refusal(platform: Platform, token: str) -> Any:
    """The `connect_error` data of a handshake with a bad token."""
    from tests.conftest import SocketClient

    client = SocketClient()
    refused: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    client.sio.on("connect_error", lambda data: refused.done() or refused.set_result(data))
    url = str(platform.http.make_url("")).rstrip("/")
    with contextlib.suppress(Exception):  # the client raises ConnectionError after connect_error
        await client.connect(url, {"Authorization": f"Bearer {token}"})
    return await refused


async def test_socket_transport_refusals_carry_codes(walk: Platform) -> None:
    """Refused by the guarded Socket.IO server itself, outside any hook."""
    probe: Probe = walk.app.service("probe").raw
    socket = await RawSocket.connect(walk.http)
    try:
        await socket.send(f'21["create","users",{{"name":"{"x" * 5000}"}}]')
        coded((await socket.answer(1))[0], "PAYLOAD_TOO_LARGE")
        await socket.send('22["find","users",{"a":' + "[" * 1900 + "]" * 1900 + "}]")  # deeper than json reads
        coded((await socket.answer(2))[0], "BAD_REQUEST")
        await socket.send("23[1]")
        coded((await socket.answer(3))[0], "BAD_REQUEST")
        for id in (4, 5, 6):
            await socket.send(f'2{id}["get","probe","x",{{}}]')
        coded((await socket.answer(6))[0], "TOO_MANY_CALLS_IN_FLIGHT")
        probe.gate.set()
        assert await socket.answer(4) == [None, {"id": "x"}]
    finally:
        await socket.close()


def readme_table() -> dict[str, tuple[int, str]]:
    """The README's error-code table: code -> (status, meaning)."""
    text = README.read_text()
    section = text[text.index("<!-- error codes: services/errors.py CODES -->"):]
    rows = re.findall(r"^\| `([A-Z_]+)` \| (\d{3}) \| (.+?) \|$", section.split("\n\n", 1)[0], re.MULTILINE)
    return {code: (int(status), meaning) for code, status, meaning in rows}


def test_the_readme_shows_the_table() -> None:
    assert readme_table() == {code: (cls.code, meaning) for code, (cls, meaning) in CODES.items()}


def test_every_engine_error_has_a_code_in_the_table() -> None:
    subclasses = [cls for cls in vars(engine.errors).values()
                  if isinstance(cls, type) and issubclass(cls, EngineError) and cls is not EngineError]
    assert subclasses and all(cls.code in CODES and cls.code not in GENERIC for cls in subclasses)


def test_the_openapi_document_lists_the_codes_each_operation_answers() -> None:
    settings = {**load_config("test", environ={}), "storage": "memory",
                "authentication": {**load_config("test", environ={})["authentication"], "secret": "openapi"}}
    spec = openapi_spec(create_app(settings))
    assert spec["components"]["schemas"]["ErrorCode"]["enum"] == list(CODES)
    error = spec["components"]["schemas"]["Error"]
    assert error["properties"]["data"]["properties"]["code"] == {"$ref": "#/components/schemas/ErrorCode"}

    def codes(path: str, verb: str, status: str) -> list[str]:
        schema = spec["paths"][path][verb]["responses"][status]["content"]["application/json"]["schema"]
        return schema["allOf"][1]["properties"]["data"]["properties"]["code"]["enum"]

    assert codes("/candles", "get", "400") == ["INVALID_TIMEFRAME", "BAD_REQUEST", "VALIDATION_FAILED"]
    assert codes("/users", "get", "400") == ["BAD_REQUEST", "VALIDATION_FAILED"]  # lists no codes of its own
    assert codes("/users", "post", "409") == ["CONFLICT"]
    assert codes("/users", "get", "401") == ["UNAUTHORIZED", "TOKEN_EXPIRED", "TOKEN_REVOKED"]
    assert codes("/users", "get", "429") == ["RATE_LIMIT_EXCEEDED", "TOO_MANY_ATTEMPTS"]  # no socket-only codes
    assert codes("/users", "get", "500") == ["INTERNAL_ERROR"]
    assert "INSUFFICIENT_BALANCE" not in codes("/exchanges", "get", "400")  # services list only their own codes


def test_a_platform_error_carries_its_code_and_details() -> None:
    error = platform_error("ACCOUNT_INACTIVE", "off", accountId=7)
    assert error.to_json() == {"name": "Conflict", "message": "off", "code": 409, "className": "conflict",
                               "data": {"code": "ACCOUNT_INACTIVE", "accountId": 7}}

"""HTTP connection hygiene (cryptorobot/transports/http_limits.py, cryptorobot/cors.py) over
real TCP connections: timeouts, the `Server` header, one-line client errors, CORS."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from cryptorobot import App
from cryptorobot.adapters import MemoryService
from cryptorobot.cors import CorsPolicy
from tests.conftest import WAIT

TIMEOUTS = {"keepalive_timeout": 0.3, "request_timeout": 0.3}


def make_app(**settings: Any) -> App:
    app = App({"rest": TIMEOUTS, **settings})
    app.use("items", MemoryService(id="id"))
    return app


@pytest.fixture
async def client(serve: Any) -> Any:
    return await serve(make_app())


async def raw_connection(client: Any) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(client.server.host, client.server.port)


async def read_until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection (within WAIT)."""
    return await asyncio.wait_for(reader.read(), WAIT)


# -- timeouts ------------------------------------------------------------------------------------

async def test_a_half_sent_request_line_and_headers_are_cut_off(client: Any) -> None:
    reader, writer = await raw_connection(client)
    writer.write(b"GET /items HTTP/1.1\r\nHost: localhost\r\n")  # never the blank line
    await writer.drain()
    assert await read_until_closed(reader) == b""
    writer.close()


async def test_an_idle_keep_alive_connection_is_closed(client: Any) -> None:
    reader, writer = await raw_connection(client)
    writer.write(b"GET /items HTTP/1.1\r\nHost: localhost\r\n\r\n")
    await writer.drain()
    answered = await read_until_closed(reader)  # the answer, then the close once idle
    assert answered.startswith(b"HTTP/1.1 200 OK") and answered.endswith(b"[]")
    writer.close()


@pytest.mark.parametrize("path", ["/items", "/socket.io/?EIO=4&transport=polling&sid=unknown"])
async def test_a_half_sent_body_is_answered_408_and_closed(client: Any, path: str) -> None:
    reader, writer = await raw_connection(client)
    writer.write(f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                 "Content-Length: 100\r\n\r\n{\"text\":".encode())
    await writer.drain()
    answered = await read_until_closed(reader)
    head, _, body = answered.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 Request Timeout")
    assert json.loads(body) == {"name": "Timeout", "code": 408, "className": "timeout",
                                "message": "The request was not received within 0.3 s"}
    writer.close()


async def test_a_large_body_sent_in_pieces_within_the_deadline_is_read_whole(serve: Any) -> None:
    client = await serve(make_app(rest={"request_timeout": 10, "keepalive_timeout": 5}))
    text = "x" * 900_000  # more than aiohttp's usual read buffer, less than max_body_size
    body = json.dumps({"text": text}).encode()
    reader, writer = await raw_connection(client)
    writer.write(b"POST /items HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
    for start in range(0, len(body), 100_000):
        writer.write(body[start:start + 100_000])
        await writer.drain()
    answered = await read_until_closed(reader)
    assert answered.startswith(b"HTTP/1.1 201 Created")
    assert json.loads(answered.partition(b"\r\n\r\n")[2]) == {"id": 0, "text": text}
    writer.close()


# -- the Server header and client errors in the log ------------------------------------------------

async def test_no_response_names_python_or_aiohttp_versions(client: Any) -> None:
    for path in ("/items", "/nowhere", "/openapi.json", "/socket.io/?EIO=4&transport=polling"):
        response = await client.get(path)
        assert response.headers["Server"] == "cryptorobot", path
    reader, writer = await raw_connection(client)
    writer.write(b"GET /items HTTP/1.1\r\nHost: localhost\r\nBroken header line\r\n\r\n")  # aiohttp's own 400
    await writer.drain()
    answered = await read_until_closed(reader)
    assert answered.split(b"\r\n")[0].endswith(b" 400 Bad Request")
    assert b"\r\nServer: cryptorobot\r\n" in answered
    writer.close()


@pytest.mark.parametrize("request_bytes", [
    b"GET /items HTTP/1.1\r\nHost: localhost\r\nBroken header line\r\n\r\n",
    b"GET /items HTTP/9.9\r\nHost: localhost\r\n\r\n",
    b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"POST /items HTTP/1.1\r\nHost: localhost\r\nContent-Length: -5\r\n\r\n",
])
async def test_a_malformed_request_logs_one_line(client: Any, caplog: pytest.LogCaptureFixture,
                                                 request_bytes: bytes) -> None:
    with caplog.at_level(logging.DEBUG, logger="aiohttp.server"):
        reader, writer = await raw_connection(client)
        writer.write(request_bytes)
        await writer.drain()
        answered = await read_until_closed(reader)
        writer.close()
    assert answered.split(b" ")[1].startswith(b"4")
    records = [record for record in caplog.records if record.name == "aiohttp.server" and record.levelno >= logging.INFO]
    assert len(records) == 1 and records[0].exc_info is None, caplog.text
    assert "\n" not in records[0].getMessage()


# -- CORS ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("setting", "origin", "expected"), [
    ("*", "https://anywhere.example", {"Access-Control-Allow-Origin": "*"}),
    ("*", "null", {"Access-Control-Allow-Origin": "*"}),
    (["https://app.example"], "https://app.example", {"Access-Control-Allow-Origin": "https://app.example", "Vary": "Origin"}),
    (["https://app.example"], "https://evil.example", {}),
    (["https://app.example", "null"], "null", {}),
    ([], "https://app.example", {}),
])
async def test_rest_cors_follows_the_policy(serve: Any, setting: Any, origin: str, expected: dict) -> None:
    client = await serve(make_app(cors={"origins": setting}))
    response = await client.get("/items", headers={"Origin": origin})
    shown = {name: response.headers[name] for name in ("Access-Control-Allow-Origin", "Vary") if name in response.headers}
    assert shown == expected
    assert "Access-Control-Allow-Credentials" not in response.headers


async def handshake(client: Any, origin: str) -> Any:
    return await client.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": origin})


@pytest.mark.parametrize("origin", ["https://evil.example", "null"])
async def test_the_polling_handshake_never_allows_credentials_to_any_origin(serve: Any, origin: str) -> None:
    client = await serve(make_app(cors={"origins": "*"}))
    response = await handshake(client, origin)
    assert response.status == 200
    assert response.headers.get("Access-Control-Allow-Credentials") != "true"


async def test_the_polling_handshake_allows_listed_origins_only(serve: Any) -> None:
    client = await serve(make_app(cors={"origins": ["https://app.example", "null"]}))
    listed = await handshake(client, "https://app.example")
    assert listed.status == 200
    assert (listed.headers["Access-Control-Allow-Origin"], listed.headers["Access-Control-Allow-Credentials"]) == (
        "https://app.example", "true")
    for origin in ("https://evil.example", "null"):
        assert (await handshake(client, origin)).status == 400


async def test_without_origins_only_the_servers_own_origin_may_open_a_socket(serve: Any) -> None:
    client = await serve(make_app(cors={"origins": []}))
    own = f"http://{client.server.host}:{client.server.port}"
    assert (await handshake(client, own)).status == 200
    assert (await handshake(client, "https://app.example")).status == 400
    assert (await client.get("/socket.io/?EIO=4&transport=polling")).status == 200  # no Origin: not a browser


def test_production_allows_no_other_origin() -> None:
    from cryptorobot.config import load_config

    policy = CorsPolicy.from_setting(load_config("production", environ={})["cors"]["origins"])
    assert policy == CorsPolicy(()) and not policy.allows("https://app.example")

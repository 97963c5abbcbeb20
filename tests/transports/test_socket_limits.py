"""What one Socket.IO connection may cost (cryptorobot/transports/socket_server.py), over a
real server: every refused message is answered or closes the socket, never silence."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from cryptorobot import App, Connection
from cryptorobot.adapters import MemoryService
from cryptorobot.server import SOCKETIO_KEY
from tests.conftest import WAIT
from tests.transports.raw_socket import RawSocket

LIMITS = {"max_message_size": 50_000, "max_calls_in_flight": 3, "max_queued_packets": 20, "send_timeout": 0.5}


class Gate:
    """`find` waits until `open()`; `started` counts the calls that got in."""

    def __init__(self) -> None:
        self.opened = asyncio.Event()
        self.started = 0
        self.arrived = asyncio.Event()

    async def find(self, params: dict[str, Any]) -> list[Any]:
        self.started += 1
        self.arrived.set()
        await self.opened.wait()
        return []

    def open(self) -> None:
        self.opened.set()


@pytest.fixture
def app() -> App:
    app = App({"socketio": LIMITS})
    app.use("items", MemoryService(id="id"))
    app.use("gate", Gate())
    app.use("blobs", MemoryService(id="id"))
    app.on("connection", lambda connection: app.channel("everyone").join(connection))
    app.publish(lambda data, context: app.channel("everyone"))
    return app


@pytest.fixture
async def client(serve: Any, app: App) -> Any:
    return await serve(app)


@pytest.fixture
async def raw(client: Any) -> Any:
    opened: list[RawSocket] = []

    async def connect() -> RawSocket:
        socket = await RawSocket.connect(client)
        opened.append(socket)
        return socket

    yield connect
    for socket in opened:
        await socket.close()


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def error_of(answer: list[Any]) -> dict[str, Any]:
    assert len(answer) == 1 and isinstance(answer[0], dict), answer
    return answer[0]


# -- unreadable messages ------------------------------------------------------------------------

async def test_a_10000_level_nested_call_is_answered_with_a_400(raw: Any, caplog: pytest.LogCaptureFixture) -> None:
    socket = await raw()
    await socket.send(f'21["find","items",{{"a":{nested(10000)}}}]')
    error = error_of(await socket.answer(1))
    assert (error["name"], error["code"]) == ("BadRequest", 400)
    assert error["message"].startswith("Unreadable socket message")
    assert await socket.call(2, "find", "items", {}) == [None, []]  # the connection goes on
    assert "Traceback" not in caplog.text


async def test_an_unreadable_message_without_an_ack_id_closes_the_socket(raw: Any) -> None:
    socket = await raw()
    await socket.send(f'2["find","items",{nested(10000)}]')
    assert await socket.closed()


@pytest.mark.parametrize("packet", ['2{"not": "json"', "2[NaN]", "9", "2/nowhere,[1"])
async def test_malformed_packets_close_the_socket(raw: Any, packet: str) -> None:
    socket = await raw()
    await socket.send(packet)
    assert await socket.closed()


@pytest.mark.parametrize("body", ["[]", "[1]", '{"find": "items"}', '"find"'])
async def test_an_event_that_is_not_a_name_and_arguments_is_answered_with_a_400(raw: Any, body: str) -> None:
    socket = await raw()
    await socket.send(f"27{body}")
    error = error_of(await socket.answer(7))
    assert (error["name"], error["message"]) == ("BadRequest", "A socket event must be [name, ...arguments]")


# -- message size --------------------------------------------------------------------------------

async def test_a_call_in_a_message_over_the_limit_is_answered_with_a_413(raw: Any) -> None:
    socket = await raw()
    filler = "x" * LIMITS["max_message_size"]
    await socket.send(f'23["create","items",{{"text":"{filler}"}}]')
    error = error_of(await socket.answer(3))
    assert (error["name"], error["code"]) == ("PayloadTooLarge", 413)
    assert error["data"] == {"limit": "socketio.max_message_size", "max": LIMITS["max_message_size"]}
    assert await socket.call(4, "find", "items", {}) == [None, []]  # nothing was created


async def test_a_message_over_twice_the_limit_closes_the_socket(raw: Any) -> None:
    socket = await raw()
    filler = "x" * (2 * LIMITS["max_message_size"])
    await socket.send(f'23["create","items",{{"text":"{filler}"}}]')
    assert await socket.closed()


# -- calls in flight -----------------------------------------------------------------------------

async def test_calls_beyond_the_in_flight_limit_are_refused_at_once(app: App, raw: Any) -> None:
    gate: Gate = app.service("gate").raw
    socket, other = await raw(), await raw()
    for id in range(1, 6):
        await socket.send(f'2{id}["find","gate",{{}}]')
    # Calls 4 and 5 are answered while 1-3 are still running: refused, not queued.
    for id in (4, 5):
        error = error_of(await socket.answer(id))
        assert (error["name"], error["code"]) == ("TooManyRequests", 429)
        assert error["data"] == {"limit": "socketio.max_calls_in_flight", "max": 3}
    assert gate.started == 3
    # Another connection has its own allowance.
    await other.send('21["find","gate",{}]')
    while gate.started < 4:
        gate.arrived.clear()
        await asyncio.wait_for(gate.arrived.wait(), WAIT)
    gate.open()
    assert [await socket.answer(id) for id in (1, 2, 3)] == [[None, []]] * 3
    assert await other.answer(1) == [None, []]
    # Finished calls free their places.
    assert await socket.call(6, "find", "gate", {}) == [None, []]


async def test_a_flood_is_logged_once(app: App, raw: Any, caplog: pytest.LogCaptureFixture) -> None:
    socket = await raw()
    with caplog.at_level(logging.WARNING, logger="cryptorobot.socketio"):
        for id in range(1, 31):
            await socket.send(f'2{id}["find","gate",{{}}]')
        for id in range(4, 31):
            assert error_of(await socket.answer(id))["code"] == 429
    assert len([r for r in caplog.records if "calls running" in r.getMessage()]) == 1
    app.service("gate").raw.open()


# -- slow consumers ------------------------------------------------------------------------------

async def test_a_socket_that_does_not_read_is_dropped(app: App, client: Any, raw: Any) -> None:
    dropped: asyncio.Future[Connection] = asyncio.get_running_loop().create_future()
    app.on("disconnect", lambda connection: dropped.done() or dropped.set_result(connection))
    socket = await raw()
    transport = client.server.app[SOCKETIO_KEY]
    [connection] = transport.connections.values()
    engine = transport.sio.eio
    eio_sid = transport.sio.manager.eio_sid_from_sid(connection.sid, "/")
    most_queued = 0
    # The client never reads: its buffers fill, then the server's queue, up to the bound.
    blob = "x" * 200_000
    for _ in range(400):
        if dropped.done():
            break
        await app.service("blobs").create({"blob": blob})
        await app.events.drain()
        if eio_sid in engine.sockets:
            most_queued = max(most_queued, engine.sockets[eio_sid].queue.qsize())
    assert await asyncio.wait_for(dropped, WAIT) is connection
    assert most_queued <= LIMITS["max_queued_packets"]
    assert eio_sid not in engine.sockets
    assert await socket.closed()  # the TCP connection is cut, not left to the client

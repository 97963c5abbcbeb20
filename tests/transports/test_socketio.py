"""Socket.IO over a real server and a real python-socketio client (feathers-wire 4.2-4.4, 3.5)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio

from cryptorobot import App, Connection
from cryptorobot.errors import NotAuthenticated
from tests.echo import Echo, error

WAIT = 5.0


@pytest.fixture
def app() -> App:
    app = App()
    app.use("echo", Echo(), {"methods": ["find", "get", "create", "update", "patch", "remove", "shout"], "arrays": ["create"]})
    app.use("limited", Echo(), {"methods": ["find", "get"]})
    app.use("users/:userId/messages", Echo())
    return app


@pytest.fixture
async def client(serve, app):
    return await serve(app)


@pytest.fixture
async def socket(sockets, client):
    return await sockets(client, headers={"X-Test-Header": "yes"})


def echo_params(app: App, path: str = "echo") -> dict[str, Any]:
    return app.service(path).raw.params[-1]


# -- the method-call protocol (4.3) ---------------------------------------------------------------

@pytest.mark.parametrize(("args", "expected"), [
    (("find", "echo", {"a": 1}), {"method": "find", "query": {"a": 1}}),
    (("find", "echo"), {"method": "find", "query": {}}),
    (("find", "echo", None), {"method": "find", "query": {}}),
    (("get", "echo", 5, {"b": [1, 2]}), {"method": "get", "id": 5, "query": {"b": [1, 2]}}),
    (("get", "echo", "5"), {"method": "get", "id": "5", "query": {}}),
    (("create", "echo", {"text": "hi"}, {}), {"method": "create", "data": {"text": "hi"}, "query": {}}),
    (("create", "echo", [{"a": 1}, {"a": 2}], {"q": True}),
     {"method": "create", "data": [{"a": 1}, {"a": 2}], "query": {"q": True}}),
    (("update", "echo", 1, {"text": "u"}, {"x": 1}),
     {"method": "update", "id": 1, "data": {"text": "u"}, "query": {"x": 1}}),
    (("update", "echo", None, {"text": "u"}, {}), {"method": "update", "id": None, "data": {"text": "u"}, "query": {}}),
    (("patch", "echo", 2, {"text": "p"}, {"y": "2"}),
     {"method": "patch", "id": 2, "data": {"text": "p"}, "query": {"y": "2"}}),
    (("patch", "echo", None, {"done": True}, {"done": False}),
     {"method": "patch", "id": None, "data": {"done": True}, "query": {"done": False}}),
    (("remove", "echo", 3, {"z": None}), {"method": "remove", "id": 3, "query": {"z": None}}),
    (("remove", "echo", None, {}), {"method": "remove", "id": None, "query": {}}),
    (("shout", "echo", {"text": "hey"}, {"loud": 1}), {"method": "shout", "data": {"text": "hey"}, "query": {"loud": 1}}),
    (("find", "/echo/", {}), {"method": "find", "query": {}}),
])
async def test_method_argument_positions(socket, args, expected) -> None:
    assert await socket.call(*args) == (None, expected)


@pytest.mark.parametrize(("args", "method"), [
    (("find", "echo", {}, {}), "find"),
    (("get", "echo", 1, {}, {}), "get"),
    (("create", "echo", {}, {}, {}), "create"),
    (("update", "echo", 1, {}, {}, {}), "update"),
    (("patch", "echo", 1, {}, {}, {}), "patch"),
    (("remove", "echo", 1, {}, {}), "remove"),
    (("shout", "echo", {}, {}, {}), "shout"),
])
async def test_too_many_arguments(socket, args, method) -> None:
    assert await socket.call(*args) == error("BadRequest", 400, "bad-request",
                                             f"Too many arguments for '{method}' method")


async def test_error_ack_is_a_single_error_argument(socket) -> None:
    assert await socket.call("get", "echo", "fail", {}) == error("BadRequest", 400, "bad-request", "Invalid id",
                                                                 data={"id": "fail"})


async def test_unknown_method_name_is_answered(socket) -> None:
    assert await socket.call("frobnicate", "echo", {}, {}) == error(
        "MethodNotAllowed", 405, "method-not-allowed", "Method 'frobnicate' not allowed on service 'echo'")


async def test_unexposed_method_is_refused(socket) -> None:
    assert await socket.call("create", "limited", {"a": 1}, {}) == error(
        "MethodNotAllowed", 405, "method-not-allowed", "Method 'create' not allowed on service 'limited'")
    assert await socket.call("setup", "limited", {}) == error(
        "MethodNotAllowed", 405, "method-not-allowed", "Method 'setup' not allowed on service 'limited'")


@pytest.mark.parametrize("args", [("find", 42, {}), ("find", None), ("find",), ("get", {"path": "echo"}, 1)])
async def test_non_string_path(socket, args) -> None:
    assert await socket.call(*args) == error("NotFound", 404, "not-found", "Invalid service path")


@pytest.mark.parametrize("path", ["nope", "echo/1/extra", "users/1"])
async def test_unknown_service(socket, path) -> None:
    assert await socket.call("find", path, {}) == error("NotFound", 404, "not-found", f"Service '{path}' not found")


async def test_server_error_reveals_no_internals(socket) -> None:
    answer = await socket.call("get", "echo", "crash", {})
    assert answer == error("GeneralError", 500, "general-error", "Internal server error")
    assert "postgres" not in repr(answer)


@pytest.mark.parametrize("value", [object(), b"bytes", {"nested": [bytearray(b"x")]}], ids=["object", "bytes", "bytearray"])
async def test_result_that_is_not_json_gives_an_error_ack(socket, app, value) -> None:
    """Bytes too: the Feathers clients expect JSON values, never binary attachments (as over REST)."""
    def opaque(context):
        context.result = {"value": value}

    app.service("echo").hooks({"after": {"get": opaque}})
    assert await socket.call("get", "echo", 1, {}) == error("GeneralError", 500, "general-error",
                                                            "Internal server error")
    assert await socket.call("find", "echo", {}) == (None, {"method": "find", "query": {}})


async def test_dispatch_is_sent_instead_of_result(socket, app) -> None:
    def safe(context):
        context.dispatch = {"safe": True}

    app.service("echo").hooks({"after": {"get": safe}})
    assert await socket.call("get", "echo", 1, {}) == (None, {"safe": True})


async def test_none_result_is_acknowledged_with_null(socket, app) -> None:
    def nothing(context):
        context.result = None

    app.service("echo").hooks({"before": {"get": nothing}})
    assert await socket.call("get", "echo", 1, {}) == (None, None)


async def test_calls_without_ack_still_run(socket, app) -> None:
    done = asyncio.Event()
    app.service("echo").hooks({"after": {"create": lambda context: done.set()}})
    await socket.sio.emit("create", ("echo", {"a": 1}, {}))
    await asyncio.wait_for(done.wait(), WAIT)


async def test_polling_transport_works_too(sockets, client) -> None:
    polling = await sockets(client, transports=("polling",))
    assert await polling.call("get", "echo", 1, {}) == (None, {"method": "get", "id": 1, "query": {}})


# -- params (4.4) ---------------------------------------------------------------------------------------

async def test_socket_params(socket, app) -> None:
    await socket.call("find", "echo", {"a": 1})
    params = echo_params(app)
    assert params["provider"] == "socketio"
    assert params["query"] == {"a": 1}
    assert params["route"] == {}
    assert params["headers"]["x-test-header"] == "yes"
    assert all(name == name.lower() for name in params["headers"])
    connection = params["connection"]
    assert isinstance(connection, Connection)
    assert connection["provider"] == "socketio" and connection["headers"] is params["headers"]
    await socket.call("get", "echo", 1, {})
    second = echo_params(app)
    assert second["connection"] is connection
    assert second is not params


async def test_connection_keys_are_spread_into_params(socket, app) -> None:
    await socket.call("find", "echo", {})
    first = echo_params(app)["connection"]
    first["user"] = {"id": 7}
    await socket.call("find", "echo", {})
    assert echo_params(app)["user"] == {"id": 7}


async def test_route_placeholders(socket, app) -> None:
    assert await socket.call("get", "users/7/messages", "3", {}) == (None, {"method": "get", "id": "3", "query": {}})
    assert echo_params(app, "users/:userId/messages")["route"] == {"userId": "7"}
    # an id segment inside the path is ignored
    assert await socket.call("find", "users/8/messages/99", {}) == (None, {"method": "find", "query": {}})
    assert echo_params(app, "users/:userId/messages")["route"] == {"userId": "8"}


# -- connection life cycle (4.2) ------------------------------------------------------------------------

async def test_connection_event_and_handshake_headers(sockets, client, app) -> None:
    connected: list[Connection] = []
    app.on("connection", connected.append)
    await sockets(client, headers={"Authorization": "Bearer abc"})
    assert len(connected) == 1
    assert connected[0]["provider"] == "socketio"
    assert connected[0]["headers"]["authorization"] == "Bearer abc"


async def test_connection_authenticator_runs_before_connection_event(sockets, client, app) -> None:
    order: list[str] = []

    async def authenticate(connection):
        order.append("authenticate")
        connection["authentication"] = {"strategy": "jwt", "accessToken": "abc"}

    app.connection_authenticator = authenticate
    app.on("connection", lambda connection: order.append("connection"))
    socket = await sockets(client)
    assert order == ["authenticate", "connection"]
    await socket.call("find", "echo", {})
    assert echo_params(app)["authentication"] == {"strategy": "jwt", "accessToken": "abc"}


async def test_handshake_refusal_gives_connect_error(client, app) -> None:
    async def refuse(connection):
        raise NotAuthenticated("jwt expired", {"expiredAt": "2024-01-01T00:00:00.000Z"})

    app.connection_authenticator = refuse
    connected: list[Connection] = []
    app.on("connection", connected.append)
    refused = asyncio.get_running_loop().create_future()
    sio = socketio.AsyncClient(reconnection=False)
    sio.on("connect_error", lambda data: refused.set_result(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(str(client.make_url("")).rstrip("/"), transports=["websocket"], wait_timeout=WAIT)
    assert await asyncio.wait_for(refused, WAIT) == {"message": "jwt expired",
                                                     "data": {"expiredAt": "2024-01-01T00:00:00.000Z"}}
    assert connected == []
    await sio.disconnect()


async def test_handshake_crash_refuses_without_internals(client, app) -> None:
    def crash(connection):
        raise RuntimeError("secret")

    app.connection_authenticator = crash
    refused = asyncio.get_running_loop().create_future()
    sio = socketio.AsyncClient(reconnection=False)
    sio.on("connect_error", lambda data: refused.set_result(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(str(client.make_url("")).rstrip("/"), transports=["websocket"], wait_timeout=WAIT)
    assert await asyncio.wait_for(refused, WAIT) == {"message": "Internal server error"}
    await sio.disconnect()


async def test_client_disconnect_emits_disconnect_and_leaves_channels(sockets, client, app) -> None:
    joined: list[Connection] = []

    def join(connection):
        app.channel("everyone").join(connection)
        app.channel("room").join(connection)
        joined.append(connection)

    app.on("connection", join)
    gone = asyncio.get_running_loop().create_future()
    app.on("disconnect", lambda connection: gone.set_result(connection))
    stays = await sockets(client)
    leaves = await sockets(client)
    assert len(joined) == 2
    await leaves.close()
    assert await asyncio.wait_for(gone, WAIT) is joined[1]
    assert app.channel("everyone").connections == [joined[0]]
    assert app.channel("room").connections == [joined[0]]
    assert await stays.call("find", "echo", {}) == (None, {"method": "find", "query": {}})


async def test_last_member_leaving_deletes_the_channel(sockets, client, app) -> None:
    app.on("connection", lambda connection: app.channel("lonely").join(connection))
    gone = asyncio.get_running_loop().create_future()
    app.on("disconnect", lambda connection: gone.set_result(connection))
    socket = await sockets(client)
    assert app.channels == ["lonely"]
    await socket.close()
    await asyncio.wait_for(gone, WAIT)
    assert app.channels == []


async def test_server_side_disconnect_event_closes_the_socket(sockets, client, app) -> None:
    connections: list[Connection] = []
    app.on("connection", connections.append)
    app.on("connection", lambda connection: app.channel("everyone").join(connection))
    disconnects: list[Connection] = []
    app.on("disconnect", disconnects.append)
    victim = await sockets(client)
    bystander = await sockets(client)
    app.emit("disconnect", connections[0])
    await asyncio.wait_for(victim.disconnected.wait(), WAIT)
    assert not victim.sio.connected
    assert app.channel("everyone").connections == [connections[1]]
    assert await bystander.call("find", "echo", {}) == (None, {"method": "find", "query": {}})
    # The transport's close (a coroutine listener of `disconnect`) has run to its end.
    await asyncio.wait_for(asyncio.gather(*app.supervisor.spawned()), WAIT)
    assert disconnects == [connections[0]]  # emitted once, not again by the closing socket


async def test_connection_closed_mid_call_does_not_break_the_server(sockets, client, app) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(context):
        started.set()
        await release.wait()

    app.service("echo").hooks({"before": {"get": slow}})
    socket = await sockets(client)
    await socket.sio.emit("get", ("echo", 1, {}), callback=lambda *args: None)
    await asyncio.wait_for(started.wait(), WAIT)
    await socket.close()
    release.set()
    other = await sockets(client)
    assert await other.call("find", "echo", {}) == (None, {"method": "find", "query": {}})

"""Service events pushed to real Socket.IO clients through channels (feathers-wire 4.5, 5.1-5.5)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from cryptorobot import App
from cryptorobot.adapters import MemoryService
from cryptorobot.errors import NotFound
from tests.conftest import WAIT


@pytest.fixture
def app() -> App:
    app = App()
    app.use("messages", MemoryService(multi=True))

    def join_requested_channels(connection):
        # Test clients say which channels they want in a handshake header.
        for name in connection["headers"].get("x-channels", "").split(","):
            if name:
                app.channel(name).join(connection)

    app.on("connection", join_requested_channels)
    return app


@pytest.fixture
async def client(serve, app):
    return await serve(app)


@pytest.fixture
def connect(sockets, client):
    async def connect_to(*channels: str, name: str = ""):
        return await sockets(client, headers={"X-Channels": ",".join(channels), "X-Name": name})

    return connect_to


def everyone(app: App) -> None:
    app.publish(lambda data, context: app.channel("everyone"))


# -- standard events (5.1) ---------------------------------------------------------------------------

async def test_method_events_are_pushed_with_one_payload(app, connect) -> None:
    everyone(app)
    socket = await connect("everyone")
    assert await socket.call("create", "messages", {"text": "a"}, {}) == (None, {"text": "a", "id": 0})
    await socket.call("update", "messages", 0, {"text": "b"}, {})
    await socket.call("patch", "messages", 0, {"read": True}, {})
    await socket.call("remove", "messages", 0, {})
    assert await socket.events(4) == [
        ("messages created", ({"text": "a", "id": 0},)),
        ("messages updated", ({"text": "b", "id": 0},)),
        ("messages patched", ({"text": "b", "id": 0, "read": True},)),
        ("messages removed", ({"text": "b", "id": 0, "read": True},)),
    ]


@pytest.mark.parametrize("size", [10, 125, 200, 65_600], ids=["tiny", "one-byte-length", "two-byte-length", "eight-byte-length"])
async def test_events_of_every_frame_size_arrive_whole_and_in_order(app, connect, size) -> None:
    """Each room event is one websocket frame written to every socket; its length field
    takes 1, 2 or 8 bytes by size (RFC 6455), and UTF-8 text counts in bytes."""
    everyone(app)
    first, second = await connect("everyone"), await connect("everyone")
    text = "é" * (size // 2) + "x" * (size % 2)
    created = [await first.call("create", "messages", {"text": text, "n": n}, {}) for n in range(3)]
    expected = [("messages created", (record,)) for _, record in created]
    assert await first.events(3) == expected
    assert await second.events(3) == expected


async def test_find_get_and_custom_methods_emit_nothing(app, connect, settled) -> None:
    class Greeter:
        async def find(self, params):
            return []

        async def get(self, id, params):
            return {"id": id}

        async def greet(self, data, params):
            return {"hello": data["name"]}

    app.use("greeter", Greeter(), {"methods": ["find", "get", "greet"]})
    everyone(app)
    socket = await connect("everyone")
    await socket.call("find", "greeter", {})
    await socket.call("get", "greeter", 1, {})
    assert await socket.call("greet", "greeter", {"name": "bob"}, {}) == (None, {"hello": "bob"})
    await settled(app, socket)
    assert socket.received == []


async def test_rest_and_internal_calls_emit_events_too(app, connect, client) -> None:
    everyone(app)
    socket = await connect("everyone")
    response = await client.post("/messages", json={"text": "over rest"})
    assert response.status == 201
    await app.service("messages").create({"text": "internal"})
    assert await socket.events(2) == [
        ("messages created", ({"text": "over rest", "id": 0},)),
        ("messages created", ({"text": "internal", "id": 1},)),
    ]


async def test_multi_methods_emit_one_event_per_element(app, connect) -> None:
    everyone(app)
    socket = await connect("everyone")
    await socket.call("create", "messages", [{"n": 1}, {"n": 2}, {"n": 3}], {})
    assert await socket.events(3) == [
        ("messages created", ({"n": 1, "id": 0},)),
        ("messages created", ({"n": 2, "id": 1},)),
        ("messages created", ({"n": 3, "id": 2},)),
    ]
    await socket.call("patch", "messages", None, {"seen": True}, {"n": {"$gte": 2}})
    assert await socket.events(2) == [
        ("messages patched", ({"n": 2, "id": 1, "seen": True},)),
        ("messages patched", ({"n": 3, "id": 2, "seen": True},)),
    ]
    await socket.call("remove", "messages", None, {"seen": True})
    assert await socket.events(2) == [
        ("messages removed", ({"n": 2, "id": 1, "seen": True},)),
        ("messages removed", ({"n": 3, "id": 2, "seen": True},)),
    ]


async def test_failed_call_emits_nothing(app, connect, settled) -> None:
    everyone(app)
    socket = await connect("everyone")
    answer = await socket.call("patch", "messages", 99, {"text": "x"}, {})
    assert answer == {"name": "NotFound", "message": "No record found for id '99'", "code": 404,
                      "className": "not-found"}

    def fail_after(context):
        raise NotFound("refused after the write")

    app.service("messages").hooks({"after": {"create": fail_after}})
    assert (await socket.call("create", "messages", {"text": "a"}, {}))["message"] == "refused after the write"
    await settled(app, socket)
    assert socket.received == []


async def test_context_event_none_suppresses_the_event(app, connect, settled) -> None:
    everyone(app)

    def quiet(context):
        if context.params.get("query", {}).get("quiet"):
            context.event = None

    app.service("messages").hooks({"before": {"create": quiet}})
    socket = await connect("everyone")
    await socket.call("create", "messages", {"text": "silent"}, {"quiet": True})
    await socket.call("create", "messages", {"text": "loud"}, {})
    assert await socket.next_event() == ("messages created", ({"text": "loud", "id": 1},))
    await settled(app, socket)
    assert socket.received == []


async def test_local_listeners_get_data_and_context(app) -> None:
    seen: list[tuple[Any, Any]] = []
    app.service("messages").on("created", lambda data, context: seen.append((data, context.method)))
    await app.service("messages").create([{"a": 1}, {"a": 2}])
    assert seen == [({"a": 1, "id": 0}, "create"), ({"a": 2, "id": 1}, "create")]


# -- custom events (5.2) --------------------------------------------------------------------------------

class Payments:
    async def create(self, data, params):
        return {"id": 1, **data}


async def test_custom_service_events(app, connect) -> None:
    payments = app.use("payments", Payments(), {"events": ["status"]})
    contexts: list[Any] = []

    def status_publisher(data, context):
        contexts.append(context)
        return app.channel("watchers")

    payments.publish("status", status_publisher)
    socket = await connect("watchers")
    app.service("payments").emit("status", {"state": "settled", "id": 1})
    assert await socket.next_event() == ("payments status", ({"state": "settled", "id": 1},))
    assert contexts[0].path == "payments"
    assert contexts[0].service is payments
    assert contexts[0].app is app
    assert contexts[0].result == {"state": "settled", "id": 1}


async def test_custom_event_with_app_publisher(app, connect) -> None:
    app.use("payments", Payments(), {"events": ["status"]})
    app.publish("status", lambda data, context: app.channel("watchers"))
    socket = await connect("watchers")
    app.service("payments").emit("status", {"state": "open"})
    assert await socket.next_event() == ("payments status", ({"state": "open"},))


async def test_unknown_event_cannot_be_published(app) -> None:
    app.use("payments", Payments(), {"events": ["status"]})
    with pytest.raises(ValueError, match=r"^'nope' is not a valid service event$"):
        app.service("payments").publish("nope", lambda data, context: None)


async def test_events_that_are_not_publishable_never_reach_clients(app, connect, settled) -> None:
    everyone(app)
    socket = await connect("everyone")
    app.service("messages").emit("whatever", {"a": 1})
    await settled(app, socket)
    assert socket.received == []


# -- publishers (5.4) -----------------------------------------------------------------------------------

async def test_publisher_precedence(app, connect, settled) -> None:
    app.use("other", MemoryService())
    messages = app.service("messages")
    messages.publish("created", lambda data, context: app.channel("service-created"))
    messages.publish(lambda data, context: app.channel("service-all"))
    app.publish("created", lambda data, context: app.channel("app-created"))
    app.publish("removed", lambda data, context: app.channel("app-removed"))
    app.publish(lambda data, context: app.channel("app-all"))
    names = ["service-created", "service-all", "app-created", "app-removed", "app-all"]
    sockets = {name: await connect(name) for name in names}

    await messages.create({"n": 1})          # service publisher for the event
    await messages.remove(0)                 # service publisher for all beats app publisher for the event
    await app.service("other").create({"n": 2})  # app publisher for the event
    await app.service("other").patch(0, {"n": 3})  # app publisher for all events
    await app.service("other").remove(0)     # app publisher for the event
    await settled(app, *sockets.values())
    assert {name: socket.received for name, socket in sockets.items()} == {
        "service-created": [("messages created", ({"n": 1, "id": 0},))],
        "service-all": [("messages removed", ({"n": 1, "id": 0},))],
        "app-created": [("other created", ({"n": 2, "id": 0},))],
        "app-removed": [("other removed", ({"n": 3, "id": 0},))],
        "app-all": [("other patched", ({"n": 3, "id": 0},))],
    }


async def test_registering_a_publisher_again_replaces_it(app, connect, settled) -> None:
    app.publish(lambda data, context: app.channel("first"))
    app.publish(lambda data, context: app.channel("second"))
    first, second = await connect("first"), await connect("second")
    await app.service("messages").create({"n": 1})
    await settled(app, first, second)
    assert second.received == [("messages created", ({"n": 1, "id": 0},))]
    assert first.received == []


async def test_no_publisher_sends_nothing(app, connect, settled) -> None:
    socket = await connect("everyone")
    await app.service("messages").create({"n": 1})
    await settled(app, socket)
    assert socket.received == []


@pytest.mark.parametrize("returned", [None, False, [], [None, []]])
async def test_publisher_returning_nothing_sends_nothing(app, connect, settled, returned) -> None:
    app.publish(lambda data, context: returned)
    socket = await connect("everyone")
    await app.service("messages").create({"n": 1})
    await settled(app, socket)
    assert socket.received == []


async def test_async_publisher_and_nested_lists(app, connect) -> None:
    async def publisher(data, context):
        await asyncio.sleep(0)
        return [[app.channel("a"), None], [[app.channel("b")]]]

    app.publish(publisher)
    a, b = await connect("a"), await connect("b")
    await app.service("messages").create({"n": 1})
    assert await a.next_event() == ("messages created", ({"n": 1, "id": 0},))
    assert await b.next_event() == ("messages created", ({"n": 1, "id": 0},))


async def test_failing_publisher_is_logged_and_later_events_still_flow(app, connect, caplog) -> None:
    def publisher(data, context):
        if data["n"] == 1:
            raise RuntimeError("publisher bug")
        return app.channel("everyone")

    app.publish(publisher)
    socket = await connect("everyone")
    with caplog.at_level(logging.ERROR, logger="cryptorobot.events"):
        assert await socket.call("create", "messages", {"n": 1}, {}) == (None, {"n": 1, "id": 0})
        await app.service("messages").create({"n": 2})
        assert await socket.next_event() == ("messages created", ({"n": 2, "id": 1},))
    assert "publisher bug" in caplog.text


# -- channels and payloads (5.3, 5.5) -----------------------------------------------------------------

async def test_connection_in_two_chosen_channels_gets_the_event_once(app, connect, settled) -> None:
    app.publish(lambda data, context: [app.channel("a"), app.channel("b"), app.channel("a", "b")])
    both, only_a, only_b = await connect("a", "b"), await connect("a"), await connect("b")
    await app.service("messages").create({"n": 1})
    await settled(app, both, only_a, only_b)
    expected = [("messages created", ({"n": 1, "id": 0},))]
    assert both.received == expected
    assert only_a.received == expected
    assert only_b.received == expected


async def test_channel_send_gives_a_per_channel_payload(app, connect, settled) -> None:
    app.publish(lambda data, context: [
        app.channel("admins"),
        app.channel("users").send({"id": data["id"], "summary": "hidden"}),
    ])
    admin, user, both = await connect("admins"), await connect("users"), await connect("users", "admins")
    await app.service("messages").create({"text": "secret"})
    await settled(app, admin, user, both)
    assert admin.received == [("messages created", ({"text": "secret", "id": 0},))]
    assert user.received == [("messages created", ({"id": 0, "summary": "hidden"},))]
    assert both.received == [("messages created", ({"text": "secret", "id": 0},))]  # first channel wins


async def test_first_channel_wins_across_payloads(app, connect, settled) -> None:
    app.publish(lambda data, context: [app.channel("a"), app.channel("b").send({"custom": True}), app.channel("c")])
    a_b, b_c, c_only = await connect("a", "b"), await connect("b", "c"), await connect("c")
    await app.service("messages").create({"n": 1})
    await settled(app, a_b, b_c, c_only)
    assert a_b.received == [("messages created", ({"n": 1, "id": 0},))]
    assert b_c.received == [("messages created", ({"custom": True},))]
    assert c_only.received == [("messages created", ({"n": 1, "id": 0},))]


async def test_channel_filter(app, connect, settled) -> None:
    app.publish(lambda data, context: app.channel("everyone").filter(
        lambda connection: connection["headers"]["x-name"] == data["to"]))
    bob, alice = await connect("everyone", name="bob"), await connect("everyone", name="alice")
    await app.service("messages").create({"to": "bob"})
    await app.service("messages").create({"to": "alice"})
    await settled(app, bob, alice)
    assert bob.received == [("messages created", ({"to": "bob", "id": 0},))]
    assert alice.received == [("messages created", ({"to": "alice", "id": 1},))]


async def test_filtered_and_send_channels_combine(app, connect, settled) -> None:
    app.publish(lambda data, context: app.channel("everyone")
                .filter(lambda connection: connection["headers"]["x-name"] == "bob").send({"for": "bob"}))
    bob, alice = await connect("everyone", name="bob"), await connect("everyone", name="alice")
    await app.service("messages").create({"n": 1})
    await settled(app, bob, alice)
    assert bob.received == [("messages created", ({"for": "bob"},))]
    assert alice.received == []


async def test_dispatch_is_the_default_payload(app, connect) -> None:
    everyone(app)

    def hide_secret(context):
        context.dispatch = {key: value for key, value in context.result.items() if key != "secret"}

    app.service("messages").hooks({"after": {"create": hide_secret}})
    socket = await connect("everyone")
    assert await socket.call("create", "messages", {"text": "a", "secret": "s"}, {}) == (None, {"text": "a", "id": 0})
    assert await socket.next_event() == ("messages created", ({"text": "a", "id": 0},))
    assert await app.service("messages").get(0) == {"text": "a", "secret": "s", "id": 0}


async def test_list_dispatch_elements_are_chosen_by_index(app, connect) -> None:
    everyone(app)

    def hide_secrets(context):
        context.dispatch = [{"id": record["id"], "text": record["text"]} for record in context.result]

    app.service("messages").hooks({"after": {"create": hide_secrets}})
    socket = await connect("everyone")
    await socket.call("create", "messages", [{"text": "a", "secret": 1}, {"text": "a", "secret": 2}], {})
    assert await socket.events(2) == [
        ("messages created", ({"id": 0, "text": "a"},)),
        ("messages created", ({"id": 1, "text": "a"},)),
    ]


async def test_per_user_rooms(app, connect, settled) -> None:
    def join_user(connection):
        app.channel(f"users/{connection['headers']['x-name']}").join(connection)

    app.on("connection", join_user)
    app.service("messages").publish("created", lambda data, context: app.channel(f"users/{data['userId']}"))
    one, two = await connect(name="1"), await connect(name="2")
    one_again = await connect(name="1")
    for user_id in (1, 2, 2, 1):
        await app.service("messages").create({"userId": user_id})
    await settled(app, one, two, one_again)
    assert one.received == [("messages created", ({"userId": 1, "id": 0},)),
                            ("messages created", ({"userId": 1, "id": 3},))]
    assert one_again.received == one.received
    assert two.received == [("messages created", ({"userId": 2, "id": 1},)),
                            ("messages created", ({"userId": 2, "id": 2},))]


async def test_events_arrive_in_order_even_with_a_slow_publisher(app, connect) -> None:
    async def publisher(data, context):
        if context.method == "create":
            await asyncio.sleep(0.05)  # a slow first publisher must not let later events overtake
        return app.channel("everyone")

    app.publish(publisher)
    socket = await connect("everyone")
    messages = app.service("messages")
    await messages.create({"text": "a"})
    await messages.patch(0, {"text": "b"})
    await messages.remove(0)
    assert [event for event, _ in await socket.events(3)] == [
        "messages created", "messages patched", "messages removed"]


async def test_events_after_disconnect_reach_remaining_connections(app, connect, settled) -> None:
    everyone(app)
    leaving, staying = await connect("everyone"), await connect("everyone")
    gone = asyncio.Event()
    app.on("disconnect", lambda connection: gone.set())  # after the channels let it go
    await leaving.close()
    await asyncio.wait_for(gone.wait(), WAIT)
    assert len(app.channel("everyone").connections) == 1
    await app.service("messages").create({"n": 1})
    assert await staying.next_event() == ("messages created", ({"n": 1, "id": 0},))


async def test_teardown_drains_queued_events(app, connect) -> None:
    async def publisher(data, context):
        await asyncio.sleep(0.01)
        return app.channel("everyone")

    app.publish(publisher)
    socket = await connect("everyone")
    for n in range(5):
        await app.service("messages").create({"n": n})
    await app.teardown()
    # Nothing left to deliver: one round trip proves every event already reached the socket.
    await socket.call("barrier")
    assert [payload[0]["n"] for _, payload in socket.received] == [0, 1, 2, 3, 4]


async def test_server_shutdown_delivers_queued_events_before_closing_sockets(app, client, connect) -> None:
    async def publisher(data, context):
        await asyncio.sleep(0.01)
        return app.channel("everyone")

    app.publish(publisher)
    socket = await connect("everyone")
    for n in range(3):
        await app.service("messages").create({"n": n})
    await client.server.app.shutdown()  # the on_shutdown step of a server stop
    await asyncio.wait_for(socket.disconnected.wait(), 5)
    assert [payload[0]["n"] for _, payload in socket.received] == [0, 1, 2]


async def test_none_payload_is_sent_as_one_null_argument(app, connect) -> None:
    app.use("payments", Payments(), {"events": ["status"]})
    app.publish(lambda data, context: app.channel("watchers"))
    socket = await connect("watchers")
    app.service("payments").emit("status", None)
    assert await socket.next_event() == ("payments status", (None,))


async def test_payload_that_is_not_json_is_logged_and_later_events_still_flow(app, connect, caplog) -> None:
    app.use("payments", Payments(), {"events": ["status"]})
    app.publish(lambda data, context: app.channel("watchers"))
    socket = await connect("watchers")
    with caplog.at_level(logging.ERROR, logger="cryptorobot.events"):
        app.service("payments").emit("status", {"opaque": object()})
        app.service("payments").emit("status", {"state": "ok"})
        assert await socket.next_event() == ("payments status", ({"state": "ok"},))
    assert "payments status" in caplog.text

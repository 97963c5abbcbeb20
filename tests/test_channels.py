"""Channels (feathers-wire 5.3): join, leave, combined channels, filter, send, `app.channels`."""

from __future__ import annotations

import pytest

from cryptorobot import App, Connection
from cryptorobot.channels import Channel, CombinedChannel, NamedChannel


def connections(count: int) -> list[Connection]:
    return [Connection("socketio", {"x-n": str(n)}, sid=f"s{n}") for n in range(count)]


def test_channel_is_created_on_first_use_and_returned_again() -> None:
    app = App()
    assert app.channels == []
    first = app.channel("admins")
    assert isinstance(first, NamedChannel)
    assert app.channel("admins") is first
    assert app.channels == ["admins"]
    assert first.length == 0 and len(first) == 0 and first.connections == []


def test_channel_needs_a_name() -> None:
    with pytest.raises(ValueError):
        App().channel()
    with pytest.raises(ValueError):
        App().channel([])


def test_join_adds_each_connection_once_and_ignores_falsy_ones() -> None:
    app = App()
    a, b = connections(2)
    channel = app.channel("room").join(a, None, b, a)
    assert channel.connections == [a, b]
    channel.join(b)
    assert channel.length == 2
    assert a in channel and b in channel


def test_connections_are_distinct_even_when_their_mappings_are_equal() -> None:
    app = App()
    a, b = Connection("socketio", {}), Connection("socketio", {})
    assert dict(a) == dict(b)
    app.channel("room").join(a, b)
    assert app.channel("room").connections == [a, b]
    app.channel("room").leave(a)
    assert app.channel("room").connections == [b]


def test_leave_removes_connections() -> None:
    app = App()
    a, b, c = connections(3)
    channel = app.channel("room").join(a, b, c)
    channel.leave(b)
    assert channel.connections == [a, c]
    channel.leave(b)  # not a member: nothing happens
    assert channel.connections == [a, c]
    assert app.channels == ["room"]


def test_leave_by_predicate() -> None:
    app = App()
    a, b, c = connections(3)
    a["user"], b["user"], c["user"] = {"id": 1}, {"id": 2}, {"id": 1}
    channel = app.channel("room").join(a, b, c)
    channel.leave(lambda connection: connection["user"]["id"] == 1)
    assert channel.connections == [b]


def test_named_channel_emptied_by_leave_is_deleted() -> None:
    app = App()
    a, b = connections(2)
    app.channel("one").join(a, b)
    app.channel("two").join(a)
    app.channel("one").leave(a)
    assert app.channels == ["one", "two"]
    app.channel("one").leave(b)
    assert app.channels == ["two"]
    fresh = app.channel("one")
    assert fresh.connections == [] and app.channels == ["two", "one"]


def test_combined_channel_holds_each_connection_once() -> None:
    app = App()
    a, b, c = connections(3)
    app.channel("x").join(a, b)
    app.channel("y").join(b, c)
    combined = app.channel("x", "y")
    assert isinstance(combined, CombinedChannel)
    assert combined.connections == [a, b, c]
    assert combined.length == 3
    assert app.channel(["x", "y"]).connections == [a, b, c]


def test_combined_channel_creates_missing_children() -> None:
    app = App()
    combined = app.channel("p", "q")
    assert combined.connections == []
    assert app.channels == ["p", "q"]


def test_combined_channel_join_and_leave_reach_every_child() -> None:
    app = App()
    a, b = connections(2)
    combined = app.channel("x", "y")
    combined.join(a, b)
    assert app.channel("x").connections == [a, b]
    assert app.channel("y").connections == [a, b]
    assert combined.connections == [a, b]
    combined.leave(a)
    assert app.channel("x").connections == [b]
    assert app.channel("y").connections == [b]
    assert combined.connections == [b]
    combined.leave(b)
    assert combined.connections == []
    assert app.channels == []


def test_app_channels_covers_every_connection() -> None:
    app = App()
    a, b, c = connections(3)
    app.channel("x").join(a)
    app.channel("y").join(b, a)
    app.channel("z").join(c)
    assert sorted(app.channels) == ["x", "y", "z"]
    assert app.channel(app.channels).connections == [a, b, c]


def test_filter_returns_a_new_unregistered_channel() -> None:
    app = App()
    a, b, c = connections(3)
    channel = app.channel("room").join(a, b, c)
    chosen = channel.filter(lambda connection: connection["headers"]["x-n"] != "1")
    assert isinstance(chosen, Channel) and not isinstance(chosen, NamedChannel)
    assert chosen.connections == [a, c]
    assert channel.connections == [a, b, c]
    assert app.channels == ["room"]


def test_send_keeps_the_audience_with_a_custom_payload() -> None:
    app = App()
    a, b = connections(2)
    channel = app.channel("room").join(a, b)
    custom = channel.send({"text": "hidden"})
    assert custom.data == {"text": "hidden"}
    assert custom.connections == [a, b]
    assert channel.data is None
    assert custom.filter(lambda connection: connection is b).data == {"text": "hidden"}


def test_disconnect_event_leaves_every_channel() -> None:
    app = App()
    a, b = connections(2)
    app.channel("x").join(a, b)
    app.channel("y").join(a)
    app.emit("disconnect", a)
    assert app.channel("x").connections == [b]
    assert app.channels == ["x"]


def test_logout_with_a_connection_leaves_every_channel() -> None:
    app = App()
    a, b = connections(2)
    app.channel("authenticated").join(a, b)
    app.emit("logout", {"accessToken": "t"}, {"provider": "rest"}, None)  # REST: no connection
    assert app.channel("authenticated").connections == [a, b]
    app.emit("logout", {"accessToken": "t"}, {"provider": "socketio", "connection": a}, None)
    assert app.channel("authenticated").connections == [b]


def test_a_connection_that_disconnected_joins_nothing() -> None:
    # The case: logins that finish after their clients left, five times.
    app = App()
    gone = connections(5)
    for connection in gone:
        app.emit("disconnect", connection)
        assert connection.closed
        app.channel("authenticated").join(connection)
        app.channel(f"users/{connection.sid}").join(connection)
        app.channel("x", "y").join(connection)
    assert app.channel("authenticated").connections == []
    assert app.channel("x", "y").connections == []
    assert app.channels == ["authenticated", "x", "y"]  # created by the two reads just above


def test_joining_only_closed_connections_leaves_no_empty_channel() -> None:
    app = App()
    live, dead = connections(2)
    app.emit("disconnect", dead)
    app.channel("room").join(dead)
    assert app.channels == []
    app.channel("room").join(dead, live)
    assert app.channel("room").connections == [live]
    app.channel("room").join(dead)
    assert app.channel("room").connections == [live]


def test_a_channel_kept_across_its_deletion_is_registered_again_on_join() -> None:
    app = App()
    a, b, c = connections(3)
    kept = app.channel("room").join(a)
    kept.leave(a)  # emptied: deleted from the registry
    assert app.channels == []
    kept.join(b)
    assert app.channel("room") is kept and app.channels == ["room"]
    kept.leave(b)
    fresh = app.channel("room").join(c)  # a new channel of the same name meanwhile
    kept.join(a)
    assert fresh.connections == [c, a] and kept.connections == [c, a]
    app.emit("disconnect", a)
    assert fresh.connections == [c] and kept.connections == [c]

"""`messages` and `messages/preferences` over REST and real sockets: `notify` writes what the
user chose to get, the owner alone sees and patches (`read` only) their messages, and
`messages created` reaches the owner's sockets and no one else's."""

from __future__ import annotations

from typing import Any

import pytest

from platform_support import Platform, bad_request, not_found, socket_login
from services.messages import KINDS, notify
from tests.conftest import settle


async def test_notify_reaches_the_owner_alone_and_patch_marks_read(platform: Platform, sockets: Any) -> None:
    ann, ann_token = await platform.member("ann@example.com")
    _, bob_token = await platform.member("bob@example.com")
    ann_socket, bob_socket = await sockets(platform.http), await sockets(platform.http)
    await socket_login(ann_socket, "ann@example.com")
    await socket_login(bob_socket, "bob@example.com")

    message = await notify(platform.app, ann["_id"], "trader_error", "Trader 'grid' stopped",
                           "INSUFFICIENT_BALANCE", {"traderId": "t1"})
    assert message is not None
    name, (event,) = await ann_socket.next_event()
    assert name == "messages created"
    assert set(event) == {"_id", "userId", "kind", "title", "body", "data", "read", "createdAt", "updatedAt"}
    assert {key: event[key] for key in ("kind", "title", "body", "data", "read")} == {
        "kind": "trader_error", "title": "Trader 'grid' stopped", "body": "INSUFFICIENT_BALANCE",
        "data": {"traderId": "t1"}, "read": False}
    await settle(platform.app, bob_socket)
    assert bob_socket.received == []

    status, page = await platform.request("GET", "/messages?read=false", token=ann_token)
    assert (status, page["total"], page["data"][0]["_id"]) == (200, 1, event["_id"])
    status, body = await platform.request("GET", f"/messages/{event['_id']}", token=bob_token)
    assert (status, body) == (404, not_found(event["_id"]))
    status, body = await platform.request("PATCH", f"/messages/{event['_id']}", json={"read": True}, token=bob_token)
    assert status == 404

    status, body = await platform.request("PATCH", f"/messages/{event['_id']}", json={"title": "x"}, token=ann_token)
    assert (status, body) == (400, bad_request({"title": ["Unknown field."]}))
    ack = await ann_socket.call("patch", "messages", event["_id"], {"read": True}, {})
    assert ack[0] is None and ack[1]["read"] is True and ack[1]["title"] == "Trader 'grid' stopped"
    name, (patched,) = await ann_socket.next_event()
    assert (name, patched["read"]) == ("messages patched", True)
    status, page = await platform.request("GET", "/messages?read=false", token=ann_token)
    assert page["total"] == 0
    assert (await platform.request("POST", "/messages", json={"kind": "system", "title": "x", "body": "y"},
                                   token=ann_token))[0] == 405
    assert (await platform.request("GET", "/messages"))[0] == 401


async def test_preferences_choose_the_kinds_a_user_gets(platform: Platform, sockets: Any) -> None:
    ann, token = await platform.member("ann@example.com")
    status, prefs = await platform.request("GET", "/messages/preferences", token=token)
    assert status == 200 and prefs["kinds"] == KINDS and prefs["kinds"]["fill"] is False
    assert await notify(platform.app, ann["_id"], "fill", "Filled", "0.1 BTC at 42000") is None

    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    ack = await socket.call("create", "messages/preferences", {"kinds": {"fill": True, "signal": False}}, {})
    assert ack[0] is None and ack[1]["kinds"] == {**KINDS, "fill": True, "signal": False}
    name, (event,) = await socket.next_event()
    assert (name, event["kinds"]["fill"]) == ("messages/preferences created", True)
    assert await notify(platform.app, ann["_id"], "fill", "Filled", "0.1 BTC at 42000") is not None
    assert await notify(platform.app, ann["_id"], "signal", "Buy", "BTC/USDT") is None
    status, page = await platform.request("GET", "/messages", token=token)
    assert [message["kind"] for message in page["data"]] == ["fill"]

    status, body = await platform.request("POST", "/messages/preferences", json={"kinds": {"spam": True}},
                                          token=token)
    assert status == 400 and body["data"]["code"] == "VALIDATION_FAILED"
    with pytest.raises(ValueError, match="unknown message kind"):
        await notify(platform.app, ann["_id"], "spam", "x", "y")

"""Events are private, and no secret (password, hash, API key) leaves the server or reaches a log."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from platform_support import PASSWORD, Platform, add_notes, socket_login


def summary(received: list[tuple[str, tuple[Any, ...]]]) -> list[tuple[str, Any]]:
    """(event, owner) per received event; the owner is `userId`, or `_id` for users."""
    return [(name, args[0].get("userId", args[0].get("_id")) if name.startswith(("notes", "api-keys"))
             else args[0]["_id"]) for name, args in received]


async def activity(socket: Any, me: dict[str, Any]) -> None:
    """Everything one user does over their socket."""
    error, note = await socket.call("create", "notes", {"text": "mine"}, {})
    assert error is None, error
    assert (await socket.call("patch", "notes", note["_id"], {"text": "still mine"}, {}))[0] is None
    assert (await socket.call("remove", "notes", note["_id"], {}))[0] is None
    error, key = await socket.call("create", "api-keys", {"name": "bot"}, {})
    assert error is None, error
    assert (await socket.call("remove", "api-keys", key["_id"], {}))[0] is None
    assert (await socket.call("patch", "users", me["_id"], {"name": "new name"}, {}))[0] is None


async def test_two_users_only_see_their_own_events(platform: Platform, sockets, settled) -> None:
    add_notes(platform)
    ann, ann_token = await platform.member("ann@example.com")
    await platform.set_tier(ann, "pro")  # two sockets
    bob, _ = await platform.member("bob@example.com")
    ann_socket, ann_tablet, bob_socket, anonymous = [await sockets(platform.http) for _ in range(4)]
    await socket_login(ann_socket, "ann@example.com")
    await socket_login(ann_tablet, "ann@example.com")
    await socket_login(bob_socket, "bob@example.com")

    await activity(ann_socket, ann)
    await activity(bob_socket, bob)
    status, _ = await platform.request("POST", "/notes", json={"text": "over REST"}, token=ann_token)
    assert status == 201
    await platform.app.service("notes").create({"text": "from the system", "userId": bob["_id"]})
    await platform.app.service("notes").create({"text": "nobody's"})
    await settled(platform.app, ann_socket, ann_tablet, bob_socket, anonymous)

    def expected(owner: Any) -> list[tuple[str, Any]]:
        return [("notes created", owner), ("notes patched", owner), ("notes removed", owner),
                ("api-keys created", owner), ("api-keys removed", owner), ("users patched", owner)]

    assert summary(ann_socket.received) == [*expected(ann["_id"]), ("notes created", ann["_id"])]
    assert summary(ann_tablet.received) == summary(ann_socket.received)
    assert summary(bob_socket.received) == [*expected(bob["_id"]), ("notes created", bob["_id"])]
    assert anonymous.received == []
    for client in (ann_socket, ann_tablet, bob_socket):
        for name, (payload,) in client.received:
            assert not {"password", "hash", "key"} & set(payload), (name, payload)


async def test_a_logged_out_socket_stops_receiving(platform: Platform, sockets, settled) -> None:
    add_notes(platform)
    ann, _ = await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    await platform.app.service("notes").create({"text": "one", "userId": ann["_id"]})
    await settled(platform.app, socket)
    await socket.call("remove", "authentication", None, {})
    await platform.app.service("notes").create({"text": "two", "userId": ann["_id"]})
    await platform.app.service("users").patch(ann["_id"], {"name": "Ann"})
    await settled(platform.app, socket)
    assert [(name, args[0]["text"]) for name, args in socket.received] == [("notes created", "one")]


async def test_the_authentication_service_publishes_nothing(platform: Platform, sockets, settled) -> None:
    ann, _ = await platform.member("ann@example.com")
    await platform.set_tier(ann, "pro")  # two sockets
    watcher = await sockets(platform.http)
    await socket_login(watcher, "ann@example.com")
    other = await sockets(platform.http)
    await socket_login(other, "ann@example.com")
    await other.call("remove", "authentication", None, {})
    await platform.login("ann@example.com")
    await settled(platform.app, watcher, other)
    assert watcher.received == [] and other.received == []


async def test_no_secret_in_any_response_event_or_log(platform: Platform, sockets, settled, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []  # everything that left the server, as text

    async def rest(method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        status, body = await platform.request(method, path, **kwargs)
        seen.append(repr(body))
        return status, body

    async def call(socket: Any, *args: Any) -> Any:
        ack = await socket.call(*args)
        seen.append(repr(ack))
        return ack

    app_events: list[str] = []
    platform.app.on("login", lambda result, params, context=None: app_events.append(repr(result)))
    platform.app.on("logout", lambda result, params, context=None: app_events.append(repr(result)))

    new_password = "a different password"
    status, ann = await rest("POST", "/users", json={"email": "ann@example.com", "password": PASSWORD})
    assert status == 201
    await rest("POST", "/users", json={"email": "ANN@example.com", "password": PASSWORD})  # 409
    await rest("POST", "/users", json={"email": "bob@example.com", "password": "short"})  # 400
    await rest("POST", "/authentication", json={"strategy": "local", "email": "ann@example.com", "password": "wrong one"})
    await rest("POST", "/authentication", json={"strategy": "local", "email": {"$ne": ""}, "password": {"$ne": ""}})
    _, login = await rest("POST", "/authentication", json={"strategy": "local", "email": "ann@example.com",
                                                            "password": PASSWORD})
    token = login["accessToken"]
    first_hash = (await platform.stored("users", ann["_id"]))["password"]

    socket = await sockets(platform.http)
    await call(socket, "create", "authentication", {"strategy": "local", "email": "ann@example.com",
                                                    "password": PASSWORD}, {})
    await call(socket, "find", "users", {})
    await call(socket, "patch", "users", ann["_id"], {"password": new_password, "currentPassword": "wrong one"}, {})
    await call(socket, "patch", "users", ann["_id"], {"password": new_password, "currentPassword": PASSWORD}, {})
    second_hash = (await platform.stored("users", ann["_id"]))["password"]
    await rest("GET", f"/users/{ann['_id']}", token=token)  # the REST session ended with the change: 401
    _, login = await rest("POST", "/authentication", json={"strategy": "local", "email": "ann@example.com",
                                                            "password": new_password})
    token = login["accessToken"]
    await rest("GET", "/users?$select[]=password&$select[]=email", token=token)

    status, created = await rest("POST", "/api-keys", json={"name": "bot"}, token=token)
    assert status == 201
    key = created["key"]
    key_hash = hashlib.sha256(key.encode()).hexdigest()
    seen.remove(repr(created))  # the one place the key may appear
    await rest("GET", "/api-keys", token=token)
    await rest("GET", "/api-keys?$select[]=hash", api_key=key)
    await rest("GET", f"/api-keys/{created['_id']}", api_key=key)
    await call(socket, "find", "api-keys", {})
    await rest("DELETE", f"/api-keys/{created['_id']}", token=token)
    await rest("GET", "/users", api_key=key)  # revoked: 401
    await call(socket, "remove", "authentication", None, {})
    await rest("POST", "/authentication", json={"strategy": "local", "email": "ann@example.com", "password": new_password})
    await rest("DELETE", "/authentication", token=token)
    await settled(platform.app, socket)

    seen.extend(repr(args) for _, args in socket.received)
    assert socket.received, "the flow should have produced events"
    assert len(app_events) == 6  # four logins, two logouts
    assert caplog.records, "nothing was logged: the capture is not working"
    secrets = {"first hash": first_hash, "second hash": second_hash, "password": PASSWORD,
               "new password": new_password, "api key": key, "api key hash": key_hash}
    for where, texts in (("responses and events", seen), ("app events", app_events), ("log", [caplog.text])):
        for text in texts:
            for name, secret in secrets.items():
                assert secret not in text, f"{name} found in {where}: {text[:500]}"

"""`api-keys`: shown once, stored as a hash, listed without the secret, revocable; `X-API-Key`."""

from __future__ import annotations

import hashlib
import re

import pytest

from cryptorobot.schemas import SERVER_SET
from platform_support import Platform, as_json, bad_request, not_authenticated, not_found, socket_login

KEY_FIELDS = {"_id", "name", "userId", "prefix", "createdAt", "updatedAt"}


async def new_key(platform: Platform, token: str, name: str = "trading bot") -> dict:
    status, body = await platform.request("POST", "/api-keys", json={"name": name}, token=token)
    assert status == 201, body
    return body


async def test_create_shows_the_key_once(platform: Platform) -> None:
    ann, token = await platform.member("ann@example.com")
    created = await new_key(platform, token)
    assert set(created) == KEY_FIELDS | {"key"}
    assert re.fullmatch(r"crk_[A-Za-z0-9_-]{43}", created["key"])
    assert (created["name"], created["userId"], created["prefix"]) == ("trading bot", ann["_id"], created["key"][:8])
    listed = await platform.request("GET", "/api-keys", token=token)
    assert listed == (200, {"total": 1, "limit": 25, "skip": 0,
                            "data": [{k: v for k, v in created.items() if k != "key"}]})
    fetched = await platform.request("GET", f"/api-keys/{created['_id']}", token=token)
    assert fetched == (200, {k: v for k, v in created.items() if k != "key"})


async def test_only_the_hash_is_stored(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    created = await new_key(platform, token)
    stored = await platform.stored("api-keys", created["_id"])
    assert stored["hash"] == hashlib.sha256(created["key"].encode()).hexdigest()
    assert set(stored) == KEY_FIELDS | {"hash"}
    assert created["key"] not in repr(stored)


async def test_each_key_is_different(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    first, second = await new_key(platform, token, "a"), await new_key(platform, token, "b")
    assert first["key"] != second["key"]


@pytest.mark.parametrize(("data", "errors"), [
    ({}, {"name": ["Missing data for required field."]}),
    ({"name": ""}, {"name": ["Length must be between 1 and 100."]}),
    ({"name": "k", "userId": 12345}, {"userId": [SERVER_SET]}),
    ({"name": "k", "createdAt": "2000-01-01T00:00:00.000Z"}, {"createdAt": [SERVER_SET]}),
    ({"name": "k", "hash": "0" * 64}, {"hash": ["Unknown field."]}),
    ({"name": "k", "key": "crk_chosen"}, {"key": ["Unknown field."]}),
])
async def test_create_validation(platform: Platform, data: dict, errors: dict) -> None:
    _, token = await platform.member("ann@example.com")
    status, body = await platform.request("POST", "/api-keys", json=data, token=token)
    assert (status, body) == (400, bad_request(errors))
    assert await platform.app.service("api-keys").find({"paginate": False}) == []


@pytest.mark.parametrize(("method", "path"), [("GET", "/api-keys"), ("POST", "/api-keys"), ("GET", "/api-keys/0"),
                                              ("DELETE", "/api-keys/0")])
async def test_anonymous_callers_are_refused(platform: Platform, method: str, path: str) -> None:
    body = {"name": "k"} if method == "POST" else None
    assert await platform.request(method, path, json=body) == (401, not_authenticated("Not authenticated"))


async def test_a_key_authenticates_as_its_owner(platform: Platform) -> None:
    ann, token = await platform.member("ann@example.com")
    await platform.member("bob@example.com")
    created = await new_key(platform, token)
    status, page = await platform.request("GET", "/users", api_key=created["key"])
    assert (status, page["data"]) == (200, [ann])
    status, keys = await platform.request("GET", "/api-keys", api_key=created["key"])
    assert (status, [key["_id"] for key in keys["data"]]) == (200, [created["_id"]])


KEY_FORBIDDEN = {"name": "Forbidden", "message": "API keys can not manage accounts or keys; log in with a password",
                 "code": 403, "className": "forbidden", "data": {"code": "FORBIDDEN"}}


async def test_a_key_can_not_take_the_account_over(platform: Platform) -> None:
    ann, token = await platform.member("ann@example.com")
    created = await new_key(platform, token)
    attempts = [("PATCH", f"/users/{ann['_id']}", {"password": "taken-over-1"}), ("DELETE", f"/users/{ann['_id']}", None),
                ("POST", "/api-keys", {"name": "another"}), ("DELETE", f"/api-keys/{created['_id']}", None)]
    for method, path, body in attempts:
        assert await platform.request(method, path, json=body, api_key=created["key"]) == (403, KEY_FORBIDDEN)
    # Exchanging the key for a token does not lift the limit.
    status, exchanged = await platform.request("POST", "/authentication", json={"strategy": "api-key", "apiKey": created["key"]})
    assert status == 201 and exchanged["authentication"]["payload"]["amr"] == ["api-key"]
    for method, path, body in attempts:
        assert await platform.request(method, path, json=body, token=exchanged["accessToken"]) == (403, KEY_FORBIDDEN)
    # A password login still may.
    status, patched = await platform.request("PATCH", f"/users/{ann['_id']}", json={"name": "Ann"}, token=token)
    assert (status, patched["name"]) == (200, "Ann")


async def test_a_key_authenticates_a_socket_handshake(platform: Platform, sockets) -> None:
    ann, token = await platform.member("ann@example.com")
    created = await new_key(platform, token)
    socket = await sockets(platform.http, headers={"X-API-Key": created["key"]})
    error, page = await socket.call("find", "users", {})
    assert error is None and page["data"] == [ann]


@pytest.mark.parametrize("key", ["crk_" + "A" * 43, "garbage", "crk_"])
async def test_unknown_keys(platform: Platform, key: str) -> None:
    _, token = await platform.member("ann@example.com")
    await new_key(platform, token)
    assert await platform.request("GET", "/users", api_key=key) == (401, not_authenticated("Invalid API key"))


async def test_revoked_key(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    revoked, kept = await new_key(platform, token, "old"), await new_key(platform, token, "new")
    status, body = await platform.request("DELETE", f"/api-keys/{revoked['_id']}", token=token)
    assert (status, body) == (200, {k: v for k, v in revoked.items() if k != "key"})
    assert await platform.request("GET", "/users", api_key=revoked["key"]) == (401, not_authenticated("Invalid API key"))
    assert (await platform.request("GET", "/users", api_key=kept["key"]))[0] == 200
    status, page = await platform.request("GET", "/api-keys", token=token)
    assert [key["_id"] for key in page["data"]] == [kept["_id"]]


async def test_a_revoked_key_stops_working_at_once(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    created = await new_key(platform, token)
    assert (await platform.request("DELETE", f"/api-keys/{created['_id']}", token=token))[0] == 200
    assert await platform.request("GET", "/api-keys", api_key=created["key"]) == (401, not_authenticated("Invalid API key"))


async def test_key_of_a_deleted_user(platform: Platform) -> None:
    ann, token = await platform.member("ann@example.com")
    created = await new_key(platform, token)
    await platform.app.service("users").remove(ann["_id"])
    assert await platform.request("GET", "/api-keys", api_key=created["key"]) == (401, not_authenticated("Not authenticated"))


async def test_another_users_keys_do_not_exist(platform: Platform) -> None:
    ann, ann_token = await platform.member("ann@example.com")
    bob, bob_token = await platform.member("bob@example.com")
    mine, theirs = await new_key(platform, ann_token, "mine"), await new_key(platform, bob_token, "theirs")
    id = theirs["_id"]
    assert await platform.request("GET", f"/api-keys/{id}", token=ann_token) == (404, not_found(id))
    assert await platform.request("DELETE", f"/api-keys/{id}", token=ann_token) == (404, not_found(id))
    assert (await platform.request("GET", "/users", api_key=theirs["key"]))[1]["data"] == [bob]  # still valid
    for query in (f"userId={bob['_id']}", f"$or[0][userId]={bob['_id']}", "name=theirs",
                  "$or[0][name]=theirs&$or[1][name]=mine", f"userId[$ne]={ann['_id']}"):
        status, page = await platform.request("GET", f"/api-keys?{query}", token=ann_token)
        assert status == 200 and theirs["_id"] not in [key["_id"] for key in page["data"]], query
        assert [key["_id"] for key in page["data"]] in ([], [mine["_id"]]), query


async def test_keys_created_over_a_socket(platform: Platform, sockets) -> None:
    ann, _ = await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    error, created = await socket.call("create", "api-keys", {"name": "socket key"}, {})
    assert error is None and created["userId"] == ann["_id"] and created["key"].startswith("crk_")
    status, page = await platform.request("GET", "/users", api_key=created["key"])
    assert (status, page["data"]) == (200, [ann])
    stored = as_json(await platform.stored("api-keys", created["_id"]))
    assert "key" not in stored and stored["hash"] == hashlib.sha256(created["key"].encode()).hexdigest()

"""`users`: sign-up, the stored hash, and a user's access to their own record only."""

from __future__ import annotations

from unittest.mock import ANY

import bcrypt
import pytest

from cryptorobot.schemas import SERVER_SET
from platform_support import PASSWORD, Platform, as_json, bad_request, not_authenticated, not_found

USER_FIELDS = {"_id", "email", "tier", "roles", "createdAt", "updatedAt"}


async def all_users(platform: Platform) -> list[dict]:
    return await platform.app.service("users").find({"paginate": False})


# -- sign-up ---------------------------------------------------------------------------------------

async def test_sign_up(platform: Platform) -> None:
    status, body = await platform.request("POST", "/users", json={"email": "ann@example.com", "password": PASSWORD,
                                                                   "name": "Ann"})
    assert status == 201
    assert set(body) == USER_FIELDS | {"name"}
    assert (body["email"], body["name"]) == ("ann@example.com", "Ann")
    assert body["createdAt"] == body["updatedAt"]


async def test_the_password_is_stored_only_as_a_bcrypt_hash(platform: Platform) -> None:
    user = await platform.sign_up("ann@example.com")
    stored = await platform.stored("users", user["_id"])
    assert stored["password"] != PASSWORD
    assert stored["password"].startswith("$2b$04$")  # the test config's cost
    assert bcrypt.checkpw(PASSWORD.encode(), stored["password"].encode())
    assert PASSWORD not in repr(stored)


async def test_email_is_stored_lower_case(platform: Platform) -> None:
    user = await platform.sign_up("  Ann@Example.COM ")
    assert user["email"] == "ann@example.com"
    assert (await platform.login("ANN@example.com"))["user"]["_id"] == user["_id"]


@pytest.mark.parametrize("second", ["ann@example.com", "ANN@EXAMPLE.COM", " Ann@example.com"])
async def test_email_is_unique_case_insensitively(platform: Platform, second: str) -> None:
    await platform.sign_up("ann@example.com")
    status, body = await platform.request("POST", "/users", json={"email": second, "password": "another password"})
    assert (status, body) == (409, {"name": "Conflict", "message": "Duplicate value for unique index (email)",
                                    "code": 409, "className": "conflict",
                                    "data": {"code": "CONFLICT", "fields": ["email"]}})
    assert len(await all_users(platform)) == 1


@pytest.mark.parametrize(("data", "errors"), [
    ({"email": "ann@example.com", "password": "7 chars"}, {"password": ["Shorter than minimum length 8."]}),
    ({"email": "ann@example.com", "password": "x" * 73}, {"password": ["Longer than 72 bytes in UTF-8."]}),
    ({"email": "ann@example.com", "password": "\u00e9" * 37},  # 37 characters, 74 bytes
     {"password": ["Longer than 72 bytes in UTF-8."]}),
    ({"email": "ann@example.com", "password": "\ud800" * 8}, {"password": ["Not valid Unicode text."]}),
    ({"email": "not an email", "password": PASSWORD}, {"email": ["Not a valid email address."]}),
    ({"email": "ann@example.com"}, {"password": ["Missing data for required field."]}),
    ({"password": PASSWORD}, {"email": ["Missing data for required field."]}),
    ({"email": "ann@example.com", "password": {"$gt": ""}}, {"password": ["Not a valid string."]}),
    ({"email": "ann@example.com", "password": PASSWORD, "_id": "mine"}, {"_id": [SERVER_SET]}),
    ({"email": "ann@example.com", "password": PASSWORD, "createdAt": "2000-01-01T00:00:00.000Z"},
     {"createdAt": [SERVER_SET]}),
    ({"email": "ann@example.com", "password": PASSWORD, "admin": True}, {"admin": ["Unknown field."]}),
])
async def test_sign_up_validation(platform: Platform, data: dict, errors: dict) -> None:
    assert await platform.request("POST", "/users", json=data) == (400, bad_request(errors))
    assert await all_users(platform) == []


async def test_a_password_of_exactly_72_bytes_works(platform: Platform) -> None:
    password = "\u00e9" * 36  # 72 bytes
    await platform.sign_up("ann@example.com", password)
    await platform.login("ann@example.com", password)


# -- one's own record only -------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/users", None),
    ("GET", "/users/0", None),
    ("PATCH", "/users/0", {"name": "x"}),
    ("DELETE", "/users/0", None),
])
async def test_anonymous_callers_are_refused(platform: Platform, method: str, path: str, body: dict | None) -> None:
    await platform.sign_up("ann@example.com")
    assert await platform.request(method, path, json=body) == (401, not_authenticated("Not authenticated"))


async def test_find_lists_only_oneself(platform: Platform) -> None:
    ann, token = await platform.member("ann@example.com")
    await platform.member("bob@example.com")
    status, page = await platform.request("GET", "/users", token=token)
    assert status == 200
    assert (page["total"], page["data"]) == (1, [ann])


async def test_get_own_record(platform: Platform) -> None:
    ann, token = await platform.member("ann@example.com")
    assert await platform.request("GET", f"/users/{ann['_id']}", token=token) == (200, ann)


async def test_another_users_record_does_not_exist(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    bob, _ = await platform.member("bob@example.com")
    id = bob["_id"]
    assert await platform.request("GET", f"/users/{id}", token=token) == (404, not_found(id))
    assert await platform.request("PATCH", f"/users/{id}", json={"name": "Mallory"}, token=token) == (404, not_found(id))
    assert await platform.request("PATCH", f"/users/{id}", json={"password": "taken over!", "currentPassword": PASSWORD},
                                  token=token) == (404, not_found(id))
    assert await platform.request("DELETE", f"/users/{id}", token=token) == (404, not_found(id))
    stored = await platform.stored("users", id)
    assert "name" not in stored
    assert bcrypt.checkpw(PASSWORD.encode(), stored["password"].encode())


@pytest.mark.parametrize("query", [
    "email={bob_email}",
    "_id={bob_id}",
    "_id[$in][]={bob_id}&_id[$in][]={ann_id}",
    "_id[$ne]={ann_id}",
    "$or[0][email]={bob_email}",
    "$or[0][_id]={bob_id}&$or[1][email]={bob_email}",
    "$or[0][email][$ne]=nobody&$or[1][_id][$ne]={ann_id}",
    "$and[0][email]={bob_email}",
])
async def test_query_tricks_never_reach_another_user(platform: Platform, query: str) -> None:
    ann, token = await platform.member("ann@example.com")
    bob, _ = await platform.member("bob@example.com")
    path = "/users?" + query.format(bob_email=bob["email"], bob_id=bob["_id"], ann_id=ann["_id"])
    status, page = await platform.request("GET", path, token=token)
    assert status == 200, page
    assert bob["_id"] not in [user["_id"] for user in page["data"]]
    assert [user["_id"] for user in page["data"]] in ([], [ann["_id"]])


async def test_query_tricks_with_real_types_over_a_socket(platform: Platform, sockets) -> None:
    from platform_support import socket_login

    ann, _ = await platform.member("ann@example.com")
    bob, _ = await platform.member("bob@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    for query, expected in [
        ({"_id": bob["_id"]}, [ann]),  # the owner condition replaces the caller's
        ({"_id": {"$in": [bob["_id"], ann["_id"]]}}, [ann]),
        ({"$or": [{"_id": bob["_id"]}]}, []),
        ({"$or": [{"email": bob["email"]}, {"_id": bob["_id"]}]}, []),
        ({"$and": [{"_id": bob["_id"]}]}, []),
    ]:
        error, page = await socket.call("find", "users", query)
        assert error is None and page["data"] == expected, query
    assert await socket.call("get", "users", bob["_id"], {}) == not_found(bob["_id"])
    assert await socket.call("get", "users", bob["_id"], {"_id": bob["_id"]}) == not_found(bob["_id"])


async def test_internal_calls_are_not_restricted(platform: Platform) -> None:
    await platform.member("ann@example.com")
    await platform.member("bob@example.com")
    users = await all_users(platform)
    assert sorted(user["email"] for user in users) == ["ann@example.com", "bob@example.com"]
    assert all(user["password"].startswith("$2b$") for user in users)


# -- changing one's record -------------------------------------------------------------------------

async def test_patch_own_record(platform: Platform) -> None:
    ann, token = await platform.member("ann@example.com")
    status, body = await platform.request("PATCH", f"/users/{ann['_id']}", json={"name": "Ann B."}, token=token)
    assert status == 200
    assert body == {**ann, "name": "Ann B.", "updatedAt": body["updatedAt"]}
    assert body["updatedAt"] >= ann["updatedAt"]


async def test_changing_the_password_rehashes_it(platform: Platform) -> None:
    ann, token = await platform.member("ann@example.com")
    before = (await platform.stored("users", ann["_id"]))["password"]
    status, body = await platform.request("PATCH", f"/users/{ann['_id']}",
                                          json={"password": "a new password", "currentPassword": PASSWORD}, token=token)
    assert status == 200 and "password" not in body
    after = (await platform.stored("users", ann["_id"]))["password"]
    assert after != before and after.startswith("$2b$04$")
    assert bcrypt.checkpw(b"a new password", after.encode())
    assert await platform.request("POST", "/authentication", json={
        "strategy": "local", "email": "ann@example.com", "password": PASSWORD}) == (401, not_authenticated("Invalid login"))
    await platform.login("ann@example.com", "a new password")


@pytest.mark.parametrize(("data", "errors"), [
    ({"password": "short", "currentPassword": PASSWORD}, {"password": ["Shorter than minimum length 8."]}),
    ({"email": "nope"}, {"email": ["Not a valid email address."]}),
    ({"_id": 99}, {"_id": [SERVER_SET]}),
    ({"createdAt": "2000-01-01T00:00:00.000Z"}, {"createdAt": [SERVER_SET]}),
    ({"userId": 99}, {"userId": [SERVER_SET]}),
])
async def test_patch_validation(platform: Platform, data: dict, errors: dict) -> None:
    ann, token = await platform.member("ann@example.com")
    assert await platform.request("PATCH", f"/users/{ann['_id']}", json=data, token=token) == (400, bad_request(errors))
    assert as_json(await platform.stored("users", ann["_id"])) == {**ann, "password": ANY}


async def test_patch_email_is_normalised_and_unique(platform: Platform) -> None:
    ann, token = await platform.member("ann@example.com")
    await platform.sign_up("bob@example.com")
    status, body = await platform.request("PATCH", f"/users/{ann['_id']}", json={"email": "BOB@example.com"}, token=token)
    assert status == 409 and body["name"] == "Conflict"
    status, body = await platform.request("PATCH", f"/users/{ann['_id']}", json={"email": " ANNE@Example.com"}, token=token)
    assert (status, body["email"]) == (200, "anne@example.com")


async def test_multi_patch_is_not_allowed(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    status, body = await platform.request("PATCH", "/users", json={"name": "all"}, token=token)
    assert (status, body["name"]) == (405, "MethodNotAllowed")


async def test_internal_update_still_hashes(platform: Platform) -> None:
    ann = await platform.sign_up("ann@example.com")
    await platform.app.service("users").update(ann["_id"], {"email": "ANN@example.com", "password": "replaced password"})
    stored = await platform.stored("users", ann["_id"])
    assert stored["email"] == "ann@example.com"
    assert bcrypt.checkpw(b"replaced password", stored["password"].encode())


async def test_removing_oneself_ends_every_token(platform: Platform) -> None:
    ann, token = await platform.member("ann@example.com")
    status, body = await platform.request("DELETE", f"/users/{ann['_id']}", token=token)
    assert (status, body) == (200, ann)
    assert await platform.request("GET", "/users", token=token) == (401, not_authenticated("Not authenticated"))
    assert await platform.request("POST", "/authentication", json={"strategy": "jwt", "accessToken": token}) == (
        401, not_authenticated("Not authenticated"))

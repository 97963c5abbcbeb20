"""`restrict_to_owner` on a generic owned resource (`notes`), over REST and Socket.IO."""

from __future__ import annotations

import pytest

from platform_support import Platform, add_notes, not_authenticated, not_found, socket_login


@pytest.fixture
async def owners(platform: Platform) -> tuple[Platform, dict, str, dict, str]:
    add_notes(platform)
    ann, ann_token = await platform.member("ann@example.com")
    bob, bob_token = await platform.member("bob@example.com")
    return platform, ann, ann_token, bob, bob_token


async def test_create_stamps_the_caller_as_owner(owners) -> None:
    platform, ann, ann_token, bob, _ = owners
    status, note = await platform.request("POST", "/notes", json={"text": "hi", "userId": bob["_id"]}, token=ann_token)
    assert (status, note) == (201, {"_id": note["_id"], "text": "hi", "userId": ann["_id"]})


async def test_patch_and_update_can_not_hand_a_record_to_someone_else(owners, sockets, settled) -> None:
    platform, ann, ann_token, bob, _ = owners
    bob_socket = await sockets(platform.http)
    await socket_login(bob_socket, "bob@example.com")
    _, note = await platform.request("POST", "/notes", json={"text": "hi"}, token=ann_token)
    status, patched = await platform.request("PATCH", f"/notes/{note['_id']}", json={"userId": bob["_id"], "text": "p"},
                                             token=ann_token)
    assert (status, patched) == (200, {"_id": note["_id"], "text": "p", "userId": ann["_id"]})
    status, replaced = await platform.request("PUT", f"/notes/{note['_id']}", json={"text": "u"}, token=ann_token)
    assert (status, replaced) == (200, {"_id": note["_id"], "text": "u", "userId": ann["_id"]})
    status, replaced = await platform.request("PUT", f"/notes/{note['_id']}", json={"text": "v", "userId": bob["_id"]},
                                              token=ann_token)
    assert (status, replaced["userId"]) == (200, ann["_id"])
    assert (await platform.stored("notes", note["_id"]))["userId"] == ann["_id"]
    await settled(platform.app, bob_socket)
    assert bob_socket.received == []


async def test_another_users_record_answers_404(owners) -> None:
    platform, _, ann_token, _, bob_token = owners
    _, note = await platform.request("POST", "/notes", json={"text": "bob's"}, token=bob_token)
    id = note["_id"]
    for method, body in (("GET", None), ("PATCH", {"text": "x"}), ("PUT", {"text": "x"}), ("DELETE", None)):
        assert await platform.request(method, f"/notes/{id}", json=body, token=ann_token) == (404, not_found(id)), method
    assert (await platform.stored("notes", id))["text"] == "bob's"


@pytest.mark.parametrize("query", [
    "userId={bob}", "userId[$ne]={ann}", "userId[$in][]={bob}", "$or[0][userId]={bob}",
    "$or[0][text]=bob's&$or[1][userId]={bob}", "$and[0][userId]={bob}", "text=bob's",
])
async def test_find_never_shows_another_users_records(owners, query: str) -> None:
    platform, ann, ann_token, bob, bob_token = owners
    await platform.request("POST", "/notes", json={"text": "ann's"}, token=ann_token)
    await platform.request("POST", "/notes", json={"text": "bob's"}, token=bob_token)
    status, found = await platform.request("GET", "/notes?" + query.format(ann=ann["_id"], bob=bob["_id"]), token=ann_token)
    assert status == 200, found
    assert [note["text"] for note in found] in ([], ["ann's"])


async def test_socket_queries_with_real_types(owners, sockets) -> None:
    platform, ann, _, bob, bob_token = owners
    _, theirs = await platform.request("POST", "/notes", json={"text": "bob's"}, token=bob_token)
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    for query in ({"userId": bob["_id"]}, {"userId": {"$in": [bob["_id"], ann["_id"]]}},
                  {"$or": [{"userId": bob["_id"]}]}, {"$or": [{"_id": theirs["_id"]}, {"text": "bob's"}]}):
        assert await socket.call("find", "notes", query) == (None, []), query
    assert await socket.call("get", "notes", theirs["_id"], {"userId": bob["_id"]}) == not_found(theirs["_id"])
    assert await socket.call("remove", "notes", None, {"userId": bob["_id"]}) == {
        "name": "MethodNotAllowed", "message": "Can not remove multiple entries", "code": 405,
        "className": "method-not-allowed", "data": {"code": "METHOD_NOT_ALLOWED"}}


async def test_anonymous_callers_are_refused(owners) -> None:
    platform, *_ = owners
    assert await platform.request("GET", "/notes") == (401, not_authenticated("Not authenticated"))
    assert await platform.request("POST", "/notes", json={"text": "x"}) == (401, not_authenticated("Not authenticated"))


async def test_internal_calls_are_not_restricted(owners) -> None:
    platform, ann, ann_token, bob, bob_token = owners
    await platform.request("POST", "/notes", json={"text": "ann's"}, token=ann_token)
    await platform.request("POST", "/notes", json={"text": "bob's"}, token=bob_token)
    notes = await platform.app.service("notes").find()
    assert sorted((note["text"], note["userId"]) for note in notes) == [("ann's", ann["_id"]), ("bob's", bob["_id"])]
    moved = await platform.app.service("notes").patch(notes[0]["_id"], {"userId": bob["_id"]})
    assert moved["userId"] == bob["_id"]

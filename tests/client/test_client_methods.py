"""Every method of `cryptorobot.client` over both transports, against a server on real sockets.

The same test runs over Socket.IO and over REST (`transport`): the results must be the same,
and the errors the same classes with the same JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cryptorobot import errors
from cryptorobot.client import Client, stringify_query
from cryptorobot.transports.querystring import parse_query_string
from tests.client.client_app import FAILURE
from tests.server_process import free_port


async def test_the_six_methods(served, clients, transport) -> None:
    messages = clients(served.url, transport=transport).service("messages")
    created = await messages.create({"text": "hello", "run": "a"})
    assert created == {"text": "hello", "run": "a", "id": created["id"]}
    assert await messages.get(created["id"]) == created
    assert await messages.find() == {"total": 1, "limit": 10, "skip": 0, "data": [created]}
    patched = await messages.patch(created["id"], {"text": "patched"})
    assert patched == {**created, "text": "patched"}
    replaced = await messages.update(created["id"], {"text": "replaced"})
    assert replaced == {"text": "replaced", "id": created["id"]}
    assert await messages.remove(created["id"]) == replaced
    with pytest.raises(errors.NotFound) as missing:
        await messages.get(created["id"])
    assert missing.value.to_json() == {"name": "NotFound", "message": f"No record found for id '{created['id']}'",
                                       "code": 404, "className": "not-found"}


async def test_multi_create_patch_and_remove(served, clients, transport) -> None:
    messages = clients(served.url, transport=transport).service("messages")
    made = await messages.create([{"text": "a", "run": "x"}, {"text": "b", "run": "x"}, {"text": "c", "run": "y"}])
    assert [message["text"] for message in made] == ["a", "b", "c"]
    patched = await messages.patch(None, {"seen": True}, query={"run": "x"})
    assert sorted((message["text"], message["seen"]) for message in patched) == [("a", True), ("b", True)]
    removed = await messages.remove(None, query={"run": {"$in": ["x"]}})
    assert sorted(message["text"] for message in removed) == ["a", "b"]
    assert [message["text"] for message in (await messages.find())["data"]] == ["c"]


async def test_query_syntax(served, clients, transport) -> None:
    messages = clients(served.url, transport=transport).service("messages")
    await messages.create([{"text": text, "run": run} for text, run in [("a", "1"), ("b", "2"), ("c", "1"), ("d", "3")]])
    page = await messages.find(query={"run": {"$in": ["1", "3"]}, "$sort": {"text": -1}, "$select": ["text"],
                                      "$limit": 2, "$skip": 1})
    assert page["total"] == 3 and page["limit"] == 2 and page["skip"] == 1
    assert [sorted(record) for record in page["data"]] == [["id", "text"], ["id", "text"]]
    assert [record["text"] for record in page["data"]] == ["c", "a"]
    either = await messages.find(query={"$or": [{"text": "a"}, {"text": {"$in": ["d"]}}], "$sort": {"text": 1}})
    assert [record["text"] for record in either["data"]] == ["a", "d"]
    assert (await messages.find(query={"text": {"$nin": ["a", "b", "c"]}}))["total"] == 1
    assert (await messages.find(query={"$limit": 0}))["total"] == 4


QUERY = {"$limit": 25, "status": {"$in": ["running", "stopped"]}, "$sort": {"createdAt": -1, "name": 1},
         "$select": ["name", "status"], "createdAt": {"$gte": datetime(2024, 3, 13, 17, 21, 50, 123000, tzinfo=UTC)},
         "$or": [{"symbol": "BTC/USDT"}, {"symbol": "ETH/USDT", "amount": {"$gt": 0.5}}], "note": None, "active": True,
         "text": "café & co = 100%", "ids": list(range(30))}


async def test_rest_sends_the_query_as_qs_encodes_it(served, clients) -> None:
    echo = clients(served.url, transport="rest").service("echo")
    answer = await echo.find(query=QUERY)
    # What the server parsed is qs.parse of what qs.stringify wrote: every leaf a string.
    assert answer["query"] == parse_query_string(stringify_query(QUERY))
    assert answer["query"]["status"] == {"$in": ["running", "stopped"]}
    assert answer["query"]["$sort"] == {"createdAt": "-1", "name": "1"}
    assert answer["query"]["createdAt"] == {"$gte": "2024-03-13T17:21:50.123Z"}
    assert answer["query"]["ids"] == [str(i) for i in range(30)]  # more than qs's 20: still a list
    assert answer["query"]["text"] == "café & co = 100%" and answer["query"]["note"] == ""
    assert answer["provider"] == "rest"


async def test_socketio_sends_the_query_as_json(served, clients) -> None:
    echo = clients(served.url).service("echo")
    answer = await echo.find(query=QUERY)
    assert answer["query"] == {**QUERY, "createdAt": {"$gte": "2024-03-13T17:21:50.123Z"}}
    assert answer["provider"] == "socketio"


async def test_nested_paths_and_route_placeholders(served, clients, transport) -> None:
    orders = clients(served.url, transport=transport).service("/traders/t-1/orders/")
    assert orders.path == "traders/t-1/orders"
    assert (await orders.find())["route"] == {"traderId": "t-1"}


async def test_ids_with_reserved_characters(served, clients, transport) -> None:
    messages = clients(served.url, transport=transport).service("messages")
    for id in ("a/b c", "100%", "x?y=1&z#", "é"):
        created = await messages.create({"id": id, "text": "odd id"})
        assert created["id"] == id
        assert await messages.get(id) == created
        assert await messages.remove(id) == created


async def test_data_travels_as_json_does(served, clients, transport) -> None:
    messages = clients(served.url, transport=transport).service("messages")
    created = await messages.create({"at": datetime(2024, 1, 2, 3, 4, 5, 678900, tzinfo=UTC), "ratio": float("nan"),
                                     "nested": {"list": [1, 2.5, None, True, "s"]}})
    assert created["at"] == "2024-01-02T03:04:05.678Z"
    assert created["ratio"] is None
    assert created["nested"] == {"list": [1, 2.5, None, True, "s"]}


async def test_custom_methods(served, clients, transport) -> None:
    messages = clients(served.url, transport=transport).service("messages")
    await messages.create({"text": "one", "run": "r"})
    expected = {"run": "r", "count": 1, "provider": transport}
    assert await messages.summary({"run": "r"}) == expected
    assert await messages.call("summary", {"run": "r"}) == expected
    assert await messages.announce({"status": "fine"}, query={"loud": True}) == {"status": "fine"}
    # No data: Socket.IO sends null; REST sends no body, which the server reads as {} (as
    # with the Feathers REST client).
    assert await messages.announce() == (None if transport == "socketio" else {})


async def test_errors_come_back_as_their_classes(served, clients, transport) -> None:
    client = clients(served.url, transport=transport)
    with pytest.raises(errors.BadRequest) as failed:
        await client.service("messages").fail({"text": "x"})
    assert failed.value.to_json() == FAILURE
    assert failed.value.data["code"] == "TEST_CODE" and failed.value.errors == {"text": "too short"}
    with pytest.raises(errors.MethodNotAllowed):
        await client.service("notes").remove(1)  # not exposed
    with pytest.raises(errors.MethodNotAllowed):
        await client.service("messages").explode({})  # no such custom method
    with pytest.raises(errors.NotFound):
        await client.service("no/such/service").find()
    with pytest.raises(errors.BadRequest):
        await client.service("notes").create([{"a": 1}])  # a list where the service takes none
    # a FeathersError is still an Exception with its message
    assert str(failed.value) == "Not today"


async def test_a_call_without_an_answer_in_time(served, clients, transport) -> None:
    messages = clients(served.url, transport=transport, timeout=0.2).service("messages")
    try:
        with pytest.raises(errors.Timeout) as late:
            await messages.hold({"x": 1})
        assert late.value.data == {"reason": "no-answer"}
        assert "No answer to hold on 'messages'" in late.value.message
    finally:
        served.app.service("messages").raw.release()
    assert (await messages.find())["total"] == 0  # the client still works


async def test_no_server_gives_a_clear_timeout(clients, transport) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    client = clients(url, transport=transport, connect_timeout=0.3)
    with pytest.raises(errors.Timeout) as waited:
        await client.service("messages").find()
    assert waited.value.data == {"reason": "not-connected"}
    assert waited.value.message.startswith(f"No connection to {url} within 0.3 s (")
    assert waited.value.message.endswith("find on 'messages' was not sent")


async def test_context_manager_and_close(served, transport) -> None:
    async with Client(served.url, transport=transport) as client:
        assert client.connected and client.transport == transport
        messages = client.service("messages")
        assert messages is client.service("messages")
        await messages.create({"text": "x"})
    assert not client.connected
    with pytest.raises(RuntimeError, match="closed"):
        await messages.find()
    await client.close()  # twice is fine


async def test_context_manager_without_a_server_raises_and_releases() -> None:
    with pytest.raises(errors.Timeout):
        async with Client(f"http://127.0.0.1:{free_port()}", connect_timeout=0.2):
            pass


def test_unknown_transport() -> None:
    with pytest.raises(ValueError, match="transport"):
        Client("http://localhost:3030", transport="carrier-pigeon")  # type: ignore[arg-type]


def test_private_names_are_not_custom_methods() -> None:
    service: Any = Client("http://localhost:3030").service("x")
    with pytest.raises(AttributeError):
        service._secret  # noqa: B018
    assert service.start.__name__ == "start"

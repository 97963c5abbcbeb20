"""One resolution path: REST and Socket.IO find the same service, id and route params for the
same path (`App.lookup`: Feathers' matching rules, `route_params`, the `:__id` segment)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cryptorobot import App


class Where:
    """Answers with the service's name and the route params and id it was called with."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def find(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"service": self.name, "route": params["route"]}

    async def get(self, id: Any, params: dict[str, Any]) -> dict[str, Any]:
        return {"service": self.name, "id": id, "route": params["route"]}


def make_app() -> App:
    app = App()
    app.use("echo", Where("echo"))
    app.use("users/:userId/messages", Where("user-messages"), {"route_params": {"tenant": "main", "userId": "default"}})
    app.use("users/me/messages", Where("my-messages"))  # a literal segment wins over a placeholder
    app.use("a/:x/b", Where("first"))
    app.use("a/:y/c", Where("second"))
    app.use("orgs/:orgId/users/:userId", Where("org-users"))
    return app


@pytest.fixture
async def served(serve: Any, sockets: Any) -> tuple[Any, Any]:
    client = await serve(make_app())
    return client, await sockets(client)


# (socket path, the same path in a URL)
SAME_PATHS = [
    ("echo", "/echo"),
    ("/echo/", "/echo/"),
    ("users/7/messages", "/users/7/messages"),
    ("users/me/messages", "/users/me/messages"),
    ("users/a b/messages", "/users/a%20b/messages"),
    ("users/café/messages", "/users/caf%C3%A9/messages"),
    ("users/a+b/messages", "/users/a+b/messages"),
    ("a/q/b", "/a/q/b"),
    ("a/q/c", "/a/q/c"),
    ("orgs/o 1/users/u:2", "/orgs/o%201/users/u%3A2"),
]
UNKNOWN_PATHS = [("nowhere", "/nowhere"), ("users/7", "/users/7"), ("Echo", "/Echo"), ("a/q/d", "/a/q/d"),
                 ("echo/1/extra", "/echo/1/extra")]


@pytest.mark.parametrize(("socket_path", "url_path"), SAME_PATHS)
async def test_the_same_path_resolves_the_same_over_both_transports(served: Any, socket_path: str, url_path: str) -> None:
    client, socket = served
    response = await client.get(url_path)
    assert response.status == 200
    over_rest = await response.json()
    assert await socket.call("find", socket_path, {}) == (None, over_rest)
    response = await client.get(f"{url_path.rstrip('/')}/42")  # an item path: the same route, and the id
    assert response.status == 200
    item = await response.json()
    assert item == {**over_rest, "id": "42"}
    assert await socket.call("get", socket_path, "42", {}) == (None, item)


async def test_route_params_are_merged_under_the_placeholders(served: Any) -> None:
    _, socket = served
    assert await socket.call("find", "users/7/messages", {}) == (
        None, {"service": "user-messages", "route": {"tenant": "main", "userId": "7"}})
    assert await socket.call("find", "a/q/c", {}) == (None, {"service": "second", "route": {"y": "q"}})


@pytest.mark.parametrize(("socket_path", "url_path"), UNKNOWN_PATHS)
async def test_unknown_paths_are_not_found_over_both_transports(served: Any, socket_path: str, url_path: str) -> None:
    client, socket = served
    response = await client.get(url_path)
    assert response.status == 404 and (await response.json())["name"] == "NotFound"
    failure = await socket.call("find", socket_path, {})
    assert failure["name"] == "NotFound" and failure["message"] == f"Service '{socket_path}' not found"


async def test_an_encoded_slash_stays_inside_a_rest_segment(served: Any) -> None:
    client, _ = served
    response = await client.get("/users/a%2Fb/messages/x%2Fy")
    assert await response.json() == {"service": "user-messages", "id": "x/y", "route": {"tenant": "main", "userId": "a/b"}}


@given(st.text(alphabet=st.characters(blacklist_characters="/", blacklist_categories=("Cs",)), min_size=1))
def test_a_percent_encoded_segment_resolves_as_its_text(value: str) -> None:
    app = make_app()
    plain = app.lookup(f"orgs/{value}/users/{value}")
    encoded = app.lookup(f"/orgs/{quote(value, safe='')}/users/{quote(value)}", percent_encoded=True)
    assert plain is not None and encoded is not None
    assert encoded == plain
    assert plain.service.path == "orgs/:orgId/users/:userId" and plain.params == {"orgId": value, "userId": value}

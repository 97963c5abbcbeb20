"""Hostile input against every service the platform registers, over REST and Socket.IO.

The services are read from `create_app()` when the tests are collected, so a service added
to the platform later (exchanges, traders, backtests, ...) is covered without a change here.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

import pytest

from cryptorobot.admission import OBJECT_METHODS, accepts_arrays
from cryptorobot.config import load_config
from cryptorobot.platform import create_app
from cryptorobot.service import argument_names
from platform_support import Platform, socket_login


def _data_methods() -> list[tuple[str, str]]:
    """(path, method) of every exposed method that takes data and does not take arrays."""
    settings = {**load_config("test", environ={}), "storage": "memory",
                "authentication": {**load_config("test", environ={})["authentication"], "secret": "collection only"}}
    app = create_app(settings)
    return sorted((path, method) for path, proxy in app.services.items() for method in proxy.methods
                  if "data" in argument_names(method) and not accepts_arrays(proxy, method, {}))


DATA_METHODS = _data_methods()


def rest_request(path: str, method: str) -> tuple[str, str, dict[str, str]]:
    """HTTP verb, URL and headers that reach `method` of the service at `path`."""
    if method in ("update", "patch"):
        return {"update": "PUT", "patch": "PATCH"}[method], f"/{path}/some-id", {}
    if method == "create":
        return "POST", f"/{path}", {}
    return "POST", f"/{path}", {"X-Service-Method": method}


def socket_arguments(path: str, method: str, data: Any) -> tuple[Any, ...]:
    return (method, path, "some-id", data, {}) if method in ("update", "patch") else (method, path, data, {})


def test_the_platform_has_data_methods() -> None:
    assert ("api-keys", "create") in DATA_METHODS and ("users", "patch") in DATA_METHODS


@pytest.mark.parametrize("data", [[], [{"name": "x"}], [[]]])
@pytest.mark.parametrize(("path", "method"), DATA_METHODS)
async def test_an_array_where_none_is_accepted_is_a_400(platform: Platform, sockets: Any, path: str, method: str,
                                                         data: Any) -> None:
    _, token = await platform.member("ann@example.com")
    verb, url, headers = rest_request(path, method)
    status, body = await platform.request(verb, url, json=data, token=token, headers=headers)
    refusal = {"name": "BadRequest", "code": 400, "className": "bad-request",
               "message": f"Service '{path}' does not accept an array for '{method}'", "data": {"code": "BAD_REQUEST"}}
    assert (status, body) == (400, refusal)
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    assert await socket.call(*socket_arguments(path, method, data)) == refusal


@pytest.mark.parametrize("data", ["text", 5, True, None])
@pytest.mark.parametrize(("path", "method"), [(p, m) for p, m in DATA_METHODS if m in OBJECT_METHODS])
async def test_data_that_is_not_an_object_is_a_400(platform: Platform, sockets: Any, path: str, method: str,
                                                    data: Any) -> None:
    _, token = await platform.member("ann@example.com")
    verb, url, headers = rest_request(path, method)
    status, body = await platform.request(verb, url, data=json.dumps(data), token=token,
                                          headers={**headers, "Content-Type": "application/json"})
    refusal = {"name": "BadRequest", "code": 400, "className": "bad-request", "message": "Data must be an object",
               "data": {"code": "BAD_REQUEST"}}
    assert (status, body) == (400, refusal)
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    assert await socket.call(*socket_arguments(path, method, data)) == refusal


def huge_or(clauses: int) -> dict[str, Any]:
    return {"$or": [{"name": f"key {n}"} for n in range(clauses)]}


async def test_a_40000_clause_or_is_refused_before_any_hook_and_others_go_on(platform: Platform, sockets: Any) -> None:
    """The query is refused at admission (no hook, no database), so it costs its sender
    the decoding of the message and nobody else anything."""
    reached: list[Any] = []
    platform.app.service("api-keys").hooks({"before": {"find": [lambda context: reached.append(context.params["query"])]}})
    _, ann_token = await platform.member("ann@example.com")
    await platform.member("bob@example.com")
    status, _ = await platform.request("POST", "/api-keys", json={"name": "ann's"}, token=ann_token)
    assert status == 201
    ann, bob = await sockets(platform.http), await sockets(platform.http)
    await socket_login(ann, "ann@example.com")
    await socket_login(bob, "bob@example.com")
    hostile = asyncio.ensure_future(bob.call("find", "api-keys", huge_or(40_000)))
    honest = asyncio.ensure_future(ann.call("find", "api-keys", {"$limit": 5}))
    refused, answered = await asyncio.gather(hostile, honest)
    assert refused == {"name": "BadRequest", "code": 400, "className": "bad-request",
                       "message": "Query too large: $or has 40000 clauses (at most 100)",
                       "data": {"code": "BAD_REQUEST", "limit": "query.max_clauses", "max": 100}}
    assert answered[0] is None and answered[1]["total"] == 1
    assert len(reached) == 1  # only ann's find reached the service's hooks


def query_string(value: Any, prefix: str = "") -> list[str]:
    """`value` in the bracket form the Feathers REST client sends (qs.stringify, indices)."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return [f"{quote(prefix)}={quote(str(value))}"]
    return [part for key, item in items for part in query_string(item, f"{prefix}[{key}]" if prefix else str(key))]


LIMITS = {"max_clauses": 10, "max_list": 50, "max_depth": 6, "max_terms": 200}


@pytest.mark.parametrize(("query", "limit"), [
    ({"$or": [{"name": "a"}] * 11}, "max_clauses"),
    ({"name": {"$in": [f"k{n}" for n in range(51)]}}, "max_list"),
    ({"$or": [{"name": {"$in": [f"k{n}" for n in range(45)]}}] * 5}, "max_terms"),
    ({"$or": [{"$or": [{"name": {"$in": ["a"]}}]}]}, "max_depth"),
])
async def test_configured_query_limits_hold_over_both_transports(make_platform: Any, sockets: Any, query: dict,
                                                                 limit: str) -> None:
    """REST and Socket.IO refuse alike (the REST query string stays under the parser's own
    1000-parameter limit here, which would otherwise drop the excess silently, as qs does)."""
    platform = await make_platform(query=LIMITS)
    _, token = await platform.member("ann@example.com")
    expected = {"code": "BAD_REQUEST", "limit": f"query.{limit}", "max": LIMITS[limit]}
    status, body = await platform.request("GET", "/api-keys?" + "&".join(query_string(query)), token=token)
    assert (status, body["name"], body["data"]) == (400, "BadRequest", expected)
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    answer = await socket.call("find", "api-keys", query)
    assert (answer["name"], answer["data"]) == ("BadRequest", expected)


def nested(levels: int) -> dict[str, Any]:
    value: Any = []
    for _ in range(levels - 2):
        value = [value]
    return {"name": value}


@pytest.mark.parametrize("levels", [33, 900])
@pytest.mark.parametrize(("path", "method"), DATA_METHODS)
async def test_deeply_nested_data_is_a_400(platform: Platform, sockets: Any, path: str, method: str, levels: int) -> None:
    _, token = await platform.member("ann@example.com")
    verb, url, headers = rest_request(path, method)
    refusal = {"name": "BadRequest", "code": 400, "className": "bad-request",
               "message": "Data nested deeper than 32 levels",
               "data": {"code": "BAD_REQUEST", "limit": "data.max_depth", "max": 32}}
    assert await platform.request(verb, url, json=nested(levels), token=token, headers=headers) == (400, refusal)
    if levels < 100:  # python-socketio's client recurses over what it sends
        socket = await sockets(platform.http)
        await socket_login(socket, "ann@example.com")
        assert await socket.call(*socket_arguments(path, method, nested(levels))) == refusal


async def test_a_schemaless_service_gets_no_deeper_data_either(serve: Any) -> None:
    """The limit is the framework's: a memory service without schemas copied 500 levels
    into a RecursionError (a 500) before it."""
    from cryptorobot import App
    from cryptorobot.adapters import MemoryService

    app = App()
    app.use("things", MemoryService(id="id"))
    client = await serve(app)
    response = await client.post("/things", json=nested(500))
    assert response.status == 400 and (await response.json())["data"] == {"limit": "data.max_depth", "max": 32}
    assert (await client.post("/things", json=nested(32))).status == 201

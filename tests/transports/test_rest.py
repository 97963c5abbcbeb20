"""REST over a real aiohttp server (feathers-wire 1.1-1.10)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest

from cryptorobot import App
from cryptorobot.errors import MethodNotAllowed, NotFound
from tests.echo import ALL_METHODS, Echo, error


class Values:
    """`get(name)` returns a chosen value; `create` returns None."""

    VALUES: ClassVar[dict[str, Any]] = {
        "none": None, "false": False, "zero": 0, "zero-float": 0.0, "empty-string": "",
        "empty-list": [], "empty-dict": {}, "true": True, "one": 1, "text": "x",
        "date": datetime(2024, 3, 13, 17, 21, 50, 123456, tzinfo=UTC),
        "date-plus-2": datetime(2024, 3, 13, 19, 21, 50, 123000, tzinfo=timezone(timedelta(hours=2))),
        "nan": float("nan"),
    }

    async def get(self, id, params):
        if id not in self.VALUES:
            raise NotFound(f"No record found for id '{id}'", {"id": id})
        return self.VALUES[id]

    async def create(self, data, params):
        return None

    async def find(self, params):
        raise RuntimeError("database password is hunter2")


@pytest.fixture
async def echo_app() -> tuple[App, Echo]:
    app = App()
    echo = Echo()
    app.use("echo", echo, {"methods": ALL_METHODS})
    return app, echo


@pytest.fixture
async def client(serve, echo_app):
    app, _ = echo_app
    app.use("values", Values())
    return await serve(app)


async def json_of(response) -> Any:
    assert response.headers["Content-Type"].split(";")[0] == "application/json"
    return json.loads(await response.text())


# -- verbs, paths and statuses (1.2) ---------------------------------------------------------------

@pytest.mark.parametrize(("verb", "path", "body", "status", "expected"), [
    ("GET", "/echo", None, 200, {"method": "find", "query": {}}),
    ("GET", "/echo/1", None, 200, {"method": "get", "id": "1", "query": {}}),
    ("POST", "/echo", {"a": 1}, 201, {"method": "create", "data": {"a": 1}, "query": {}}),
    ("POST", "/echo/7", {"a": 1}, 201, {"method": "create", "data": {"a": 1}, "query": {}}),
    ("PUT", "/echo/1", {"a": 2}, 200, {"method": "update", "id": "1", "data": {"a": 2}, "query": {}}),
    ("PUT", "/echo", {"a": 2}, 200, {"method": "update", "id": None, "data": {"a": 2}, "query": {}}),
    ("PATCH", "/echo/1", {"a": 3}, 200, {"method": "patch", "id": "1", "data": {"a": 3}, "query": {}}),
    ("PATCH", "/echo", {"a": 3}, 200, {"method": "patch", "id": None, "data": {"a": 3}, "query": {}}),
    ("DELETE", "/echo/1", None, 200, {"method": "remove", "id": "1", "query": {}}),
    ("DELETE", "/echo", None, 200, {"method": "remove", "id": None, "query": {}}),
    ("GET", "/echo/", None, 200, {"method": "find", "query": {}}),
])
async def test_verb_table(client, verb, path, body, status, expected) -> None:
    response = await client.request(verb, path, json=body)
    assert response.status == status
    assert await json_of(response) == expected


async def test_body_less_post_put_patch_give_empty_dict(client) -> None:
    for verb, path in (("POST", "/echo"), ("PUT", "/echo/1"), ("PATCH", "/echo/1")):
        response = await client.request(verb, path)
        assert (await json_of(response))["data"] == {}


async def test_get_and_delete_bodies_are_never_parsed(client) -> None:
    # superagent sends Content-Type: application/json on every request, with no body.
    headers = {"Content-Type": "application/json"}
    response = await client.get("/echo/1", data="{not json", headers=headers)
    assert response.status == 200
    response = await client.delete("/echo/1", headers=headers)
    assert response.status == 200


@pytest.mark.parametrize("name", ["none", "false", "zero", "zero-float", "empty-string"])
async def test_falsy_result_gives_204_without_body(client, name) -> None:
    response = await client.get(f"/values/{name}")
    assert response.status == 204
    assert await response.read() == b""


@pytest.mark.parametrize(("name", "body"), [
    ("empty-list", "[]"), ("empty-dict", "{}"), ("true", "true"), ("one", "1"), ("text", '"x"'),
])
async def test_truthy_in_js_result_gives_200(client, name, body) -> None:
    response = await client.get(f"/values/{name}")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert await response.text() == body


async def test_create_returning_none_is_201_with_null_body(client) -> None:
    response = await client.post("/values", json={"a": 1})
    assert response.status == 201
    assert await response.text() == "null"


async def test_head_is_not_allowed(client) -> None:
    response = await client.request("HEAD", "/echo")
    assert response.status == 405
    assert response.headers["Content-Type"].startswith("application/json")
    # A HEAD response carries no body on the wire; the message is the one the body would hold.
    from cryptorobot.transports.rest import _method_for
    with pytest.raises(MethodNotAllowed, match=r"^Method HEAD not allowed$"):
        _method_for("HEAD", False, None)


@pytest.mark.parametrize("verb", ["PROPFIND", "OPTIONS"])
async def test_other_verbs_are_not_allowed(client, verb) -> None:
    response = await client.request(verb, "/echo/1")
    assert response.status == 405
    assert await json_of(response) == error("MethodNotAllowed", 405, "method-not-allowed",
                                            f"Method {verb} not allowed")


async def test_unexposed_method_is_refused(serve) -> None:
    app = App()
    app.use("limited", Echo(), {"methods": ["find", "get", "create", "patch", "remove"]})
    client = await serve(app)
    for verb, path in (("PUT", "/limited/1"), ("PUT", "/limited")):
        response = await client.request(verb, path, json={"a": 1})
        assert response.status == 405
        assert await json_of(response) == error("MethodNotAllowed", 405, "method-not-allowed",
                                                "Method `update` is not supported by this endpoint.")
    response = await client.post("/limited", json={}, headers={"X-Service-Method": "shout"})
    assert await json_of(response) == error("MethodNotAllowed", 405, "method-not-allowed",
                                            "Method `shout` is not supported by this endpoint.")


async def test_default_methods_are_those_the_service_implements(serve) -> None:
    class ReadOnly:
        async def find(self, params):
            return []

    app = App()
    app.use("readonly", ReadOnly())
    client = await serve(app)
    assert (await client.get("/readonly")).status == 200
    response = await client.delete("/readonly/1")
    assert response.status == 405
    assert (await json_of(response))["message"] == "Method `remove` is not supported by this endpoint."


# -- custom methods ------------------------------------------------------------------------------------

async def test_custom_method_via_x_service_method(client) -> None:
    response = await client.post("/echo", json={"text": "hey"}, headers={"X-Service-Method": "shout"})
    assert response.status == 200
    assert await json_of(response) == {"method": "shout", "data": {"text": "hey"}, "query": {}}


async def test_custom_method_header_name_is_case_insensitive_and_id_is_dropped(client) -> None:
    response = await client.post("/echo/5?x=1", json={"text": "hey"}, headers={"x-service-method": "shout"})
    assert response.status == 200
    assert await json_of(response) == {"method": "shout", "data": {"text": "hey"}, "query": {"x": "1"}}


@pytest.mark.parametrize("name", ["create", "find", "get", "update", "patch", "remove"])
async def test_custom_method_header_may_not_name_a_standard_method(client, name) -> None:
    response = await client.post("/echo", json={}, headers={"X-Service-Method": name})
    assert response.status == 405
    assert await json_of(response) == error("MethodNotAllowed", 405, "method-not-allowed",
                                            f"Method `{name}` is not supported by this endpoint.")


async def test_custom_method_header_value_is_case_sensitive(client) -> None:
    response = await client.post("/echo", json={}, headers={"X-Service-Method": "SHOUT"})
    assert response.status == 405
    assert (await json_of(response))["message"] == "Method `SHOUT` is not supported by this endpoint."


async def test_custom_method_header_is_ignored_on_other_verbs(client) -> None:
    response = await client.get("/echo", headers={"X-Service-Method": "shout"})
    assert response.status == 200
    assert (await json_of(response))["method"] == "find"
    response = await client.patch("/echo/1", json={}, headers={"X-Service-Method": "shout"})
    assert (await json_of(response))["method"] == "patch"


async def test_unknown_custom_method_is_refused(client) -> None:
    response = await client.post("/echo", json={}, headers={"X-Service-Method": "teardown"})
    assert response.status == 405
    assert (await json_of(response))["message"] == "Method `teardown` is not supported by this endpoint."


# -- query strings (1.5) ------------------------------------------------------------------------------

async def test_nested_bracket_query_reaches_the_service_as_strings(client) -> None:
    query = ("createdAt[$gte]=2024-03-13T00:00:00.000Z&$sort[createdAt]=-1"
             "&type[$in][]=a&type[$in][]=b&$or[0][type]=x&$or[1][size]=3&$limit=10&flag=true")
    response = await client.get(f"/echo?{query}")
    assert (await json_of(response))["query"] == {
        "createdAt": {"$gte": "2024-03-13T00:00:00.000Z"},
        "$sort": {"createdAt": "-1"},
        "type": {"$in": ["a", "b"]},
        "$or": [{"type": "x"}, {"size": "3"}],
        "$limit": "10",
        "flag": "true",
    }


async def test_query_as_the_js_client_encodes_it(client) -> None:
    # qs.stringify({$limit: 2, name: {$in: ['a','b']}, $sort: {createdAt: -1}, text: 'a b&c=d%'})
    raw = ("%24limit=2&name%5B%24in%5D%5B0%5D=a&name%5B%24in%5D%5B1%5D=b&%24sort%5BcreatedAt%5D=-1"
           "&text=a%20b%26c%3Dd%25&pct=%2541")
    response = await client.get(f"/echo?{raw}")
    assert (await json_of(response))["query"] == {
        "$limit": "2", "name": {"$in": ["a", "b"]}, "$sort": {"createdAt": "-1"}, "text": "a b&c=d%",
        "pct": "%41",
    }


async def test_query_reaches_every_method(client) -> None:
    response = await client.delete("/echo?done=true")
    assert await json_of(response) == {"method": "remove", "id": None, "query": {"done": "true"}}
    response = await client.patch("/echo?$in[]=1", json={"a": 1})
    assert (await json_of(response))["query"] == {"$in": ["1"]}


# -- routing, ids and not found (1.1, 1.8) -----------------------------------------------------------

@pytest.mark.parametrize("path", ["/nowhere", "/echo/1/extra", "/", "/Echo", "/no%20where"])
async def test_unknown_path_is_a_koa_style_404(client, path) -> None:
    response = await client.get(path)
    assert response.status == 404
    assert await json_of(response) == error("NotFound", 404, "not-found", f"Path {path} not found")


async def test_ids_are_percent_decoded_per_segment(client) -> None:
    for raw, expected in (("a%20b", "a b"), ("a%2Fb", "a/b"), ("caf%C3%A9", "café"), ("a+b", "a+b"),
                          ("-_.~", "-_.~"), ("a%0Ab", "a\nb")):
        response = await client.get(f"/echo/{raw}")
        assert response.status == 200, raw
        assert (await json_of(response))["id"] == expected


async def test_route_placeholders_and_route_params(serve) -> None:
    app = App()
    echo = Echo()
    app.use("users/:userId/messages", echo, {"route_params": {"tenant": "main", "userId": "default"}})
    client = await serve(app)
    response = await client.get("/users/7/messages/3")
    assert await json_of(response) == {"method": "get", "id": "3", "query": {}}
    assert echo.params[-1]["route"] == {"tenant": "main", "userId": "7"}
    response = await client.get("/users/a%20b/messages")
    assert (await json_of(response))["method"] == "find"
    assert echo.params[-1]["route"] == {"tenant": "main", "userId": "a b"}


# -- params (1.7) ----------------------------------------------------------------------------------------

async def test_rest_params(client, echo_app) -> None:
    _, echo = echo_app
    await client.get("/echo/1?a=b", headers={"X-Custom-Header": "Value", "Authorization": "Bearer t"})
    params = echo.params[-1]
    assert set(params) == {"query", "headers", "route", "provider", "ip"}
    assert params["provider"] == "rest"
    assert params["ip"] == "127.0.0.1"  # the client's address (no trusted proxies: the TCP peer)
    assert params["query"] == {"a": "b"}
    assert params["route"] == {}
    assert params["headers"]["x-custom-header"] == "Value"
    assert params["headers"]["authorization"] == "Bearer t"
    assert all(name == name.lower() for name in params["headers"])
    assert "connection" not in params


async def test_rest_params_carry_parsed_authentication(client, echo_app) -> None:
    app, echo = echo_app

    def bearer(headers):
        value = headers.get("authorization", "")
        return {"strategy": "jwt", "accessToken": value[7:]} if value.startswith("Bearer ") else None

    app.authentication_parsers.append(bearer)
    await client.get("/echo", headers={"Authorization": "Bearer abc"})
    assert echo.params[-1]["authentication"] == {"strategy": "jwt", "accessToken": "abc"}
    await client.get("/echo")
    assert "authentication" not in echo.params[-1]


# -- bodies (1.6) ----------------------------------------------------------------------------------------

async def test_malformed_json_is_a_400(client) -> None:
    response = await client.post("/echo", data='{"a": ', headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert await json_of(response) == error("BadRequest", 400, "bad-request", "Invalid JSON in request body")


async def test_hostile_nesting_in_body_is_a_400(client) -> None:
    body = "[" * 100_000 + "]" * 100_000
    response = await client.post("/echo", data=body, headers={"Content-Type": "application/json"})
    assert await json_of(response) == error("BadRequest", 400, "bad-request", "Invalid JSON in request body")


async def test_nan_literal_in_body_is_a_400(client) -> None:
    response = await client.post("/echo", data='{"a": NaN}', headers={"Content-Type": "application/json"})
    assert response.status == 400


async def test_too_large_body_is_a_413(serve) -> None:
    app = App({"rest": {"max_body_size": 1000}})
    app.use("echo", Echo())
    client = await serve(app)
    response = await client.post("/echo", json={"text": "x" * 2000})
    assert response.status == 413
    assert await json_of(response) == error("PayloadTooLarge", 413, "payload-too-large",
                                            "Request body larger than 1000 bytes")
    response = await client.post("/echo", json={"text": "x" * 900})
    assert response.status == 201


async def test_form_urlencoded_body(client) -> None:
    response = await client.post("/echo", data="text=hi+there&tags[]=a&tags[]=b&user[name]=bob",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 201
    assert (await json_of(response))["data"] == {"text": "hi there", "tags": ["a", "b"], "user": {"name": "bob"}}


async def test_json_body_types_are_kept(client) -> None:
    body = {"n": 1, "f": 1.5, "b": False, "none": None, "list": [1, "2"], "nested": {"x": [{}]}}
    response = await client.post("/echo", json=body)
    assert (await json_of(response))["data"] == body


# -- errors (1.8) ----------------------------------------------------------------------------------------

async def test_feathers_error_from_a_service(client) -> None:
    response = await client.get("/values/unknown")
    assert response.status == 404
    assert await json_of(response) == error("NotFound", 404, "not-found", "No record found for id 'unknown'",
                                            data={"id": "unknown"})


async def test_unexpected_exception_is_a_500_revealing_nothing(client) -> None:
    response = await client.get("/values")
    assert response.status == 500
    text = await response.text()
    assert json.loads(text) == error("GeneralError", 500, "general-error", "Internal server error")
    assert "hunter2" not in text and "RuntimeError" not in text and "Traceback" not in text
    assert response.headers["Content-Type"].startswith("application/json")


async def test_unserialisable_result_is_a_500_json(serve) -> None:
    class Binary:
        async def find(self, params):
            return {"blob": b"\x00"}

    app = App()
    app.use("binary", Binary())
    client = await serve(app)
    response = await client.get("/binary")
    assert response.status == 500
    assert await json_of(response) == error("GeneralError", 500, "general-error", "Internal server error")


# -- CORS (1.9) -----------------------------------------------------------------------------------------

async def test_cors_preflight(client) -> None:
    response = await client.options("/echo", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-service-method"})
    assert response.status == 204
    assert await response.read() == b""
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-service-method"} <= allowed
    assert response.headers["Access-Control-Allow-Origin"] == "*"  # any origin, never with credentials
    methods = set(response.headers["Access-Control-Allow-Methods"].split(","))
    assert {"GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"} <= methods


async def test_cors_preflight_without_requested_headers_allows_the_feathers_ones(client) -> None:
    response = await client.options("/anything/at/all", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "PATCH"})
    assert response.status == 204
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-service-method"} <= allowed


async def test_cors_headers_on_normal_and_error_responses(client) -> None:
    for path in ("/echo", "/nowhere"):
        response = await client.get(path, headers={"Origin": "https://app.example"})
        assert response.headers["Access-Control-Allow-Origin"] == "*"


# -- JSON values (1.10) --------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "status"), [
    ("/echo", 200), ("/echo/1", 200), ("/values/empty-list", 200), ("/values/unknown", 404),
    ("/values", 500), ("/nowhere", 404),
])
async def test_every_json_response_is_application_json(client, path, status) -> None:
    response = await client.get(path)
    assert response.status == status
    assert response.headers["Content-Type"].split(";")[0] == "application/json"
    json.loads(await response.text())


async def test_datetimes_serialise_like_js(client) -> None:
    assert await (await client.get("/values/date")).text() == '"2024-03-13T17:21:50.123Z"'
    assert await (await client.get("/values/date-plus-2")).text() == '"2024-03-13T17:21:50.123Z"'


async def test_nan_serialises_as_null(client) -> None:
    response = await client.get("/values/nan")
    assert await response.text() == "null"


# -- context.http (1.2 rule 3 and 4) -------------------------------------------------------------------

async def test_hook_status_and_headers_are_honoured(client, echo_app) -> None:
    app, _ = echo_app

    def accepted(context):
        context.http["status"] = 202
        context.http["headers"] = {"X-Total": "5"}

    app.service("echo").hooks({"after": {"find": accepted}})
    response = await client.get("/echo")
    assert response.status == 202
    assert response.headers["X-Total"] == "5"
    assert (await json_of(response))["method"] == "find"


async def test_status_code_alias(client, echo_app) -> None:
    app, _ = echo_app

    def created(context):
        context.status_code = 207

    app.service("echo").hooks({"after": {"get": created}})
    assert (await client.get("/echo/1")).status == 207


async def test_location_gives_303_with_encoded_location(client, echo_app) -> None:
    app, _ = echo_app

    def moved(context):
        context.http["location"] = "/echo/a b?x=1"

    app.service("echo").hooks({"after": {"get": moved, "create": moved}})
    response = await client.get("/echo/1", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/echo/a%20b?x=1"
    response = await client.post("/echo", json={}, allow_redirects=False)
    assert response.status == 201
    assert response.headers["Location"] == "/echo/a%20b?x=1"


async def test_dispatch_is_sent_instead_of_result(client, echo_app) -> None:
    app, _ = echo_app

    def safe(context):
        context.dispatch = {"safe": True}

    app.service("echo").hooks({"after": {"get": safe}})
    assert await json_of(await client.get("/echo/1")) == {"safe": True}


async def test_falsy_dispatch_gives_204(client, echo_app) -> None:
    app, _ = echo_app

    def hide(context):
        context.dispatch = None

    app.service("echo").hooks({"after": {"get": hide}})
    assert (await client.get("/echo/1")).status == 204


async def test_services_added_after_start_are_served(client, echo_app) -> None:
    app, _ = echo_app
    app.use("late", Echo())
    assert (await json_of(await client.get("/late/2")))["id"] == "2"

"""The framework schemas on `users` and `api-keys`: typed queries, refused fields, the order of
authentication and validation, and what `/openapi.json` says about both services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from openapi_spec_validator import validate as validate_openapi

from cryptorobot.schemas import SERVER_SET
from platform_support import PASSWORD, Platform, bad_request, not_authenticated, socket_login

UNKNOWN = ["Unknown field."]
KEY_FORBIDDEN = {"name": "Forbidden", "message": "API keys can not manage accounts or keys; log in with a password",
                 "code": 403, "className": "forbidden", "data": {"code": "FORBIDDEN"}}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def q(value: str) -> str:
    return quote(value, safe="")


async def ids(platform: Platform, path: str, **kwargs: Any) -> list[Any]:
    status, page = await platform.request("GET", path, **kwargs)
    assert status == 200, page
    return [record["_id"] for record in page["data"]]


# -- typed filtering over REST ---------------------------------------------------------------------

async def test_users_filter_on_dates_with_typed_operators(platform: Platform) -> None:
    ann, token = await platform.member("ann@example.com")
    await platform.member("bob@example.com")
    await platform.app.service("users").patch(ann["_id"], {"createdAt": utc(2024, 1, 15, 12)})  # server code may
    for query, expected in [
        ("createdAt[$gte]=2024-01-15T12:00:00Z", [ann["_id"]]),
        ("createdAt[$gte]=2024-01-15T12:00:00.001Z", []),
        ("createdAt[$gt]=2024-01-01&createdAt[$lt]=2024-02-01", [ann["_id"]]),
        (f"createdAt={q('2024-01-15T13:00:00+01:00')}", [ann["_id"]]),  # the same instant
        ("createdAt[$lt]=2024-01-15", []),
        ("createdAt[$in][]=2024-01-15T12:00:00.000Z&createdAt[$in][]=2020-01-01", [ann["_id"]]),
        ("updatedAt[$gte]=2024-01-01&$sort[updatedAt]=-1", [ann["_id"]]),  # bob is never visible
        ("email=ann@example.com", [ann["_id"]]),
        ("email[$ne]=ann@example.com", []),
    ]:
        assert await ids(platform, f"/users?{query}", token=token) == expected, query


async def test_users_refuse_malformed_dates_and_operators(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    for query, errors in [
        ("createdAt[$gte]=yesterday", {"createdAt": {"$gte": ["Not a valid datetime."]}}),
        ("email[$gt]=a", {"email": {"$gt": ["Operator not allowed."]}}),
        ("_id[$lt]=1", {"_id": {"$lt": ["Operator not allowed."]}}),
        ("name=Ann", {"name": ["Can not filter on this field."]}),
        ("$sort[name]=1", {"$sort": {"name": ["Can not sort on this field."]}}),
    ]:
        assert await platform.request("GET", f"/users?{query}", token=token) == (400, bad_request(errors)), query
    status, page = await platform.request("GET", "/users?$select[]=name&$select[]=email", token=token)
    assert status == 200 and set(page["data"][0]) == {"_id", "email"}  # no name set: none selected


async def test_api_keys_filter_on_dates_names_and_owner(platform: Platform) -> None:
    ann, token = await platform.member("ann@example.com")
    created = []
    for day, name in ((1, "alpha"), (2, "beta"), (3, "gamma")):
        status, key = await platform.request("POST", "/api-keys", json={"name": name}, token=token)
        assert status == 201, key
        await platform.app.service("api-keys").patch(key["_id"], {"createdAt": utc(2024, 3, day)})
        created.append(key["_id"])
    first, second, third = created
    for query, expected in [
        ("createdAt[$gte]=2024-03-02", [second, third]),
        ("createdAt[$gte]=2024-03-02&createdAt[$lt]=2024-03-03T00:00:00.000Z", [second]),
        ("$sort[createdAt]=-1", [third, second, first]),
        ("name[$gt]=alpha&$sort[name]=1", [second, third]),
        ("name[$in][]=alpha&name[$in][]=gamma&$sort[createdAt]=1", [first, third]),
        (f"userId={ann['_id']}&$sort[createdAt]=1", created),
        ("$limit=1&$skip=1&$sort[createdAt]=1", [second]),
    ]:
        assert await ids(platform, f"/api-keys?{query}", token=token) == expected, query
    status, page = await platform.request("GET", "/api-keys?$select[]=name&$select[]=prefix&$sort[name]=1", token=token)
    assert status == 200 and [set(key) for key in page["data"]] == [{"_id", "name", "prefix"}] * 3


async def test_typed_queries_over_a_socket(platform: Platform, sockets) -> None:
    ann, _ = await platform.member("ann@example.com")
    await platform.app.service("users").patch(ann["_id"], {"createdAt": utc(2024, 1, 15)})
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    error, page = await socket.call("find", "users", {"createdAt": {"$gte": "2024-01-15T00:00:00.000Z"}})
    assert error is None and [user["_id"] for user in page["data"]] == [ann["_id"]]
    error, page = await socket.call("find", "users", {"createdAt": {"$gt": "2024-01-15T00:00:00.000Z"}})
    assert error is None and page["data"] == []
    assert await socket.call("find", "users", {"password": {"$ne": ""}}) == bad_request({"password": UNKNOWN})


async def test_a_create_with_select_still_reaches_the_owner_without_secrets(platform: Platform, sockets,
                                                                           settled) -> None:
    ann, token = await platform.member("ann@example.com")
    socket = await sockets(platform.http)
    await socket_login(socket, "ann@example.com")
    status, created = await platform.request("POST", "/api-keys?$select[]=name", json={"name": "k"}, token=token)
    assert status == 201 and set(created) == {"_id", "name", "key"}  # `userId` selected away
    await settled(platform.app, socket)
    assert [(name, list(args)) for name, args in socket.received] == [
        ("api-keys created", [{"_id": created["_id"], "name": "k"}])]
    assert (await platform.stored("api-keys", created["_id"]))["userId"] == ann["_id"]


# -- fields clients can not use --------------------------------------------------------------------

def refusals(field: str) -> list[tuple[str, dict[str, Any]]]:
    """Every way of naming `field` in a query, and the 400's errors for it."""
    return [
        (f"{field}=x", {field: UNKNOWN}),
        (f"{field}[$ne]=x", {field: UNKNOWN}),
        (f"$or[0][{field}][$ne]=x", {"$or": {"0": {field: UNKNOWN}}}),
        (f"$sort[{field}]=1", {"$sort": {field: UNKNOWN}}),
        (f"$select[]=_id&$select[]={field}", {"$select": {"1": UNKNOWN}}),
    ]


@pytest.mark.parametrize(("query", "errors"), refusals("password"))
async def test_users_password_is_not_queryable(platform: Platform, query: str, errors: dict[str, Any]) -> None:
    _, token = await platform.member("ann@example.com")
    assert await platform.request("GET", f"/users?{query}", token=token) == (400, bad_request(errors))


@pytest.mark.parametrize(("query", "errors"), refusals("hash"))
async def test_api_keys_hash_is_for_server_code_only(platform: Platform, query: str, errors: dict[str, Any]) -> None:
    _, token = await platform.member("ann@example.com")
    _, created = await platform.request("POST", "/api-keys", json={"name": "k"}, token=token)
    assert await platform.request("GET", f"/api-keys?{query}", token=token) == (400, bad_request(errors))
    # ...while the API-key strategy still finds the key by its hash (an internal query).
    assert (await platform.request("GET", "/api-keys", api_key=created["key"]))[0] == 200


@pytest.mark.parametrize("field", ["_id", "userId", "createdAt", "updatedAt"])
async def test_server_set_fields_are_refused_on_both_services(platform: Platform, field: str) -> None:
    ann, token = await platform.member("ann@example.com")
    value = "2000-01-01T00:00:00.000Z" if field.endswith("At") else "someone"
    status, body = await platform.request("POST", "/api-keys", json={"name": "k", field: value}, token=token)
    assert (status, body) == (400, bad_request({field: [SERVER_SET]}))
    status, body = await platform.request("PATCH", f"/users/{ann['_id']}", json={field: value}, token=token)
    assert (status, body) == (400, bad_request({field: [SERVER_SET]}))
    status, body = await platform.request("POST", "/users", json={"email": "bob@example.com",
                                                                   "password": "long enough", field: value})
    assert (status, body) == (400, bad_request({field: [SERVER_SET]}))
    assert await platform.app.service("api-keys").find({"paginate": False}) == []
    assert len(await platform.app.service("users").find({"paginate": False})) == 1


# -- who is refused first ----------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/users?password=x", None),
    ("GET", "/users?createdAt[$gte]=yesterday", None),
    ("GET", "/users/0?$select[]=password", None),
    ("PATCH", "/users/0", {"password": "short", "_id": 1}),
    ("DELETE", "/users/0?nope=1", None),
    ("GET", "/api-keys?hash=0", None),
    ("GET", "/api-keys/0?$sort[nope]=1", None),
    ("POST", "/api-keys", {"userId": 1}),
    ("DELETE", "/api-keys/0?name[$bad]=x", None),
])
async def test_anonymous_callers_get_401_before_any_validation(platform: Platform, method: str, path: str,
                                                               body: Any) -> None:
    assert await platform.request(method, path, json=body) == (401, not_authenticated("Not authenticated"))


async def test_api_key_callers_get_403_before_any_validation(platform: Platform) -> None:
    ann, token = await platform.member("ann@example.com")
    _, created = await platform.request("POST", "/api-keys", json={"name": "k"}, token=token)
    key = created["key"]
    for method, path, body in [("PATCH", f"/users/{ann['_id']}", {"password": "short"}),
                               ("DELETE", f"/users/{ann['_id']}?nope=1", None),
                               ("POST", "/api-keys", {"hash": "0" * 64}),
                               ("DELETE", f"/api-keys/{created['_id']}?nope=1", None)]:
        assert await platform.request(method, path, json=body, api_key=key) == (403, KEY_FORBIDDEN), (method, path)


async def test_signed_up_users_see_validation_errors(platform: Platform) -> None:
    ann, token = await platform.member("ann@example.com")
    assert await platform.request("GET", "/users?password=x", token=token) == (400, bad_request({"password": UNKNOWN}))
    assert await platform.request("PATCH", f"/users/{ann['_id']}", json={"password": "short", "currentPassword": PASSWORD},
                                  token=token) == (400, bad_request({"password": ["Shorter than minimum length 8."]}))


async def test_another_users_record_still_answers_404_whatever_the_query(platform: Platform) -> None:
    _, token = await platform.member("ann@example.com")
    bob, _ = await platform.member("bob@example.com")
    id = bob["_id"]
    for query in ("", "?createdAt[$gte]=2000-01-01", f"?_id={id}", "?email=bob@example.com"):
        status, body = await platform.request("GET", f"/users/{id}{query}", token=token)
        assert (status, body["name"]) == (404, "NotFound"), query


# -- /openapi.json -------------------------------------------------------------------------------------

def params(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {param["name"]: param for param in operation.get("parameters", [])}


def component(spec: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    return spec["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def body_schema(spec: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    return component(spec, operation["requestBody"]["content"]["application/json"]["schema"])


async def test_openapi_describes_users_and_api_keys(platform: Platform) -> None:
    response = await platform.http.get("/openapi.json")
    assert response.status == 200
    spec = await response.json()
    validate_openapi(spec)
    assert {"/users", "/users/{id}", "/api-keys", "/api-keys/{id}"} <= set(spec["paths"])
    assert set(spec["paths"]["/users"]) == {"get", "post"} and set(spec["paths"]["/users/{id}"]) == {"get", "patch", "delete"}
    assert set(spec["paths"]["/api-keys"]) == {"get", "post"} and set(spec["paths"]["/api-keys/{id}"]) == {"get", "delete"}
    assert {tag["name"] for tag in spec["tags"]} >= {"users", "api-keys"}

    signup = body_schema(spec, spec["paths"]["/users"]["post"])
    assert signup["required"] == ["email", "password"] and signup["additionalProperties"] is False
    assert set(signup["properties"]) == {"email", "password", "name"}
    assert signup["properties"]["password"]["writeOnly"] is True
    assert signup["properties"]["password"]["minLength"] == 8
    assert "required" not in body_schema(spec, spec["paths"]["/users/{id}"]["patch"])
    user = component(spec, spec["paths"]["/users/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(user["properties"]) == {"_id", "email", "name", "tier", "roles", "createdAt", "updatedAt"}
    find_users = params(spec["paths"]["/users"]["get"])
    assert find_users["createdAt[$gte]"]["schema"] == {"type": "string", "format": "date-time"}
    assert {"email", "email[$in][]", "_id", "$sort[updatedAt]"} <= set(find_users)
    assert not any("password" in name for name in find_users)
    assert "email[$gt]" not in find_users and "name" not in find_users
    assert set(find_users["$select[]"]["schema"]["items"]["enum"]) == {
        "_id", "email", "createdAt", "updatedAt", "name", "tier", "roles"}

    key_body = body_schema(spec, spec["paths"]["/api-keys"]["post"])
    assert key_body["required"] == ["name"] and set(key_body["properties"]) == {"name"}
    key = component(spec, spec["paths"]["/api-keys/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"])
    assert "hash" not in key["properties"] and {"_id", "name", "userId", "prefix", "key"} <= set(key["properties"])
    find_keys = params(spec["paths"]["/api-keys"]["get"])
    assert {"name[$gt]", "userId", "createdAt[$lt]", "$sort[createdAt]"} <= set(find_keys)
    assert not any("hash" in name for name in find_keys)
    assert "hash" not in find_keys["$select[]"]["schema"]["items"]["enum"]

    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"]["scheme"] == "bearer" and schemes["apiKey"]["name"] == "X-API-Key"
    for operation in (*spec["paths"]["/api-keys"].values(), *spec["paths"]["/api-keys/{id}"].values()):
        assert operation["security"] == [{"bearerAuth": []}, {"apiKey": []}]
    assert {} in spec["security"]  # signing up needs no credentials

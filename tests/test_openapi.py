"""`GET /openapi.json` and `GET /docs`: generated from the service registry."""

from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_spec_validator import validate as validate_openapi

from cryptorobot import App
from cryptorobot.adapters import MemoryService
from cryptorobot.auth import ApiKeyStrategy, AuthenticationService, JwtStrategy, LocalStrategy, TokenIssuer
from cryptorobot.openapi import openapi_spec
from cryptorobot.schemas import QuerySchema, fields
from schema_sample import build_app

ERROR_REF = "#/components/responses/{}"


@pytest.fixture
def spec() -> dict[str, Any]:
    return openapi_spec(build_app())


def params(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {param["name"]: param for param in operation.get("parameters", [])}


def component(spec: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    name = ref["$ref"].rsplit("/", 1)[1]
    return spec["components"]["schemas"][name]


async def test_the_document_is_served_and_is_valid_openapi(serve: Any) -> None:
    client = await serve(build_app())
    response = await client.get("/openapi.json")
    assert response.status == 200 and response.content_type == "application/json"
    document = await response.json()
    validate_openapi(document)
    assert document["openapi"].startswith("3.0")
    assert document["info"] == {"title": "Sample API", "version": "1.0.0"}


def test_every_service_and_exposed_method_is_described(spec: dict[str, Any]) -> None:
    for path in ("memory-items", "sqlite-items"):
        assert set(spec["paths"][f"/{path}"]) == {"get", "post", "patch", "delete"}  # multi patch/remove
        assert set(spec["paths"][f"/{path}/{{id}}"]) == {"get", "put", "patch", "delete"}
    assert [tag["name"] for tag in spec["tags"]] == ["memory-items", "sqlite-items"]
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values() if isinstance(op, dict)]
    assert len(ids) == len(set(ids)) == 16


def test_only_exposed_methods_appear() -> None:
    app = App()
    app.use("notes", MemoryService(), {"methods": ["find", "get"]})
    spec = openapi_spec(app)
    assert set(spec["paths"]) == {"/notes", "/notes/{id}"}
    assert set(spec["paths"]["/notes"]) == {"get"} and set(spec["paths"]["/notes/{id}"]) == {"get"}


def test_route_placeholders_become_path_parameters() -> None:
    app = App()
    app.use("users/:userId/notes", MemoryService(), {"methods": ["find", "get", "remove"]})
    spec = openapi_spec(app)
    item = spec["paths"]["/users/{userId}/notes/{id}"]
    assert item["parameters"] == [{"name": "userId", "in": "path", "required": True, "schema": {"type": "string"}}]
    assert params(item["get"])["id"]["in"] == "path"
    assert spec["paths"]["/users/{userId}/notes"]["parameters"][0]["name"] == "userId"
    validate_openapi(spec)


def test_query_parameters_come_from_the_query_schema(spec: dict[str, Any]) -> None:
    find = params(spec["paths"]["/memory-items"]["get"])
    assert find["count"]["schema"]["type"] == "integer"
    assert find["count[$gt]"]["schema"]["type"] == "integer"
    assert find["active"]["schema"] == {"type": "boolean"}
    assert "active[$gt]" not in find  # booleans are not ordered
    assert find["createdAt[$gte]"]["schema"] == {"type": "string", "format": "date-time"}
    assert find["type[$in][]"]["schema"] == {"type": "array", "items": {"type": "string"}}
    assert find["type[$in][]"]["explode"] is True
    assert "type[$gt]" not in find  # not among the field's operators
    assert find["tags"]["schema"] == {"type": "string"}  # a list field matches one element
    assert "password" not in find and not any(name.startswith("password") for name in find)
    assert find["$sort[createdAt]"]["schema"] == {"type": "integer", "enum": [1, -1]}
    assert "$sort[tags]" not in find  # not sortable
    assert set(find["$select[]"]["schema"]["items"]["enum"]) >= {"name", "count", "createdAt", "_id"}
    assert find["$limit"]["schema"]["minimum"] == 0 and find["$skip"]["schema"]["minimum"] == 0
    assert all(param["in"] == "query" and not param.get("required") for param in find.values())
    item = params(spec["paths"]["/memory-items/{id}"]["get"])
    assert set(item) == {"id", "$select[]"}


def test_internal_and_unfilterable_query_fields_are_not_offered() -> None:
    class Query(QuerySchema):
        name = fields.String()
        keyHash = fields.String(metadata={"internal": True})
        note = fields.String(metadata={"filterable": False, "sortable": False})

    app = App()
    app.use("keys", MemoryService(), {"methods": ["find"], "schemas": {"query": Query}})
    find = params(openapi_spec(app)["paths"]["/keys"]["get"])
    assert not any("keyHash" in name for name in find)
    assert "note" not in find and "$sort[note]" not in find
    assert find["$select[]"]["schema"]["items"]["enum"] == ["name", "note"]


def test_request_bodies_come_from_the_data_schemas(spec: dict[str, Any]) -> None:
    post = spec["paths"]["/memory-items"]["post"]
    create_ref, archive_ref = post["requestBody"]["content"]["application/json"]["schema"]["anyOf"]
    create = component(spec, create_ref)
    assert create["required"] == ["name"]
    assert create["additionalProperties"] is False
    assert create["properties"]["type"]["enum"] == ["a", "b", "c"]
    assert create["properties"]["count"] == {"type": "integer", "minimum": 0, "maximum": 1_000_000}
    assert create["properties"]["password"]["writeOnly"] is True
    assert not {"_id", "createdAt", "updatedAt", "userId"} & set(create["properties"])
    assert component(spec, archive_ref)["required"] == ["reason"]
    header = params(post)["X-Service-Method"]
    assert header == {"name": "X-Service-Method", "in": "header", "required": False,
                      "schema": {"type": "string", "enum": ["archive"]},
                      "description": "Call this custom method instead of `create`."}
    assert set(post["responses"]) >= {"200", "201", "400"}
    patch = spec["paths"]["/memory-items/{id}"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    assert "required" not in component(spec, patch)
    put = spec["paths"]["/memory-items/{id}"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert component(spec, put)["required"] == ["name"]


def test_results_come_from_the_result_schema_and_pages_when_paginated(spec: dict[str, Any]) -> None:
    page = spec["paths"]["/memory-items"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert page["required"] == ["total", "skip", "data"]
    assert set(page["properties"]) == {"total", "limit", "skip", "data"}
    result = component(spec, page["properties"]["data"]["items"])
    assert "password" not in result["properties"]
    assert result["properties"]["label"] == {"type": "string", "readOnly": True}
    assert result["properties"]["createdAt"] == {"type": "string", "format": "date-time"}
    assert "required" not in result  # $select may leave any field out
    unpaged = openapi_spec(build_app(paginate=False))
    listed = unpaged["paths"]["/memory-items"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed["type"] == "array"
    created = spec["paths"]["/memory-items"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert created == page["properties"]["data"]["items"]


def test_errors_have_the_feathers_shape(spec: dict[str, Any]) -> None:
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["name", "message", "code", "className"]
    responses = spec["components"]["responses"]
    for _code, name in ((400, "BadRequest"), (401, "NotAuthenticated"), (404, "NotFound"), (405, "MethodNotAllowed"),
                       (409, "Conflict"), (422, "Unprocessable"), (429, "TooManyRequests"), (500, "GeneralError")):
        assert responses[name]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    find = spec["paths"]["/memory-items"]["get"]["responses"]
    assert {code: ref["$ref"] for code, ref in find.items() if code != "200"} == {
        str(code): ERROR_REF.format(name) for code, name in (
            (400, "BadRequest"), (401, "NotAuthenticated"), (403, "Forbidden"), (404, "NotFound"),
            (405, "MethodNotAllowed"), (429, "TooManyRequests"), (500, "GeneralError"))}
    patch = spec["paths"]["/memory-items/{id}"]["patch"]["responses"]
    assert patch["409"] == {"$ref": ERROR_REF.format("Conflict")}
    assert patch["422"] == {"$ref": ERROR_REF.format("Unprocessable")}


def test_no_security_schemes_without_authentication(spec: dict[str, Any]) -> None:
    assert "securitySchemes" not in spec["components"]
    assert "security" not in spec


@pytest.mark.parametrize("strategies", [("jwt", "local", "api-key"), ("jwt", "local"), ("local",)])
async def test_the_authentication_declares_the_security_schemes_it_reads(strategies: tuple[str, ...]) -> None:
    app = App()
    app.use("users", MemoryService(id="_id"))
    service = AuthenticationService(TokenIssuer("secret-" * 8), auth_strategies=strategies)
    service.register(JwtStrategy()).register(LocalStrategy()).register(ApiKeyStrategy(header="X-Robot-Key"))
    app.use("login", service, {"methods": ["create", "remove"]})
    await app.setup()
    spec = openapi_spec(app)
    validate_openapi(spec)
    expected = {
        "jwt": ("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                               "description": "An access token from `POST /login`."}),
        "api-key": ("apiKey", {"type": "apiKey", "in": "header", "name": "X-Robot-Key", "description": "An API key."}),
    }
    declared = dict(expected[name] for name in strategies if name in expected)
    assert spec["components"].get("securitySchemes", {}) == declared
    assert spec.get("security") == ([*({name: []} for name in declared), {}] if declared else None)


def test_per_service_docs_options() -> None:
    app = App()
    app.use("public", MemoryService(), {"methods": ["find"], "docs": {"description": "Open data", "security": []}})
    spec = openapi_spec(app)
    assert spec["tags"] == [{"name": "public", "description": "Open data"}]
    assert spec["paths"]["/public"]["get"]["security"] == []


def test_services_without_schemas_are_still_described() -> None:
    class Status:
        async def find(self, params: Any) -> dict[str, Any]:
            return {"ok": True}

    app = App()
    app.use("status", Status())
    app.use("notes", MemoryService())
    spec = openapi_spec(app)
    assert spec["paths"]["/status"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {}
    body = spec["paths"]["/notes"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"type": "object"}
    assert set(params(spec["paths"]["/notes"]["get"])) == {"$limit", "$skip"}
    validate_openapi(spec)


async def test_the_document_follows_the_registry(serve: Any) -> None:
    app = App()
    app.use("first", MemoryService())
    client = await serve(app)
    assert set((await (await client.get("/openapi.json")).json())["paths"]) == {"/first", "/first/{id}"}
    app.use("second", MemoryService(), {"methods": ["find"]})
    assert "/second" in (await (await client.get("/openapi.json")).json())["paths"]


async def test_the_docs_page_is_served_locally(serve: Any) -> None:
    client = await serve(build_app())
    response = await client.get("/docs")
    assert response.status == 200 and response.content_type == "text/html"
    page = await response.text()
    assert "/openapi.json" in page and "<title>Sample API</title>" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page), "the page must not load anything remote"
    for asset in re.findall(r"(?:src|href)=\"([^\"]+)\"", page):
        asset_response = await client.get(asset)
        assert asset_response.status == 200, asset
        assert len(await asset_response.read()) > 1000
    assert (await client.get("/docs/")).status == 200


async def test_openapi_can_be_turned_off(serve: Any) -> None:
    app = App({"openapi": False})
    app.use("things", MemoryService())
    client = await serve(app)
    response = await client.get("/openapi.json")
    assert response.status == 404
    assert (await response.json())["name"] == "NotFound"
    assert (await client.get("/docs")).status == 404

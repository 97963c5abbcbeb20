"""Data schemas, server-set fields, timestamps, result resolvers and `app.use` registration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from marshmallow import EXCLUDE, validate

from cryptorobot import App
from cryptorobot.adapters import MemoryService
from cryptorobot.errors import BadRequest
from cryptorobot.hooks import NOT_SET
from cryptorobot.schemas import (
    SERVER_SET,
    QuerySchema,
    Schema,
    fields,
    resolve_result,
    set_timestamps,
    validate_data,
)


class Create(Schema):
    email = fields.Email(required=True)
    name = fields.String(validate=validate.Length(max=5))
    age = fields.Integer()
    password = fields.String(load_only=True)
    birthday = fields.DateTime()


class Result(Schema):
    _id = fields.Raw()
    email = fields.Email()
    name = fields.String()
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()
    greeting = fields.Method("greet")

    def greet(self, record: dict[str, Any]) -> str:
        return f"hello {record.get('name', 'you')}"


class Query(QuerySchema):
    _id = fields.Raw()
    email = fields.String()


def make_app(**schemas: Any) -> App:
    app = App()
    options = {"schemas": {"create": Create, "query": Query, "result": Result, **schemas}}
    app.use("people", MemoryService(id="_id", multi=["create", "patch"]), options)
    return app


async def failure(call: Any) -> dict[str, Any]:
    with pytest.raises(BadRequest) as caught:
        await call
    return caught.value.to_json()


EXTERNAL = {"provider": "rest"}


# -- validate_data ----------------------------------------------------------------------------

async def test_invalid_data_answers_400_with_per_field_messages_and_writes_nothing() -> None:
    app = make_app()
    body = await failure(app.service("people").create({"email": "nope", "name": "too long"}, EXTERNAL))
    assert body == {"name": "BadRequest", "message": "validation failed", "code": 400, "className": "bad-request",
                    "errors": {"email": ["Not a valid email address."], "name": ["Longer than maximum length 5."]}}
    assert app.service("people").raw.store == {}


async def test_unknown_fields_are_refused() -> None:
    app = make_app()
    body = await failure(app.service("people").create({"email": "a@b.co", "isAdmin": True}, EXTERNAL))
    assert body["errors"] == {"isAdmin": ["Unknown field."]}


async def test_a_schema_may_exclude_unknown_fields_instead() -> None:
    class Lenient(Create):
        class Meta:
            unknown = EXCLUDE

    app = make_app(create=Lenient)
    created = await app.service("people").create({"email": "a@b.co", "isAdmin": True}, EXTERNAL)
    assert "isAdmin" not in created


async def test_valid_data_is_loaded_typed() -> None:
    app = make_app()
    created = await app.service("people").create(
        {"email": "a@b.co", "age": "42", "birthday": "2000-02-03T04:05:06+01:00"}, EXTERNAL)
    assert created["age"] == 42
    assert created["birthday"] == datetime(2000, 2, 3, 3, 5, 6, tzinfo=UTC)


@pytest.mark.parametrize("field", ["_id", "userId", "createdAt", "updatedAt"])
async def test_clients_can_not_set_server_fields(field: str) -> None:
    app = make_app()
    body = await failure(app.service("people").create({"email": "a@b.co", field: "x"}, EXTERNAL))
    assert body["errors"] == {field: [SERVER_SET]}
    body = await failure(app.service("people").patch(1, {field: "x"}, EXTERNAL))
    assert body["errors"] == {field: [SERVER_SET]}
    assert app.service("people").raw.store == {}


async def test_the_adapters_id_field_is_a_server_field_too() -> None:
    app = App()
    app.use("things", MemoryService(), {"schemas": {"create": Create}})  # id field "id"
    body = await failure(app.service("things").create({"email": "a@b.co", "id": 5}, EXTERNAL))
    assert body["errors"] == {"id": [SERVER_SET]}


async def test_server_fields_and_data_errors_are_reported_together() -> None:
    app = make_app()
    body = await failure(app.service("people").create({"email": "bad", "userId": "u1"}, EXTERNAL))
    assert body["errors"] == {"email": ["Not a valid email address."], "userId": [SERVER_SET]}


async def test_server_code_may_set_server_fields() -> None:
    app = make_app()
    created = await app.service("people").create(
        {"email": "a@b.co", "_id": "p1", "userId": "u1", "createdAt": datetime(2020, 1, 1)})
    assert created["_id"] == "p1" and created["userId"] == "u1"
    assert created["createdAt"] == datetime(2020, 1, 1, tzinfo=UTC)


async def test_server_fields_can_be_configured() -> None:
    app = make_app(server_fields=("ownerId",))
    body = await failure(app.service("people").create({"email": "a@b.co", "ownerId": "x"}, EXTERNAL))
    assert body["errors"] == {"ownerId": [SERVER_SET]}


async def test_multi_create_errors_are_keyed_by_index() -> None:
    app = make_app()
    body = await failure(app.service("people").create(
        [{"email": "a@b.co"}, {"email": "bad", "_id": 1}, "not an object"], EXTERNAL))
    assert body["errors"] == {1: {"email": ["Not a valid email address."], "_id": [SERVER_SET]},
                              2: {"_schema": ["Invalid input type."]}}
    assert app.service("people").raw.store == {}


async def test_patch_is_partial_and_falls_back_to_the_create_schema() -> None:
    app = make_app()
    created = await app.service("people").create({"email": "a@b.co"}, EXTERNAL)
    patched = await app.service("people").patch(created["_id"], {"name": "Ann"}, EXTERNAL)
    assert patched["name"] == "Ann" and patched["email"] == "a@b.co"
    body = await failure(app.service("people").patch(created["_id"], {"age": "old"}, EXTERNAL))
    assert body["errors"] == {"age": ["Not a valid integer."]}


async def test_a_separate_patch_schema_is_used_partially() -> None:
    class Rename(Schema):
        name = fields.String(required=True)

    app = make_app(patch=Rename)
    created = await app.service("people").create({"email": "a@b.co"}, EXTERNAL)
    body = await failure(app.service("people").patch(created["_id"], {"email": "b@c.de"}, EXTERNAL))
    assert body["errors"] == {"email": ["Unknown field."]}
    assert (await app.service("people").patch(created["_id"], {}, EXTERNAL))["email"] == "a@b.co"


async def test_update_uses_the_create_schema_by_default() -> None:
    app = make_app()
    created = await app.service("people").create({"email": "a@b.co"}, EXTERNAL)
    body = await failure(app.service("people").update(created["_id"], {"name": "x"}, EXTERNAL))
    assert body["errors"] == {"email": ["Missing data for required field."]}


async def test_validate_data_can_be_registered_by_hand() -> None:
    app = App()
    app.use("things", MemoryService())
    app.service("things").hooks({"before": {"create": [validate_data(Create)]}})
    assert (await failure(app.service("things").create({}, EXTERNAL)))["errors"] == {
        "email": ["Missing data for required field."]}


# -- timestamps ---------------------------------------------------------------------------

def close_to_now(value: Any) -> bool:
    return isinstance(value, datetime) and value.tzinfo is not None and \
        abs(datetime.now(UTC) - value) < timedelta(seconds=5) and value.microsecond % 1000 == 0


async def test_create_and_patch_set_utc_timestamps() -> None:
    app = make_app()
    created = await app.service("people").create({"email": "a@b.co"}, EXTERNAL)
    assert close_to_now(created["createdAt"]) and created["updatedAt"] == created["createdAt"]
    stored = app.service("people").raw.store[str(created["_id"])]
    stored["createdAt"] = stored["updatedAt"] = datetime(2020, 1, 1, tzinfo=UTC)
    patched = await app.service("people").patch(created["_id"], {"name": "Bo"}, EXTERNAL)
    assert patched["createdAt"] == datetime(2020, 1, 1, tzinfo=UTC)
    assert close_to_now(patched["updatedAt"])


async def test_update_keeps_the_stored_creation_time() -> None:
    app = make_app()
    created = await app.service("people").create({"email": "a@b.co", "createdAt": datetime(2020, 1, 1, tzinfo=UTC)})
    updated = await app.service("people").update(created["_id"], {"email": "b@c.de"}, EXTERNAL)
    assert updated["createdAt"] == datetime(2020, 1, 1, tzinfo=UTC)
    assert close_to_now(updated["updatedAt"])


async def test_timestamps_on_the_wire_are_iso_8601_utc(serve: Any) -> None:
    app = make_app()
    client = await serve(app)
    response = await client.post("/people", json={"email": "a@b.co"})
    body = await response.json()
    assert response.status == 201
    for name in ("createdAt", "updatedAt"):
        assert datetime.strptime(body[name], "%Y-%m-%dT%H:%M:%S.%fZ")
        assert body[name].endswith("Z") and len(body[name]) == 24


async def test_timestamps_can_be_turned_off_or_renamed() -> None:
    app = make_app(timestamps=False)
    created = await app.service("people").create({"email": "a@b.co"}, EXTERNAL)
    assert "createdAt" not in created and "updatedAt" not in created
    app = App()
    app.use("things", MemoryService(), {"schemas": {"create": Create, "timestamps": ("created", "changed"),
                                                    "server_fields": ("created", "changed", "id")}})
    created = await app.service("things").create({"email": "a@b.co"}, EXTERNAL)
    assert close_to_now(created["created"]) and close_to_now(created["changed"])


async def test_set_timestamps_replaces_client_values_but_keeps_server_ones() -> None:
    app = App()
    app.use("things", MemoryService())
    app.service("things").hooks({"before": {"create": [set_timestamps()]}})
    old = datetime(2001, 1, 1, tzinfo=UTC)
    created = await app.service("things").create({"createdAt": old}, EXTERNAL)
    assert close_to_now(created["createdAt"])
    created = await app.service("things").create({"createdAt": old})
    assert created["createdAt"] == old


# -- result resolvers ---------------------------------------------------------------------------

async def test_results_leave_without_hidden_fields_and_with_computed_ones_internal_callers_see_all() -> None:
    app = make_app()
    context = await app.service("people").run("create", [{"email": "a@b.co", "name": "Al", "password": "pw"}],
                                              dict(EXTERNAL))
    assert context.result["password"] == "pw"
    assert "password" not in context.dispatch
    assert context.dispatch["greeting"] == "hello Al"
    assert context.dispatch["createdAt"].endswith("Z")
    assert set(context.dispatch) == {"_id", "email", "name", "createdAt", "updatedAt", "greeting"}


async def test_pages_and_lists_are_resolved_record_by_record() -> None:
    app = App()
    app.use("people", MemoryService(id="_id", paginate={"default": 2}, multi=True), {"schemas": {"result": Result}})
    await app.service("people").create([{"email": f"{n}@b.co", "password": "pw", "name": n} for n in "abc"])
    context = await app.service("people").run("find", [], {"query": {"$sort": {"name": 1}}})
    assert context.dispatch["total"] == 3 and context.dispatch["limit"] == 2
    assert [record["greeting"] for record in context.dispatch["data"]] == ["hello a", "hello b"]
    assert all("password" not in record for record in context.dispatch["data"])
    context = await app.service("people").run("patch", [None, {"age": 1}], {})
    assert len(context.dispatch) == 3 and all("password" not in record for record in context.dispatch)


async def test_a_callable_resolver_and_an_earlier_dispatch() -> None:
    async def redact(record: dict[str, Any], context: Any) -> dict[str, Any]:
        return {**record, "email": "***", "method": context.method}

    app = App()
    app.use("people", MemoryService())
    app.service("people").hooks({"after": {"all": [resolve_result(redact)]}})
    context = await app.service("people").run("create", [{"email": "a@b.co"}], {})
    assert context.dispatch == {"id": 0, "email": "***", "method": "create"}
    assert context.result["email"] == "a@b.co"

    def first(context: Any) -> None:
        context.dispatch = {**context.result, "step": 1}

    app.use("more", MemoryService())
    app.service("more").hooks({"after": {"all": [first, resolve_result(redact)]}})
    context = await app.service("more").run("create", [{"email": "a@b.co"}], {})
    assert context.dispatch["step"] == 1 and context.dispatch["email"] == "***"


async def test_non_record_results_pass_through_the_resolver() -> None:
    class Echo:
        async def find(self, params: Any) -> Any:
            return "text"

    app = App()
    app.use("echo", Echo(), {"schemas": {"result": Result}})
    context = await app.service("echo").run("find", [], {})
    assert context.dispatch == "text"
    assert context.result == "text" and context.dispatch is not NOT_SET


# -- registration -------------------------------------------------------------------------------

def test_the_schemas_are_recorded_on_the_service() -> None:
    app = make_app()
    schemas = app.service("people").schemas
    assert isinstance(schemas["create"], Create) and isinstance(schemas["query"], Query)
    assert isinstance(schemas["result"], Result)


def test_an_unknown_schema_kind_is_an_error_at_registration() -> None:
    app = App()
    with pytest.raises(ValueError, match="unknown schema kind 'craete'"):
        app.use("things", MemoryService(), {"schemas": {"craete": Create}})
    with pytest.raises(TypeError):
        app.use("things", MemoryService(), {"schemas": {"create": dict}})


async def test_custom_methods_get_their_data_validated() -> None:
    class Reason(Schema):
        reason = fields.String(required=True)

    class Archive(MemoryService):
        async def archive(self, data: Any, params: Any) -> Any:
            return {"archived": data}

    app = App()
    app.use("things", Archive(), {"methods": ["find", "archive"], "schemas": {"archive": Reason, "result": Result}})
    assert (await failure(app.service("things").archive({}, EXTERNAL)))["errors"] == {
        "reason": ["Missing data for required field."]}
    context = await app.service("things").run("archive", [{"reason": "old"}], dict(EXTERNAL))
    assert context.outgoing == {"archived": {"reason": "old"}}  # not reshaped by the record schema


async def test_schema_hooks_run_before_hooks_registered_later() -> None:
    order: list[str] = []
    app = make_app()
    app.service("people").hooks({"before": {"create": [lambda ctx: order.append(type(ctx.data.get("age")).__name__)]}})
    await app.service("people").create({"email": "a@b.co", "age": "7"}, EXTERNAL)
    assert order == ["int"]

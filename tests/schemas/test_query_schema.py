"""Query schemas: coercion of REST strings, allowed fields and operators, error shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from marshmallow import ValidationError, validate

from cryptorobot import App
from cryptorobot.adapters import MemoryService
from cryptorobot.errors import BadRequest
from cryptorobot.query import MAX_DEPTH, sanitize_query
from cryptorobot.schemas import QueryRules, QuerySchema, Schema, fields, load_query, validate_query
from cryptorobot.transports.querystring import parse_query_string


class Query(QuerySchema):
    _id = fields.String()
    name = fields.String()
    count = fields.Integer()
    price = fields.Float()
    active = fields.Boolean()
    type = fields.String(metadata={"operators": ("$in", "$nin")}, validate=validate.OneOf(["a", "b"]))
    tags = fields.List(fields.String(), metadata={"sortable": False})
    createdAt = fields.DateTime()
    note = fields.String(allow_none=True, metadata={"filterable": False, "operators": ()})
    secret = fields.String(metadata={"selectable": False, "sortable": False})
    search = fields.String(data_key="$search")
    keyHash = fields.String(metadata={"internal": True})


def rest(query_string: str) -> dict[str, Any]:
    """What the schema makes of a REST query string (parsed as the REST transport does)."""
    return Query().load_query(parse_query_string(query_string))


def errors_of(query: Any) -> Any:
    with pytest.raises(ValidationError) as caught:
        Query().load_query(query)
    return caught.value.messages


# -- coercion of REST strings (the examples) ---------------------------------------------

@pytest.mark.parametrize(("query_string", "expected"), [
    ("active=true", {"active": True}),
    ("active=false", {"active": False}),
    ("$limit=10", {"$limit": 10}),
    ("$skip=0", {"$skip": 0}),
    ("$sort[createdAt]=-1", {"$sort": {"createdAt": -1}}),
    ("$sort[count]=1&$sort[name]=-1", {"$sort": {"count": 1, "name": -1}}),
    ("createdAt[$gte]=2024-01-01", {"createdAt": {"$gte": datetime(2024, 1, 1, tzinfo=UTC)}}),
    ("createdAt[$lt]=2024-01-01T12:30:00%2B02:00", {"createdAt": {"$lt": datetime(2024, 1, 1, 10, 30, tzinfo=UTC)}}),
    ("createdAt=2024-01-01t00:00:00z", {"createdAt": datetime(2024, 1, 1, tzinfo=UTC)}),
    ("type[$in][]=a", {"type": {"$in": ["a"]}}),
    ("type[$in]=a", {"type": {"$in": ["a"]}}),
    ("type[$nin][]=a&type[$nin][]=b", {"type": {"$nin": ["a", "b"]}}),
    ("count=7", {"count": 7}),
    ("count[$gt]=-3&count[$lte]=%2B9", {"count": {"$gt": -3, "$lte": 9}}),
    ("price[$gte]=1.5", {"price": {"$gte": 1.5}}),
    ("price=2", {"price": 2.0}),
    ("name=42", {"name": "42"}),
    ("name[$ne]=x", {"name": {"$ne": "x"}}),
    ("tags=red", {"tags": "red"}),
    ("tags[$in][]=red&tags[$in][]=blue", {"tags": {"$in": ["red", "blue"]}}),
    ("$select=name", {"$select": ["name"]}),
    ("$select[]=name&$select[]=count", {"$select": ["name", "count"]}),
    ("$search=apple", {"$search": "apple"}),
    ("$or[0][active]=true&$or[1][count][$gt]=5",
     {"$or": [{"active": True}, {"count": {"$gt": 5}}]}),
    ("$and[0][$or][0][name]=a&$and[0][$or][1][name]=b&$and[1][count]=1",
     {"$and": [{"$or": [{"name": "a"}, {"name": "b"}]}, {"count": 1}]}),
])
def test_rest_strings_are_coerced_by_the_field_types(query_string: str, expected: dict[str, Any]) -> None:
    assert rest(query_string) == expected


def test_coerced_datetimes_are_aware_utc() -> None:
    loaded = rest("createdAt[$gte]=2024-06-01T08:00:00-04:00")["createdAt"]["$gte"]
    assert loaded == datetime(2024, 6, 1, 12, tzinfo=UTC)
    assert loaded.tzinfo is UTC


def test_in_with_hundreds_of_values_stays_a_list() -> None:
    names = [f"n{i}" for i in range(600)]
    query_string = "&".join(f"name[$in][]={name}" for name in names)
    assert rest(query_string) == {"name": {"$in": names}}
    # qs turns indexed arrays beyond its limit into {"0": ..} dicts: still a list here
    as_dict = {"name": {"$in": {str(i): name for i, name in enumerate(names)}}}
    assert Query().load_query(as_dict) == {"name": {"$in": names}}


def test_in_values_are_coerced_one_by_one() -> None:
    assert Query().load_query({"count": {"$in": ["1", 2, "3"]}}) == {"count": {"$in": [1, 2, 3]}}
    assert errors_of({"count": {"$in": ["1", "x", 3.5]}}) == {
        "count": {"$in": {1: ["Not a valid integer."], 2: ["Not a valid integer."]}}}


def test_typed_values_pass_unchanged_so_loading_is_idempotent() -> None:
    typed = {
        "active": True, "count": {"$gt": 3, "$in": [1, 2]}, "price": 2.5, "name": {"$ne": None},
        "createdAt": {"$gte": datetime(2024, 1, 1, tzinfo=UTC)}, "type": {"$in": ["a"]},
        "$limit": 5, "$skip": 10, "$sort": {"createdAt": -1}, "$select": ["name"],
        "$or": [{"_id": "x"}, {"tags": ["a", "b"]}],
    }
    once = Query().load_query(typed)
    assert once == typed
    assert Query().load_query(once) == once
    from_rest = rest("active=true&count[$gt]=3&createdAt[$gte]=2024-01-01&$limit=5&$sort[name]=1")
    assert Query().load_query(from_rest) == from_rest


def test_the_typed_query_is_a_fixed_point_of_the_adapter_sanitiser() -> None:
    typed = rest("active=true&count[$gt]=3&type[$in][]=a&createdAt[$gte]=2024-01-01&$limit=5"
                 "&$skip=2&$sort[name]=-1&$select[]=name&$or[0][name]=x&$or[1][tags]=y")
    assert sanitize_query(typed) == typed


def test_naive_datetimes_from_python_callers_count_as_utc() -> None:
    loaded = Query().load_query({"createdAt": {"$lt": datetime(2024, 1, 1, 5)}})
    assert loaded == {"createdAt": {"$lt": datetime(2024, 1, 1, 5, tzinfo=UTC)}}
    offset = datetime(2024, 1, 1, 5, tzinfo=timezone(timedelta(hours=5)))
    assert Query().load_query({"createdAt": offset}) == {"createdAt": datetime(2024, 1, 1, tzinfo=UTC)}


def test_null_conditions_are_allowed_for_equality_ne_and_in_but_not_for_ranges() -> None:
    assert Query().load_query({"name": None, "count": {"$ne": None}, "price": {"$in": [None, 1]}}) == {
        "name": None, "count": {"$ne": None}, "price": {"$in": [None, 1.0]}}
    assert errors_of({"count": {"$gt": None}}) == {"count": {"$gt": ["Field may not be null."]}}


def test_filters_given_as_null_are_dropped() -> None:
    assert Query().load_query({"$limit": None, "$sort": None, "active": True}) == {"active": True}


def test_none_and_empty_queries() -> None:
    assert Query().load_query(None) == {}
    assert Query().load_query({}) == {}


# -- what is refused ----------------------------------------------------------------------------

def test_unknown_fields_are_refused_so_clients_can_not_filter_on_hidden_fields() -> None:
    assert errors_of({"password": "x"}) == {"password": ["Unknown field."]}
    assert errors_of(parse_query_string("password[$ne]=x")) == {"password": ["Unknown field."]}


@pytest.mark.parametrize(("query", "expected"), [
    ({"name": {"$regex": "^a"}}, {"name": {"$regex": ["Operator not allowed."]}}),
    ({"type": {"$gt": "a"}}, {"type": {"$gt": ["Operator not allowed."]}}),
    ({"type": {"$ne": "a"}}, {"type": {"$ne": ["Operator not allowed."]}}),
    ({"active": {"$lt": True}}, {"active": {"$lt": ["Operator not allowed."]}}),
    ({"name": {"$or": [{"a": 1}]}}, {"name": {"$or": ["Operator not allowed."]}}),
    ({"name": {"$gt": "a", "plain": True}}, {"name": {"plain": ["Operator not allowed."]}}),
])
def test_operators_the_field_does_not_allow_are_refused(query: dict[str, Any], expected: Any) -> None:
    assert errors_of(query) == expected


def test_internal_fields_are_for_server_code_only() -> None:
    assert Query().load_query({"keyHash": "h"}, external=False) == {"keyHash": "h"}
    assert Query().load_query({"$sort": {"keyHash": 1}}, external=False) == {"$sort": {"keyHash": 1}}
    assert errors_of({"keyHash": "h"}) == {"keyHash": ["Unknown field."]}
    assert errors_of({"$select": ["keyHash"]}) == {"$select": {0: ["Unknown field."]}}
    assert "keyHash" not in QueryRules.of(Query).public.selectable


def test_default_operators_depend_on_the_field_type() -> None:
    rules = QueryRules.of(Query)
    assert rules.fields["count"].operators == {"$ne", "$in", "$nin", "$lt", "$lte", "$gt", "$gte"}
    assert rules.fields["createdAt"].operators == {"$ne", "$in", "$nin", "$lt", "$lte", "$gt", "$gte"}
    assert rules.fields["active"].operators == {"$ne", "$in", "$nin"}
    assert rules.fields["type"].operators == {"$in", "$nin"}


@pytest.mark.parametrize(("query", "expected"), [
    ({"count": "ten"}, {"count": ["Not a valid integer."]}),
    ({"count": "1.5"}, {"count": ["Not a valid integer."]}),
    ({"count": 1.5}, {"count": ["Not a valid integer."]}),
    ({"count": True}, {"count": ["Not a valid integer."]}),
    ({"count": str(2**63)}, {"count": ["Number out of range."]}),
    ({"price": "nan"}, {"price": ["Special numeric values (nan or infinity) are not permitted."]}),
    ({"active": "maybe"}, {"active": ["Not a valid boolean."]}),
    ({"createdAt": {"$gte": "yesterday"}}, {"createdAt": {"$gte": ["Not a valid datetime."]}}),
    ({"createdAt": "0001-01-01T00:00:00+01:00"}, {"createdAt": ["Not a valid UTC datetime."]}),
    ({"createdAt": 1700000000}, {"createdAt": ["Not a valid datetime."]}),
    ({"type": {"$in": ["a", "z"]}}, {"type": {"$in": {1: ["Must be one of: a, b."]}}}),
    ({"name": 5}, {"name": ["Not a valid string."]}),
    ({"name": ["a", "b"]}, {"name": ["Not a valid string."]}),
    ({"name": {"$in": {"x": 1}}}, {"name": {"$in": ["Must be a list."]}}),
    ({"note": "x"}, {"note": ["Can not filter on this field."]}),
    ({"$limit": "-1"}, {"$limit": ["Must be a non-negative integer."]}),
    ({"$limit": "abc"}, {"$limit": ["Must be a non-negative integer."]}),
    ({"$skip": 2.5}, {"$skip": ["Must be a non-negative integer."]}),
    ({"$limit": ["1", "2"]}, {"$limit": ["Must be a non-negative integer."]}),
    ({"$sort": {"password": 1}}, {"$sort": {"password": ["Unknown field."]}}),
    ({"$sort": {"tags": 1}}, {"$sort": {"tags": ["Can not sort on this field."]}}),
    ({"$sort": {"name": 0}}, {"$sort": {"name": ["Must be 1 or -1."]}}),
    ({"$sort": {"name": "up"}}, {"$sort": {"name": ["Must be 1 or -1."]}}),
    ({"$sort": "name"}, {"$sort": ["Must be an object of field: 1 or -1."]}),
    ({"$select": ["name", "password"]}, {"$select": {1: ["Unknown field."]}}),
    ({"$select": ["secret"]}, {"$select": {0: ["Can not select this field."]}}),
    ({"$select": 5}, {"$select": ["Must be a field name or a list of field names."]}),
    ({"$regex": "x"}, {"$regex": ["Unknown filter."]}),
    ({"$in": ["x"]}, {"$in": ["Unknown filter."]}),
    ({"$or": {"name": "x"}}, {"$or": ["Must be a list of queries."]}),
    ({"$or": ["x"]}, {"$or": {0: ["Must be a query object."]}}),
    ({"$or": [{"password": "x"}]}, {"$or": {0: {"password": ["Unknown field."]}}}),
    ({"$or": [{"$and": [{"name": "x"}]}]}, {"$or": {0: {"$and": ["Unknown filter."]}}}),
    ({"$and": [{"count": "x"}, {"name": "ok"}]}, {"$and": {0: {"count": ["Not a valid integer."]}}}),
])
def test_invalid_values_answer_per_field_messages(query: dict[str, Any], expected: Any) -> None:
    assert errors_of(query) == expected


def test_every_problem_is_reported_at_once() -> None:
    assert errors_of({"password": "x", "count": "y", "$limit": "-5", "$sort": {"nope": 1}}) == {
        "password": ["Unknown field."], "count": ["Not a valid integer."],
        "$limit": ["Must be a non-negative integer."], "$sort": {"nope": ["Unknown field."]},
    }


def test_nesting_is_bounded() -> None:
    query: dict[str, Any] = {"name": "x"}
    for _ in range(MAX_DEPTH + 1):
        query = {"$or": [query]}
    messages = errors_of(query)
    while isinstance(messages, dict):
        messages = next(iter(messages.values()))
    assert messages == ["Query nesting is too deep."]


def test_a_query_that_is_not_an_object_is_refused() -> None:
    assert errors_of(["name"]) == {"_schema": ["Must be a query object."]}


def test_any_marshmallow_schema_works_as_a_query_schema() -> None:
    class Plain(Schema):
        age = fields.Integer(metadata={"operators": ("$gt",)})

    assert load_query(Plain, {"age": {"$gt": "3"}}) == {"age": {"$gt": 3}}
    with pytest.raises(BadRequest) as caught:
        load_query(Plain(), {"age": {"$lt": "3"}})
    assert caught.value.to_json() == {
        "name": "BadRequest", "message": "validation failed", "code": 400, "className": "bad-request",
        "errors": {"age": {"$lt": ["Operator not allowed."]}}}


# -- the hook -------------------------------------------------------------------------------

async def test_the_hook_types_the_query_of_every_call_including_internal_ones() -> None:
    seen: list[Any] = []
    app = App()
    app.use("things", MemoryService())
    app.service("things").hooks({"before": {"all": [validate_query(Query), lambda ctx: seen.append(ctx.params["query"])]}})
    await app.service("things").find({"query": {"count": "3"}, "provider": "rest"})
    await app.service("things").find({"query": {"count": 3}})
    await app.service("things").find({"query": {"keyHash": "h"}})
    assert seen == [{"count": 3}, {"count": 3}, {"keyHash": "h"}]
    with pytest.raises(BadRequest) as caught:
        await app.service("things").find({"query": {"password": "x"}})
    assert caught.value.errors == {"password": ["Unknown field."]}
    with pytest.raises(BadRequest) as caught:
        await app.service("things").find({"query": {"keyHash": "h"}, "provider": "socketio"})
    assert caught.value.errors == {"keyHash": ["Unknown field."]}


async def test_the_hook_leaves_the_callers_query_object_alone() -> None:
    app = App()
    app.use("things", MemoryService())
    app.service("things").hooks({"before": {"all": [validate_query(Query)]}})
    query = {"count": "3"}
    await app.service("things").find({"query": query})
    assert query == {"count": "3"}

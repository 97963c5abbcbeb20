"""sanitize_query, split_query and page_limit (feathers-wire 2.1, 2.3)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cryptorobot.errors import BadRequest
from cryptorobot.query import FILTERS, OPERATORS, Filters, page_limit, sanitize_query, split_query

T0 = datetime(2024, 3, 13, tzinfo=UTC)


def nested_or(levels: int) -> dict[str, Any]:
    query: dict[str, Any] = {"name": "x"}
    for _ in range(levels):
        query = {"$or": [query]}
    return query


def test_constants() -> None:
    assert FILTERS == ("$limit", "$skip", "$sort", "$select", "$or", "$and")
    assert OPERATORS == ("$in", "$nin", "$lt", "$lte", "$gt", "$gte", "$ne", "$or")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (None, {}),
        ({}, {}),
        ({"name": "Doug", "age": "19"}, {"name": "Doug", "age": "19"}),
        ({"$limit": "10", "$skip": "2"}, {"$limit": 10, "$skip": 2}),
        ({"$limit": 10.7, "$skip": " 3px"}, {"$limit": 10, "$skip": 3}),
        ({"$limit": 0}, {"$limit": 0}),
        ({"$limit": "abc", "$skip": "abc"}, {}),
        ({"$limit": -1, "$skip": -5}, {}),
        ({"$limit": None, "$skip": True, "$select": None, "$sort": None, "$or": None}, {}),
        ({"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": 1}}}}}}}}}},
         {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": 1}}}}}}}}}}),
        ({"$limit": "9" * 5000}, {}),
        ({"$sort": {"name": "1", "age": -1, "x": "-1", "y": 5, "z": -3}},
         {"$sort": {"name": 1, "age": -1, "x": -1, "y": 1, "z": -1}}),
        ({"$select": ["name", 1]}, {"$select": ["name", "1"]}),
        ({"$select": "name"}, {"$select": ["name"]}),
        ({"$select": {"0": "a", "1": "b"}}, {"$select": ["a", "b"]}),
        ({"age": {"$in": {"1": 20, "0": 10}}}, {"age": {"$in": [10, 20]}}),
        ({"age": {"$nin": (1, 2)}}, {"age": {"$nin": [1, 2]}}),
        ({"age": {"$gt": 1, "$lt": 5}, "at": {"$gte": T0}}, {"age": {"$gt": 1, "$lt": 5}, "at": {"$gte": T0}}),
        ({"address": {"city": "Berlin"}}, {"address": {"city": "Berlin"}}),
        ({"tags": ["a", ("b",)]}, {"tags": ["a", ["b"]]}),
        ({"$or": [{"a": 1}, {"$or": [{"b": {"$ne": None}}]}]}, {"$or": [{"a": 1}, {"$or": [{"b": {"$ne": None}}]}]}),
        ({"$and": [{"$or": [{"a": 1}]}]}, {"$and": [{"$or": [{"a": 1}]}]}),
        ({"$or": {"0": {"a": 1}}}, {"$or": [{"a": 1}]}),
        (nested_or(10), nested_or(10)),
    ],
)
def test_sanitize_converts(query: Any, expected: dict[str, Any]) -> None:
    assert sanitize_query(query) == expected


@pytest.mark.parametrize(
    ("query", "message", "data"),
    [
        ("name=x", "Query must be an object", None),
        ({"$in": [1]}, "Invalid filter value $in", None),
        ({"$regex": "x"}, "Invalid filter value $regex", None),
        ({"age": {"$regex": "x"}}, "Invalid query parameter $regex", {"$regex": "x"}),
        ({"a": {"b": {"$where": "1"}}}, "Invalid query parameter $where", {"$where": "1"}),
        ({"tags": [{"$where": "1"}]}, "Invalid query parameter $where", {"$where": "1"}),
        ({"age": {"$gt": 1, "name": "x"}}, "Invalid query parameter name", {"$gt": 1, "name": "x"}),
        ({"age": {"$or": [{"$gt": 1}]}}, "Invalid query parameter $or", {"$or": [{"$gt": 1}]}),
        ({"age": {"$and": []}}, "Invalid query parameter $and", {"$and": []}),
        ({"$or": [{"$and": [{"a": 1}]}]}, "Invalid query parameter $and", {"$and": [{"a": 1}]}),
        ({"$and": [{"$and": [{"a": 1}]}]}, "Invalid query parameter $and", {"$and": [{"a": 1}]}),
        ({"$or": [{"$in": [1]}]}, "Invalid query parameter $in", {"$in": [1]}),
        ({"$or": {"a": 1}}, "$or must be an array of queries", None),
        ({"$and": [1]}, "$and must be an array of queries", None),
        ({"age": {"$in": 5}}, "$in must be an array", None),
        ({"age": {"$nin": {"a": 1}}}, "$nin must be an array", None),
        ({"$sort": "name"}, "$sort must be an object", None),
        ({"$sort": {"name": "asc"}}, "$sort direction for 'name' must be 1 or -1", None),
        ({"$sort": {"name": 0}}, "$sort direction for 'name' must be 1 or -1", None),
        ({"$sort": {"name": {"$gt": 1}}}, "$sort direction for 'name' must be 1 or -1", None),
        ({"$sort": {"name": True}}, "$sort direction for 'name' must be 1 or -1", None),
        ({"$select": [{"a": 1}]}, "$select must be an array of field names", None),
        ({"$select": {"name": 1}}, "$select must be an array of field names", None),
        ({"age": {1, 2}}, "Unsupported query value of type set", None),
        ({"age": {"$in": [b"x"]}}, "Unsupported query value of type bytes", None),
        ({1: "x"}, "Unsupported query value of type int", None),
        (nested_or(11), "Query nesting is too deep", None),
        ({"a": [[[[[[[[[[[1]]]]]]]]]]]}, "Query nesting is too deep", None),
        ({"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": {"k": {"l": 1}}}}}}}}}}}},
         "Query nesting is too deep", None),
    ],
)
def test_sanitize_rejects(query: Any, message: str, data: Any) -> None:
    with pytest.raises(BadRequest) as caught:
        sanitize_query(query)
    assert caught.value.message == message
    assert caught.value.to_json().get("data") == data


def test_sanitize_returns_a_new_query() -> None:
    query = {"tags": {"$in": ["a"]}, "$or": [{"a": {"b": 1}}], "$sort": {"x": 1}}
    sanitized = sanitize_query(query)
    sanitized["tags"]["$in"].append("changed")
    sanitized["$or"][0]["a"]["b"] = 2
    sanitized["$sort"]["y"] = 1
    assert query == {"tags": {"$in": ["a"]}, "$or": [{"a": {"b": 1}}], "$sort": {"x": 1}}


def test_extra_operators_and_filters() -> None:
    seen: list[Any] = []

    def upper(value: Any, options: dict[str, Any]) -> Any:
        seen.append(options["operators"])
        return value.upper() if value else None

    query = {"name": {"$like": "D%"}, "$populate": {"any": ["thing"]}, "$upper": "x", "$none": ""}
    filters = {"$populate": True, "$upper": upper, "$none": upper}
    assert sanitize_query(query, operators=["$like"], filters=filters) == {
        "name": {"$like": "D%"}, "$populate": {"any": ["thing"]}, "$upper": "X"}
    assert seen[0] == (*OPERATORS, "$like")
    with pytest.raises(BadRequest, match=r"^Invalid query parameter \$like$"):
        sanitize_query({"name": {"$like": "D%"}})


def test_split_query() -> None:
    query = sanitize_query({"$limit": 5, "$skip": 2, "$sort": {"a": -1}, "$select": "a", "$populate": 1,
                            "a": 1, "$or": [{"b": 2}], "$and": [{"c": 3}]}, filters={"$populate": True})
    assert split_query(query) == (
        Filters(limit=5, skip=2, sort={"a": -1}, select=["a"]),
        {"a": 1, "$or": [{"b": 2}], "$and": [{"c": 3}]},
    )
    assert split_query({}) == (Filters(limit=None, skip=0, sort=None, select=None), {})


@pytest.mark.parametrize(
    ("limit", "paginate", "expected"),
    [
        (None, None, None),
        (5, None, 5),
        (-1, None, None),
        (0, None, 0),
        (None, {}, None),
        (7, {}, 7),
        (None, {"default": 10, "max": 50}, 10),
        (20, {"default": 10, "max": 50}, 20),
        (80, {"default": 10, "max": 50}, 50),
        (-1, {"default": 10, "max": 50}, 10),
        (0, {"default": 10, "max": 50}, 0),
        (None, {"default": 3}, 3),
        (1000, {"default": 3}, 1000),
        (None, {"max": 2}, 2),
        (1, {"max": 2}, 1),
        (None, {"default": 0, "max": 5}, 0),
    ],
)
def test_page_limit(limit: int | None, paginate: dict[str, Any] | None, expected: int | None) -> None:
    assert page_limit(limit, paginate) == expected

"""compile_query and canonical: the memory adapter's MongoDB-style matching rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cryptorobot.adapters.matching import canonical, compile_query
from cryptorobot.errors import BadRequest

T0 = datetime(2024, 3, 13, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("record", "query", "expected"),
    [
        ({"a": 1}, {}, True),
        ({"a": 1}, {"a": 1.0}, True),
        ({"a": True}, {"a": 1}, False),
        ({"a": 1}, {"a": True}, False),
        ({"a": 0}, {"a": False}, False),
        ({"a": "1"}, {"a": 1}, False),
        ({"a": [1, 2]}, {"a": 2}, True),
        ({"a": [1, 2]}, {"a": [1, 2]}, True),
        ({"a": [1, 2]}, {"a": [2, 1]}, False),
        ({"a": [True]}, {"a": [1]}, False),
        ({"a": [[1], 2]}, {"a": [1]}, True),
        ({"a": {"x": 1, "y": 2}}, {"a": {"y": 2, "x": 1}}, True),
        ({"a": {"x": True}}, {"a": {"x": 1}}, False),
        ({}, {"a": None}, True),
        ({"a": None}, {"a": None}, True),
        ({"a": [None, 1]}, {"a": None}, True),
        ({"a": 0}, {"a": None}, False),
        ({}, {"a": {"$ne": None}}, False),
        ({}, {"a": {"$ne": 1}}, True),
        ({"a": [1, 2]}, {"a": {"$ne": 1}}, False),
        ({}, {"a": {"$in": [None, 1]}}, True),
        ({"a": True}, {"a": {"$in": [1]}}, False),
        ({"a": [3, 4]}, {"a": {"$in": [4]}}, True),
        ({}, {"a": {"$nin": [1]}}, True),
        ({"a": [3, 4]}, {"a": {"$nin": [4]}}, False),
        ({"a": {"b": 1}}, {"a": {"$in": [{"b": 1}]}}, True),
        ({"a": 5}, {"a": {"$gt": 4, "$lte": 5}}, True),
        ({"a": 5}, {"a": {"$gt": 5}}, False),
        ({"a": True}, {"a": {"$gte": 0}}, False),
        ({"a": "b"}, {"a": {"$gt": "a"}}, True),
        ({"a": "b"}, {"a": {"$gt": 1}}, False),
        ({"a": [1, 9]}, {"a": {"$gt": 5}}, True),
        ({}, {"a": {"$lt": 5}}, False),
        ({"a": None}, {"a": {"$lt": 5}}, False),
        ({"a": 1}, {"a": {"$lt": None}}, False),
        ({"a": T0}, {"a": {"$lt": T0 + timedelta(milliseconds=1)}}, True),
        ({"a": T0}, {"a": T0.replace(tzinfo=None)}, True),
        ({"a": T0}, {"a": {"$gte": T0.replace(tzinfo=None)}}, True),
        ({"a": T0}, {"a": {"$gt": "2024"}}, False),
        ({"a": {"b": {"c": 3}}}, {"a.b.c": 3}, True),
        ({"a": {"b": 5}}, {"a.b.c": None}, True),
        ({"a": [{"b": 1}]}, {"a.b": 1}, False),
        ({"a": 1, "b": 2}, {"$or": [{"a": 2}, {"b": 2}]}, True),
        ({"a": 1, "b": 2}, {"$or": []}, False),
        ({"a": 1, "b": 2}, {"$and": [{"a": 1}, {"b": 3}]}, False),
        ({"a": 1, "b": 2}, {"a": 1, "$or": [{"b": 2}], "$and": [{"$or": [{"a": 1}]}]}, True),
    ],
)
def test_compile_query(record: dict[str, Any], query: dict[str, Any], expected: bool) -> None:
    assert compile_query(query)(record) is expected


def test_unknown_operator() -> None:
    with pytest.raises(BadRequest, match=r"^Operator \$regex is not supported by this adapter$"):
        compile_query({"a": {"$regex": "x"}})


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        (1, 1.0, True),
        (True, 1, False),
        ([1, {"a": False}], [1, {"a": False}], True),
        ([1, {"a": False}], [1, {"a": 0}], False),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}, True),
        (T0, T0.replace(tzinfo=None), True),
        ("1", 1, False),
    ],
)
def test_canonical(left: Any, right: Any, equal: bool) -> None:
    assert (canonical(left) == canonical(right)) is equal
    assert hash(canonical(left)) is not None

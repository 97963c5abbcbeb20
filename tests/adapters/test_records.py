"""copy_json, project, supplied_id and field_getter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cryptorobot.adapters.records import MISSING, copy_json, field_getter, project, supplied_id


def test_copy_json_is_deep_and_makes_naive_datetimes_utc() -> None:
    naive = datetime(2024, 1, 1, 12, 30)
    value = {"a": [1, {"b": (2, 3)}], "at": naive, "n": None, "f": 1.5, "t": True}
    copied = copy_json(value)
    assert copied == {"a": [1, {"b": [2, 3]}], "at": naive.replace(tzinfo=UTC), "n": None, "f": 1.5, "t": True}
    copied["a"][1]["b"].append(4)
    assert value["a"][1]["b"] == (2, 3)
    assert copied["a"] is not value["a"]


@pytest.mark.parametrize("value", [{1, 2}, b"x", object()])
def test_copy_json_refuses_other_types(value: Any) -> None:
    with pytest.raises(TypeError):
        copy_json({"v": value})


def test_project() -> None:
    record = {"id": 1, "name": "Doug", "age": 32, "tags": ["a"]}
    assert project(record, None, "id") == record
    assert project(record, ["tags", "missing"], "id") == {"id": 1, "tags": ["a"]}
    assert project(record, [], "id") == {"id": 1}
    assert project(record, ["name"], "_id") == {"name": "Doug"}
    assert project(record, ["tags"], "id")["tags"] is not record["tags"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [({}, None), ({"id": None}, None), ({"id": 0}, None), ({"id": 0.0}, None), ({"id": ""}, None),
     ({"id": False}, None), ({"id": 5}, 5), ({"id": "x"}, "x"), ({"id": "0"}, "0")],
)
def test_supplied_id_follows_javascript_truthiness(data: dict[str, Any], expected: Any) -> None:
    assert supplied_id(data, "id") == expected


def test_field_getter() -> None:
    record = {"a": {"b": {"c": 1}}, "x": None, "l": [{"b": 1}]}
    assert field_getter("a.b.c")(record) == 1
    assert field_getter("x")(record) is None
    assert field_getter("y")(record) is MISSING
    assert field_getter("a.z.c")(record) is MISSING
    assert field_getter("x.b")(record) is MISSING
    assert field_getter("l.b")(record) is MISSING

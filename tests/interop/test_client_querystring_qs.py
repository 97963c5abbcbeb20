"""Differential: the Python client's `stringify_query` against qs 6.17's `stringify` itself, as
`@feathersjs/rest-client` calls it (default options).

`qs_stringify.mjs` (one Node process for the module) answers each JSON value with
`qs.stringify(value)`; the client must write the same bytes: keys in JS order, brackets and
indices, RFC 3986 escapes, numbers as JS writes them. Inputs: the client's unit table (the
rows JSON can carry), generated queries in one batch, and hypothesis.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptorobot.client import stringify_query
from tests.client.test_client_querystring import CASES, KEYS, nested
from tests.interop.node_checks import needs_node
from tests.interop.node_lines import NodeLines, node_lines

pytestmark = needs_node("qs")

SCRIPT = Path(__file__).resolve().parent / "qs_stringify.mjs"


@pytest.fixture(scope="module")
def qs() -> Iterator[NodeLines]:
    yield from node_lines(SCRIPT)


def assert_all_like_qs(qs: NodeLines, queries: list[Any]) -> None:
    # What Node gets is the JSON text, so the Python side encodes the same value read back.
    values = [json.loads(json.dumps(query)) for query in queries]
    for value, answer in zip(values, qs.ask_all(values), strict=True):
        assert answer == {"qs": stringify_query(value)}, f"qs.stringify({value!r})"


def json_safe(query: Any) -> bool:
    try:
        json.dumps(query, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def test_the_unit_table_is_what_qs_writes(qs: NodeLines) -> None:
    assert_all_like_qs(qs, [query for query, _ in CASES if json_safe(query) and not _has_tuples_or_sets(query)])


def _has_tuples_or_sets(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_tuples_or_sets(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_tuples_or_sets(item) for item in value)
    return isinstance(value, (tuple, set))


ODD_KEYS = ["0", "1", "10", "01", "-1", "4294967294", "4294967295", "", " ", "a b", "é", "$in", "[x]", "a.b", "%41"]
ODD_VALUES = [0, -0.0, 1e21, 1e-7, 0.1, 2**53, "", " ", "+", "%", "&=", "🚀", None, True, False, [], {}]


def _grammar_query(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    query: dict[str, Any] = {}
    for _ in range(rng.randint(0, 4)):
        key = rng.choice([*ODD_KEYS, "a", "b", "$sort", "$or"])
        roll = rng.random()
        if roll < 0.3 and depth < 4:
            query[key] = _grammar_query(rng, depth + 1)
        elif roll < 0.5 and depth < 4:
            query[key] = [rng.choice(ODD_VALUES) if rng.random() < 0.7 else _grammar_query(rng, depth + 1)
                          for _ in range(rng.randint(0, 3))]
        else:
            query[key] = rng.choice(ODD_VALUES)
    return query


def test_generated_queries_are_what_qs_writes(qs: NodeLines) -> None:
    rng = random.Random(16)
    assert_all_like_qs(qs, [_grammar_query(rng) for _ in range(2000)])


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(KEYS | st.sampled_from(ODD_KEYS), nested(4), max_size=4))
def test_hypothesis_queries_are_what_qs_writes(qs: NodeLines, query: dict[str, Any]) -> None:
    assert_all_like_qs(qs, [query])


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_are_what_qs_writes(qs: NodeLines, number: float) -> None:
    assert_all_like_qs(qs, [{"n": number}])

"""Differential: `parse_query_string` against qs 6.17 itself, the parser Feathers 5's Koa uses.

`qs_parse.mjs` (one Node process for the whole module) answers each query string with
`qs.parse(s)` (koa-qs's call: qs defaults) and `qs.parse(s, {arrayLimit: 1000})`. The Python
parser must equal the first with `array_limit=20` and the second with its default: the array
limit is its one deliberate difference (README, "Compatibility with Feathers"), so any other
difference fails. Inputs: the unit table of `tests/transports/test_querystring.py`, the
issue's examples, thousands of strings from a seeded grammar in one batch, and hypothesis.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptorobot.transports.querystring import parse_query_string
from tests.interop.node_checks import needs_node
from tests.interop.node_lines import NodeLines, node_lines
from tests.transports.test_querystring import CASES

pytestmark = needs_node("qs")

SCRIPT = Path(__file__).resolve().parent / "qs_parse.mjs"
QS_DEFAULT_ARRAY_LIMIT = 20

# Names that exercise every rule: indices around both limits, non-canonical numbers, operators,
# prototype members, brackets and escapes inside names, non-ASCII.
NAMES = ["a", "b", "0", "1", "2", "5", "19", "20", "21", "25", "999", "1000", "1001", "00", "-1",
         "01", "4294967294", "4294967295", "10000000000000000000", "$in", "$nin", "$or", "$sort",
         "", "x y", "é", "%C3%A9", "%FF", "%", "+", "a.b", "toString", "__proto__", "constructor",
         "hasOwnProperty", "=", "]", "["]
VALUES = ["v", "", "w", "1", "a+b", "%41", "%ZZ", "100%", "x=y", "[c]", "%5B", "caf%C3%A9", "%E2%9C"]
OPEN = ["[", "%5B", "%5b"]
CLOSE = ["]", "%5D", "%5d"]


@pytest.fixture(scope="module")
def qs() -> Iterator[NodeLines]:
    yield from node_lines(SCRIPT)


def assert_like_qs(raw: str, answer: dict) -> None:
    assert "error" not in answer, answer
    exact = parse_query_string(raw, array_limit=QS_DEFAULT_ARRAY_LIMIT)
    ours = parse_query_string(raw)
    # json.dumps: key order counts, as it does in JS ($sort).
    assert json.dumps(exact) == json.dumps(answer["qs"]), f"qs.parse({raw!r})"
    assert json.dumps(ours) == json.dumps(answer["qs1000"]), f"qs.parse({raw!r}, {{arrayLimit: 1000}})"


def assert_all_like_qs(qs: NodeLines, inputs: list[str]) -> None:
    for raw, answer in zip(inputs, qs.ask_all(inputs), strict=True):
        assert_like_qs(raw, answer)


ISSUE_AND_README = [
    "search[withbracket[]]=foobar",
    "foo[bar]=stuffs&foo=123",
    "id[$in][]=" + "&id[$in][]=".join(str(i) for i in range(25)),   # > 20 items: a dict in qs
    "&".join(f"id%5B%24in%5D%5B{i}%5D={i}" for i in range(30)),      # the rest-client's form
    "&".join(f"k{i}=v" for i in range(1100)),                          # parameterLimit
    "&".join("a=1" for _ in range(1100)),
    "&".join(f"a[{i}]=v" for i in range(990, 1010)),
]


def test_unit_table_and_issue_examples_are_what_qs_gives(qs: NodeLines) -> None:
    assert_all_like_qs(qs, [case.values[0] for case in CASES] + ISSUE_AND_README)


def _grammar_string(rng: random.Random) -> str:
    """A query string of up to 40 pairs over few names, so keys collide and merge."""
    pairs = []
    for _ in range(rng.randint(1, 40)):
        key = rng.choice(["a", "b", "0", "", rng.choice(NAMES)])
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 6, 7])):
            shape = rng.random()
            name = rng.choice(NAMES[:14]) if shape < 0.7 else rng.choice(NAMES)
            if shape < 0.1:
                key += rng.choice(OPEN) + rng.choice(CLOSE)                    # []
            elif shape < 0.15:
                key += rng.choice(OPEN) + name                                  # unterminated
            elif shape < 0.22:
                key += "[" + name + "[" + rng.choice(NAMES) + "]]"              # nested group
            elif shape < 0.25:
                key += rng.choice(["]", "x", "=", "]]"])                        # stray text
            else:
                key += rng.choice(OPEN) + name + rng.choice(CLOSE)
        form = rng.random()
        pairs.append(key if form < 0.1 else f"{key}={rng.choice(VALUES)}")
    if rng.random() < 0.1:
        pairs.insert(rng.randrange(len(pairs) + 1), "")                          # "&&"
    return "&".join(pairs)


def test_thousands_of_generated_strings_parse_as_in_qs(qs: NodeLines) -> None:
    rng = random.Random(9)
    inputs = [_grammar_string(rng) for _ in range(3000)]
    answers = qs.ask_all(inputs)
    for raw, answer in zip(inputs, answers, strict=True):
        assert_like_qs(raw, answer)
    # The grammar reaches the array limit: many strings parse differently under qs's 20.
    assert sum(answer["qs"] != answer["qs1000"] for answer in answers) > 500


_name = st.sampled_from(NAMES) | st.text(alphabet="ab01[]=%+.$5BDdé ", max_size=6)
_group = st.one_of(
    st.builds(lambda o, n, c: o + n + c, st.sampled_from(OPEN), _name, st.sampled_from(CLOSE)),
    st.builds(lambda o, n: o + n, st.sampled_from(OPEN), _name),
    st.builds(lambda n, m: f"[{n}[{m}]]", _name, _name),
)
_key = st.builds(lambda parent, groups: parent + "".join(groups),
                 st.sampled_from(["a", "b", "0", ""]) | _name, st.lists(_group, max_size=7))
_pair = st.one_of(
    _key,
    st.builds(lambda key, value: f"{key}={value}", _key,
              st.sampled_from(VALUES) | st.text(alphabet="ab%5DFf+=[]é", max_size=8)),
)
_query = st.lists(_pair, min_size=1, max_size=30).map("&".join) | st.text(
    alphabet="ab01[]=&%+5BDdé$", max_size=80)


@settings(max_examples=500, deadline=None)
@given(raw=_query)
def test_any_query_string_parses_as_in_qs(qs: NodeLines, raw: str) -> None:
    assert_like_qs(raw, qs.ask(raw))

"""parse_query_string against qs.parse (6.17, default options but arrayLimit 1000).

Every row of CASES is also run through Node's qs itself by
``tests/interop/test_querystring_qs.py`` (``qs.parse(s, {arrayLimit: 1000})``), so the table
stays true; this module runs without Node. Expected dicts are written in JS key order and
compared through json.dumps, so order counts.
"""

import json

import pytest

from cryptorobot.transports.querystring import MAX_KEY_LENGTH, parse_query_string

IN_500 = "&".join(f"id%5B%24in%5D%5B{i}%5D=v{i}" for i in range(500))
KEYS_1001 = "&".join(f"k{i}=v" for i in range(1001))
REPEAT_1500 = "&".join("a=1" for _ in range(1500))

CASES = [
    # What the JS rest-client sends (qs.stringify: keys encoded, explicit indices).
    pytest.param(
        "%24limit=2&name%5B%24in%5D%5B0%5D=a&name%5B%24in%5D%5B1%5D=b&%24sort%5BcreatedAt%5D=-1",
        {"$limit": "2", "name": {"$in": ["a", "b"]}, "$sort": {"createdAt": "-1"}},
        id="rest-client-find",
    ),
    pytest.param(
        "%24or%5B0%5D%5Btype%5D=x&%24or%5B1%5D%5Bname%5D=y",
        {"$or": [{"type": "x"}, {"name": "y"}]},
        id="rest-client-or",
    ),
    pytest.param(
        "createdAt%5B%24gte%5D=2024-03-13T17%3A21%3A50.000Z",
        {"createdAt": {"$gte": "2024-03-13T17:21:50.000Z"}},
        id="rest-client-date",
    ),
    pytest.param(
        "$or[0][type]=x&$or[1][name]=y",
        {"$or": [{"type": "x"}, {"name": "y"}]},
        id="or-raw",
    ),
    pytest.param("createdAt[$gte]=2024-01-01", {"createdAt": {"$gte": "2024-01-01"}}, id="gte-raw"),
    pytest.param(
        "type[$in][]=a&type[$in][]=b",
        {"type": {"$in": ["a", "b"]}},
        id="in-empty-brackets",
    ),
    pytest.param("$sort[b]=1&$sort[a]=-1", {"$sort": {"b": "1", "a": "-1"}}, id="sort-keeps-order"),
    pytest.param("a%5bb%5d=c", {"a": {"b": "c"}}, id="lowercase-encoded-brackets"),
    # Percent-decoding.
    pytest.param("", {}, id="empty"),
    pytest.param("a=b", {"a": "b"}, id="plain"),
    pytest.param("a=hello+world&b=%2B", {"a": "hello world", "b": "+"}, id="plus-is-space"),
    pytest.param("a+b%20c=d%20e", {"a b c": "d e"}, id="key-decoded"),
    pytest.param("name=caf%C3%A9&%E2%9C%93=1", {"name": "café", "✓": "1"}, id="utf8"),
    pytest.param("a=%41%ZZ", {"a": "%41%ZZ"}, id="malformed-escape-leaves-whole-value"),
    pytest.param("a=100%&b=%4", {"a": "100%", "b": "%4"}, id="truncated-escape"),
    pytest.param("a=%FF&b=%C3", {"a": "%FF", "b": "%C3"}, id="invalid-utf8-left-as-is"),
    pytest.param("a=%ZZ+b", {"a": "%ZZ b"}, id="plus-decoded-despite-malformed"),
    pytest.param("a=1=2", {"a": "1=2"}, id="value-keeps-equals"),
    pytest.param("a[b=c]=d", {"a": {"b=c": "d"}}, id="equals-inside-brackets"),
    # Repeated plain keys.
    pytest.param("a=1&a=2&a=3", {"a": ["1", "2", "3"]}, id="repeated-key"),
    pytest.param("a[b]=1&a[b]=2", {"a": {"b": ["1", "2"]}}, id="repeated-nested-key"),
    pytest.param("a[0]=x&a[0]=y", {"a": [["x", "y"]]}, id="repeated-index"),
    # Arrays.
    pytest.param("a[]=1&a[]=2", {"a": ["1", "2"]}, id="empty-brackets"),
    pytest.param("a[0]=x&a[1]=y", {"a": ["x", "y"]}, id="indices"),
    pytest.param("a[1]=x&a[0]=y", {"a": ["y", "x"]}, id="indices-sorted"),
    pytest.param("a[1]=b&a[15]=c", {"a": ["b", "c"]}, id="sparse-compacted"),
    pytest.param("a[]=x&a[0]=y", {"a": ["x", "y"]}, id="taken-index-appends"),
    pytest.param("a[][b]=x", {"a": [{"b": "x"}]}, id="object-in-empty-brackets"),
    pytest.param(
        "a[00]=x&a[-1]=y",
        {"a": {"00": "x", "-1": "y"}},
        id="non-canonical-index-is-name",
    ),
    pytest.param("0=a&[1]=b&[]=c", {"0": ["a", "c"], "1": "b"}, id="no-parent"),
    # arrayLimit (DEVIATION in value: 1000 instead of 20; same rule).
    pytest.param("a[21]=x", {"a": ["x"]}, id="index-21-is-list"),
    pytest.param("a[999]=x", {"a": ["x"]}, id="index-999-is-list"),
    pytest.param("a[1000]=x", {"a": {"1000": "x"}}, id="index-1000-is-dict"),
    pytest.param("a[1001]=x", {"a": {"1001": "x"}}, id="index-1001-is-dict"),
    pytest.param("a[1001]=x&a=y", {"a": {"1001": "x", "1002": "y"}}, id="dict-from-index-appends"),
    pytest.param(
        "a[0]=x&a[1001]=y",
        {"a": {"0": "x", "1001": "y"}},
        id="index-1001-turns-list-into-dict",
    ),
    pytest.param(IN_500, {"id": {"$in": [f"v{i}" for i in range(500)]}}, id="in-500"),
    # depth 5.
    pytest.param(
        "a[b][c][d][e][f]=x", {"a": {"b": {"c": {"d": {"e": {"f": "x"}}}}}}, id="depth-5"
    ),
    pytest.param(
        "a[b][c][d][e][f][g][h]=i",
        {"a": {"b": {"c": {"d": {"e": {"f": {"[g][h]": "i"}}}}}}},
        id="depth-over-5-literal-rest",
    ),
    pytest.param(
        "[a][b][c][d][e][f]=x",
        {"a": {"b": {"c": {"d": {"e": {"[f]": "x"}}}}}},
        id="depth-over-5-without-parent",
    ),
    pytest.param("a[b]c[d]=1&x[y=2", {"a": {"b": {"d": "1"}}, "x": {"[y": "2"}}, id="malformed-brackets"),
    pytest.param("search[withbracket[]]=foobar", {"search": {"withbracket[]": "foobar"}},
                 id="nested-brackets"),
    pytest.param("a[b[c]][d]=1", {"a": {"b[c]": {"d": "1"}}}, id="nested-brackets-then-group"),
    # parameterLimit 1000.
    pytest.param(KEYS_1001, {f"k{i}": "v" for i in range(1000)}, id="parameter-limit"),
    pytest.param(REPEAT_1500, {"a": ["1"] * 1000}, id="parameter-limit-repeated"),
    # Dots, missing "=", empty keys.
    pytest.param("a.b=c&d[e.f]=g", {"a.b": "c", "d": {"e.f": "g"}}, id="dots-are-not-separators"),
    pytest.param("a&b=&c[d]", {"a": "", "b": "", "c": {"d": ""}}, id="missing-equals"),
    pytest.param("=x&&a=1&&", {"a": "1"}, id="empty-keys-ignored"),
    # Mixing indices and names; conflicts.
    pytest.param("a[0]=b&a[x]=c", {"a": {"0": "b", "x": "c"}}, id="index-then-name"),
    pytest.param("a[x]=c&a[0]=b", {"a": {"0": "b", "x": "c"}}, id="name-then-index-js-order"),
    pytest.param("a=y&a[b]=x", {"a": ["y", {"b": "x"}]}, id="plain-then-object"),
    pytest.param("foo[bar]=stuffs&foo=123", {"foo": [{"bar": "stuffs"}, "123"]}, id="object-then-plain"),
    pytest.param("a[b]=x&a=y&a=z", {"a": {"0": "y", "1": "z", "b": "x"}}, id="object-then-list"),
    pytest.param("a[b]=x&a=y&a[c]=z&a=w", {"a": {"0": "y", "1": "w", "b": "x", "c": "z"}},
                 id="repeated-keys-combine-first"),
    pytest.param("a[b]=x&a=y&a[][c]=z", {"a": [{"b": "x", "c": "z"}, "y"]},
                 id="conflict-list-merges-by-index"),
    pytest.param("a=&a[b]=x", {"a": ["", {"b": "x"}]}, id="empty-then-object"),
    pytest.param("a[b]=x&a=", {"a": {"b": "x"}}, id="object-then-empty"),
    # Leaves and key order.
    pytest.param(
        "n=1&b=true&z=null",
        {"n": "1", "b": "true", "z": "null"},
        id="leaves-are-strings",
    ),
    pytest.param("b=1&2=x&1=y", {"1": "y", "2": "x", "b": "1"}, id="integer-keys-first"),
    pytest.param("1[a]=x&1=y", {"1": ["y", {"a": "x"}]}, id="integer-key-merged-first"),
    # Keys naming Object.prototype members are dropped (koa-qs does not allow prototypes).
    pytest.param("constructor=y&a[toString]=z&b=1", {"b": "1"}, id="prototype-names"),
    pytest.param("__proto__=x&a[__proto__]=y&a[b]=1", {"a": {"b": "1"}}, id="proto-key"),
    pytest.param(
        "a[b][c][d][e][f][toString]=1",
        {"a": {"b": {"c": {"d": {"e": {"f": {"[toString]": "1"}}}}}}},
        id="prototype-name-beyond-depth-kept",
    ),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_matches_qs(raw: str, expected: dict) -> None:
    result = parse_query_string(raw)
    assert result == expected
    assert json.dumps(result) == json.dumps(expected)  # same key order as JS


def test_key_length_limit() -> None:
    at_limit = "k" * MAX_KEY_LENGTH
    assert parse_query_string(f"{at_limit}=1") == {at_limit: "1"}
    with pytest.raises(ValueError):
        parse_query_string(f"a=1&{at_limit}k=1")
    with pytest.raises(ValueError):
        parse_query_string(f"{at_limit}k")  # pair without "="


def test_long_values_are_fine() -> None:
    value = "v" * 100_000
    assert parse_query_string(f"a={value}") == {"a": value}


def test_huge_index_is_a_name() -> None:
    index = "9" * 1500
    assert parse_query_string(f"a[{index}]=x") == {"a": {index: "x"}}

"""Query-string parsing exactly as a Feathers 5 Koa server gets it from ``qs.parse``.

``@feathersjs/koa`` 5.0.50 parses with ``koa-qs`` in "extended" mode, which calls
``qs.parse(str)`` with qs's default options; ``koa-qs`` depends on ``qs ^6.9.4``, so a fresh
install runs qs 6.17. This module is a port of qs 6.17.1's ``lib/parse.js`` and the parts of
``lib/utils.js`` it uses (``merge``, ``combine``, ``compact``, ``decode``) with those defaults,
so hooks and adapters see what they would see under Node (``feathers-wire.md`` 1.4, 1.5).
``tests/transports/test_querystring_qs.py`` runs generated strings through qs itself.

qs 6.17 rules worth knowing (all reproduced):

* Bracket groups nest: ``search[withbracket[]]=x`` -> ``{"search": {"withbracket[]": "x"}}``;
  an unterminated group is one literal segment (``x[y=2`` -> ``{"x": {"[y": "2"}}``).
* A plain value meeting an object makes a list of both (``foo[bar]=a&foo=1`` ->
  ``{"foo": [{"bar": "a"}, "1"]}``; qs's ``strictMerge``); further plain values append to it.
* Arrays hold at most ``array_limit`` items: a longer one (repeated keys, ``[]``, explicit
  indices) becomes a dict with string keys, and later values get the next free index.
* Keys that name ``Object.prototype`` members (``constructor``, ``toString``, ``__proto__``...)
  are dropped, wherever they appear in the first ``DEPTH`` bracket groups.

Deliberate deviations (README, "Compatibility with Feathers"):

* ``ARRAY_LIMIT`` is 1000 instead of qs's 20, so ``{"$in": [...]}`` with hundreds of values
  stays a list (Feathers issues #2240, #3399); ``PARAMETER_LIMIT`` still caps the query at 1000
  pairs. With ``array_limit=20`` the parser is qs's default exactly.
* A raw key longer than ``MAX_KEY_LENGTH`` raises ``ValueError`` (the REST layer answers 400
  BadRequest) instead of being parsed.

Every leaf is a string. Dict keys follow JS object order (integer-like keys first,
ascending), as ``$sort`` depends on key order.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_to_bytes

__all__ = ["ARRAY_LIMIT", "DEPTH", "MAX_KEY_LENGTH", "PARAMETER_LIMIT", "parse_query_string"]

PARAMETER_LIMIT = 1000
"""Pairs after this many are ignored, as in qs."""
DEPTH = 5
"""Bracket groups beyond this many stay one literal key, as in qs."""
ARRAY_LIMIT = 1000
"""Most items a list may hold before it becomes a dict (qs default: 20)."""
MAX_KEY_LENGTH = 2048
"""Longest key accepted, measured before percent-decoding; longer raises ValueError."""

# Object.getOwnPropertyNames(Object.prototype) in Node 20: qs drops keys naming them.
_PROTOTYPE_NAMES = frozenset({
    "constructor", "__defineGetter__", "__defineSetter__", "hasOwnProperty", "__lookupGetter__",
    "__lookupSetter__", "isPrototypeOf", "propertyIsEnumerable", "toString", "valueOf",
    "__proto__", "toLocaleString",
})
_BAD_ESCAPE = re.compile("%(?![0-9A-Fa-f]{2})")
_CANONICAL_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_BRACKET = re.compile(r"[\[\]]")
_LEADING_INT = re.compile(r"[ \t\n\r\f\v]*([+-]?[0-9]+)")
_MAX_ARRAY_INDEX = 2**32 - 2  # largest key JS orders as an integer
_SAFE_INTEGER = 2**53


class _Arr:
    """A JS array while parsing: may have holes (``items`` lacks an index) until compacted."""

    __slots__ = ("conflict", "items", "length")

    def __init__(self, items: dict[int, Any], length: int) -> None:
        self.items = items
        self.length = length
        self.conflict: float | None = None  # qs's conflictChannel mark

    def push(self, value: Any) -> None:
        self.items[self.length] = value
        self.length += 1

    def present(self) -> list[int]:
        """Indices that hold a value, ascending (what ``forEach``/``Object.keys`` visit)."""
        return sorted(self.items) if len(self.items) > 1 else list(self.items)


class _Obj(dict[str, Any]):
    """A JS object while parsing, with qs's side-channel marks as attributes.

    ``overflow``: the highest numeric index of an array that outgrew the limit;
    ``conflict``: the highest index of a list made by a value/object conflict.
    Unset marks read the class defaults, so creating one costs no ``__init__``.
    """

    overflow: float | None = None
    conflict: float | None = None


_CONTAINERS = (_Arr, _Obj)


def parse_query_string(raw: str, *, array_limit: int = ARRAY_LIMIT) -> dict[str, Any]:
    """Parse a raw query string (without ``?``) like ``qs.parse(raw)`` in a Feathers server.

    `array_limit` is qs's ``arrayLimit`` (qs's default is 20; see the module docstring).
    Returns nested dicts, lists and strings. Raises ValueError when a key is longer than
    ``MAX_KEY_LENGTH``.
    """
    if not raw:
        return {}
    if "%5" in raw:
        raw = raw.replace("%5B", "[").replace("%5b", "[").replace("%5D", "]").replace("%5d", "]")
    pairs = _split_pairs(raw, array_limit)
    if "[" not in raw:
        # Fast path: every key is a single segment, so the pairs are the result.
        return {
            key: _finalize(pairs[key])
            for key in _keys(pairs)
            if key and key not in _PROTOTYPE_NAMES
        }
    result = _Obj()
    for key in _keys(pairs):
        if not key:
            continue
        segments = _split_key(key)
        if segments is not None:
            result = _merge(result, _parse_object(segments, pairs[key], array_limit), array_limit)
    finished: dict[str, Any] = _finalize(result)
    return finished


# -- qs parseValues --------------------------------------------------------------------------


def _split_pairs(raw: str, limit: int) -> dict[str, Any]:
    """Decoded key -> decoded value; repeated keys combined as qs ``utils.combine`` does."""
    pairs: dict[str, Any] = {}
    for part in raw.split("&", PARAMETER_LIMIT)[:PARAMETER_LIMIT]:
        # qs splits at "]=" when present so that "=" inside a bracketed key survives.
        pos = part.find("]=")
        pos = part.find("=") if pos < 0 else pos + 1
        if pos < 0:
            raw_key, value = part, ""
        else:
            raw_key, value = part[:pos], _decode(part[pos + 1 :])
        if len(raw_key) > MAX_KEY_LENGTH:
            raise ValueError(f"Query string key longer than {MAX_KEY_LENGTH} characters")
        key = _decode(raw_key)
        pairs[key] = _combine(pairs[key], value, limit) if key in pairs else value
    return pairs


def _decode(text: str) -> str:
    """qs ``decode``: ``+`` is a space, then ``decodeURIComponent``; text as is if that throws."""
    if "+" in text:
        text = text.replace("+", " ")
    if "%" not in text or _BAD_ESCAPE.search(text):
        return text
    try:
        return unquote_to_bytes(text).decode("utf-8")
    except UnicodeError:  # invalid UTF-8 makes decodeURIComponent throw too
        return text


# -- qs splitKeyIntoSegments and parseObject -------------------------------------------------


def _split_key(key: str) -> list[str] | None:
    """``a[b][c[]]`` -> ``["a", "[b]", "[c[]]"]``; None when a segment names a prototype member."""
    first = key.find("[")
    parent = key[:first] if first >= 0 else key
    segments: list[str] = []
    if parent:
        if parent in _PROTOTYPE_NAMES:
            return None
        segments.append(parent)
    opening = first
    collected = 0
    while opening >= 0 and collected < DEPTH:
        close = _matching_close(key, opening)
        if close < 0:  # unterminated: the rest is one literal segment
            segments.append("[" + key[opening:] + "]")
            return segments
        segment = key[opening : close + 1]
        if segment[1:-1] in _PROTOTYPE_NAMES:
            return None
        segments.append(segment)
        collected += 1
        opening = key.find("[", close + 1)
    if opening >= 0:
        segments.append("[" + key[opening:] + "]")
    return segments


def _matching_close(key: str, opening: int) -> int:
    """Index of the ``]`` balancing the ``[`` at `opening`, or -1."""
    close = key.find("]", opening + 1)
    nested = key.find("[", opening + 1)
    if close < 0 or nested < 0 or close < nested:
        return close
    level = 1
    for match in _BRACKET.finditer(key, opening + 1):
        level += 1 if match.group() == "[" else -1
        if level == 0:
            return match.start()
    return -1


def _parse_object(chain: list[str], leaf: Any, limit: int) -> Any:
    """qs ``parseObject``: build the containers of one key's segments around its value."""
    for root in reversed(chain):
        built: Any
        if root == "[]":
            overflowed = type(leaf) is _Obj and leaf.overflow is not None
            built = leaf if overflowed else _combine(_Arr({}, 0), leaf, limit)
        else:
            built = _Obj()
            wrapped = root[:1] == "[" and root[-1:] == "]"
            name = root[1:-1] if wrapped else root
            index = _canonical_int(name) if wrapped else None
            if index is not None and index >= 0 and index < limit:
                built = _Arr({int(index): leaf}, int(index) + 1)
            elif index is not None and index >= 0:
                built[name] = leaf
                built.overflow = index
            elif name != "__proto__":
                built[name] = leaf
        leaf = built
    return leaf


# -- qs utils: combine, merge ----------------------------------------------------------------


def _concat(*values: Any) -> _Arr:
    """``[].concat(...values)``: arrays are spread (holes kept), anything else is one item."""
    items: dict[int, Any] = {}
    length = 0
    for value in values:
        if type(value) is _Arr:
            for index, item in value.items.items():
                items[length + index] = item
            length += value.length
        else:
            items[length] = value
            length += 1
    return _Arr(items, length)


def _array_to_object(array: _Arr) -> _Obj:
    result = _Obj()
    for index in array.present():
        result[str(index)] = array.items[index]
    return result


def _overflowed(array: _Arr, max_index: float) -> _Obj:
    result = _array_to_object(array)
    result.overflow = max_index
    return result


def _combine(first: Any, second: Any, limit: int) -> Any:
    """qs ``utils.combine``: append to an overflowed dict, else concatenate within the limit."""
    if type(first) is _Obj and first.overflow is not None:
        index = first.overflow
        values = [second.items[i] for i in second.present()] if type(second) is _Arr else [second]
        for value in values:
            index += 1
            first[_js_number(index)] = value
        first.overflow = index
        return first
    combined = _concat(first, second)
    if combined.length > limit:
        return _overflowed(combined, combined.length - 1)
    return combined


def _merge(target: Any, source: Any, limit: int) -> Any:
    """qs ``utils.merge`` with ``strictMerge`` (the 6.17 default), in place where qs is."""
    if source == "":
        return target
    if type(source) is str:
        return _merge_value(target, source, limit)
    if type(target) is str:
        return _merge_into_value(target, source, limit)
    if type(target) is _Arr and type(source) is _Arr:
        return _merge_arrays(target, source, limit)
    if type(target) is _Arr:
        merged = _array_to_object(target)
        if target.conflict is not None:
            merged.conflict = target.length - 1
        target = merged
    return _merge_entries(target, source, limit)


def _merge_value(target: Any, source: str, limit: int) -> Any:
    """A plain value meets `target`: appended to a list, or paired with it."""
    if type(target) is _Arr:
        if len(target.items) >= limit:
            return _overflowed(_concat(target, source), target.length)
        target.push(source)
        return target
    if type(target) is _Obj:
        if target.overflow is not None:
            target.overflow += 1
            target[_js_number(target.overflow)] = source
        elif target.conflict is not None:
            target.conflict += 1
            target[_js_number(target.conflict)] = source
        else:
            pair = _combine(target, source, limit)  # qs's limitedPair
            if type(pair) is _Arr:
                pair.conflict = 1
            return pair
        return target
    return _combine(target, source, limit)


def _merge_into_value(target: str, source: Any, limit: int) -> Any:
    """A container meets a plain value: the value goes first, the container's items after."""
    if type(source) is _Obj and source.overflow is not None:
        result = _Obj()
        result["0"] = target
        for key in _keys(source):
            shifted = _parse_int(key)
            result["NaN" if shifted is None else _js_number(shifted + 1)] = source[key]
        result.overflow = source.overflow + 1
        return result
    return _combine(target, source, limit)


def _merge_arrays(target: _Arr, source: _Arr, limit: int) -> Any:
    for index in source.present():
        item = source.items[index]
        if index in target.items:
            existing = target.items[index]
            if type(existing) in _CONTAINERS and type(item) in _CONTAINERS:
                target.items[index] = _merge(existing, item, limit)
            else:
                target.push(item)
        else:
            target.items[index] = item
            if index >= target.length:
                target.length = index + 1
    if len(target.items) > limit:
        return _overflowed(target, target.length - 1)
    return target


def _merge_entries(target: _Obj, source: Any, limit: int) -> _Obj:
    """Merge `source`'s entries into the dict `target`, keeping qs's index marks current."""
    if type(source) is _Arr:
        entries = [(str(index), source.items[index]) for index in source.present()]
        source_overflow = None
    else:
        entries = [(key, source[key]) for key in _keys(source)]
        source_overflow = source.overflow
    for key, value in entries:
        target[key] = _merge(target[key], value, limit) if key in target else value
        if source_overflow is not None and target.overflow is None:
            target.overflow = _max_numeric_index(target, source_overflow)
        if target.overflow is not None or target.conflict is not None:
            number = _canonical_int(key)
            if number is not None:
                if target.overflow is not None and number >= 0 and number > target.overflow:
                    target.overflow = number
                if target.conflict is not None and number > target.conflict:
                    target.conflict = number
    return target


def _max_numeric_index(obj: _Obj, minimum: float) -> float:
    highest = minimum
    for key in obj:
        number = _canonical_int(key)
        if number is not None and number > highest:
            highest = number
    return highest


# -- JS numbers and key order ----------------------------------------------------------------


def _canonical_int(text: str) -> float | None:
    """``parseInt(text, 10)`` when ``String(thatNumber) === text``, else None (a JS double)."""
    if text.isdigit() and len(text) <= 15 and text.isascii():
        return float(text) if text[0] != "0" or len(text) == 1 else None
    if len(text) > 22 or not _CANONICAL_INT.fullmatch(text) or text == "-0":
        return None
    number = float(int(text))
    return number if _js_number(number) == text else None


def _parse_int(text: str) -> float | None:
    """``parseInt(text, 10)``; None for NaN."""
    match = _LEADING_INT.match(text)
    return float(int(match.group(1))) if match else None


def _js_number(number: float) -> str:
    """``String(number)`` for an integral JS number (``Number::toString`` below 1e21)."""
    if abs(number) < _SAFE_INTEGER:
        return str(int(number))
    if abs(number) >= 1e21:
        return repr(number)  # exponent form in JS too; never equal to a canonical integer
    # Shortest round-trip digits (Python's repr and JS agree), padded with zeros.
    mantissa, _, exponent = repr(number).partition("e")
    sign = "-" if mantissa.startswith("-") else ""
    whole, _, fraction = mantissa.lstrip("-").partition(".")
    fraction = fraction.rstrip("0") if fraction != "0" else ""
    digits = (whole + fraction).lstrip("0") or "0"
    places = int(exponent or 0) - len(fraction)  # >= 0: the number is integral
    return sign + digits + "0" * places


def _keys(obj: dict[str, Any]) -> list[str]:
    """JS ``Object.keys`` order: array-index keys ascending first, then insertion order."""
    indices = [key for key in obj if key[:1].isdigit() and _is_array_index(key)]
    if not indices:
        return list(obj)
    indices.sort(key=int)
    return [*indices, *(key for key in obj if not (key[:1].isdigit() and _is_array_index(key)))]


def _is_array_index(key: str) -> bool:
    return (
        len(key) <= 10 and key.isascii() and key.isdigit() and (key[0] != "0" or len(key) == 1)
        and int(key) <= _MAX_ARRAY_INDEX
    )


def _finalize(value: Any) -> Any:
    """qs ``compact`` (arrays lose their holes) plus JS key order, recursively."""
    if type(value) is _Arr:
        return [_finalize(value.items[index]) for index in value.present()]
    if type(value) is _Obj:
        return {key: _finalize(value[key]) for key in _keys(value)}
    return value

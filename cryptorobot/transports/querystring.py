"""Query-string parsing that matches what a Feathers JS server gets from ``qs.parse``.

The JS rest-client encodes ``params.query`` with ``qs.stringify`` and Koa/Express decode it
with ``qs.parse`` (default options, qs 6.13 semantics). The REST transport must produce the
same structure so that hooks and adapters see what they would see under Node; see
``feathers-wire.md`` 1.4 and 1.5.

Deliberate deviations from qs defaults, all benign for what the JS client sends:

* ``ARRAY_LIMIT`` is 1000 instead of 20, so ``{"$in": [...]}`` with hundreds of values stays
  a list (Feathers issues #2240, #3399; ``PARAMETER_LIMIT`` still caps the whole query at 1000
  pairs). An index above the limit turns that array into a dict with string keys, as qs does
  above 20.
* Keys are never dropped for shadowing ``Object.prototype``: ``constructor``, ``toString`` and
  even ``__proto__`` are ordinary dict keys (Express passes ``allowPrototypes: true``; qs
  still drops ``__proto__``, Python has no reason to).
* A raw key longer than ``MAX_KEY_LENGTH`` raises ``ValueError`` (the REST layer answers
  400 BadRequest) instead of being parsed: failing loudly beats silently losing a filter.

Every leaf is a string, with one qs quirk kept: a plain value merged into an object built by
bracketed keys becomes a key set to ``True`` (``a[b]=x&a=y`` -> ``{"a": {"b": "x", "y": True}}``).
Dict keys follow JS object order (integer-like keys first, ascending), as ``$sort`` depends on
key order.
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
"""Highest index that still builds a list (qs default: 20)."""
MAX_KEY_LENGTH = 2048
"""Longest key accepted, measured before percent-decoding; longer raises ValueError."""

_SEGMENT = re.compile(r"\[[^\[\]]*\]")
_BAD_ESCAPE = re.compile("%(?![0-9A-Fa-f]{2})")
_MAX_ARRAY_INDEX = 2**32 - 2  # largest key JS orders as an integer


class _Arr:
    """A JS array while parsing: may have holes until ``_finalize`` compacts it."""

    __slots__ = ("items", "length")

    def __init__(self, items: dict[int, Any], length: int) -> None:
        self.items = items
        self.length = length

    def push(self, value: Any) -> None:
        self.items[self.length] = value
        self.length += 1

    def present(self) -> list[int]:
        """Indices that hold a value, ascending (what ``forEach``/``Object.keys`` visit)."""
        return sorted(self.items) if len(self.items) > 1 else list(self.items)


def parse_query_string(raw: str) -> dict[str, Any]:
    """Parse a raw query string (without ``?``) like ``qs.parse(raw)`` in a Feathers server.

    Raises ValueError when a key is longer than ``MAX_KEY_LENGTH``.
    """
    if not raw:
        return {}
    if "%5" in raw:
        raw = raw.replace("%5B", "[").replace("%5b", "[").replace("%5D", "]").replace("%5d", "]")
    pairs = _js_order(_split_pairs(raw))
    if "[" not in raw:
        # Fast path: no key has a bracket group, so the pairs are the result.
        return pairs
    result: dict[str, Any] = {}
    for key, value in pairs.items():
        if type(value) is list:
            value = _Arr(dict(enumerate(value)), len(value))
        result = _merge(result, _build(key, value))
    return _finalize(result)


def _split_pairs(raw: str) -> dict[str, Any]:
    """qs ``parseValues``: decoded key -> decoded value, repeated keys collected into a list."""
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
        if not key:
            continue  # qs ignores pairs with an empty key
        if key in pairs:
            previous = pairs[key]
            if type(previous) is list:
                previous.append(value)
            else:
                pairs[key] = [previous, value]
        else:
            pairs[key] = value
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


def _build(key: str, leaf: Any) -> Any:
    """qs ``parseKeys`` + ``parseObject``: turn ``a[b][0]`` and a leaf into nested containers."""
    groups = _SEGMENT.findall(key)
    if not groups:
        return {key: leaf}
    # The leftmost occurrence of a group's text is the leftmost match, so find() gives its start.
    parent = key[: key.find(groups[0])]
    if len(groups) > DEPTH:
        rest = next(m for i, m in enumerate(_SEGMENT.finditer(key)) if i == DEPTH).start()
        groups = groups[:DEPTH]
        groups.append("[" + key[rest:] + "]")
    for group in reversed(groups):
        name = group[1:-1]
        if not name:
            leaf = _Arr(dict(leaf.items), leaf.length) if type(leaf) is _Arr else _Arr({0: leaf}, 1)
        elif _is_index(name) and int(name) <= ARRAY_LIMIT:
            index = int(name)
            leaf = _Arr({index: leaf}, index + 1)
        else:
            leaf = {name: leaf}
    # A parent never looks like "[...]" (that would contain a group), so it is always a plain key.
    return {parent: leaf} if parent else leaf


def _is_index(name: str) -> bool:
    """True for canonical decimal integers of at most 10 digits (``String(parseInt(x)) === x``).

    Ten digits cover every limit that applies, and keep ``int()`` cheap on hostile keys.
    """
    return (
        len(name) <= 10 and name.isascii() and name.isdigit() and (name[0] != "0" or len(name) == 1)
    )


def _merge(target: Any, source: Any) -> Any:
    """qs ``utils.merge`` (6.13), applied to ``_Arr``/dict/str values."""
    if type(source) is str:
        if not source:
            return target
        if type(target) is _Arr:
            target.push(source)
        elif type(target) is dict:
            target[source] = True
        else:
            return _Arr({0: target, 1: source}, 2)
        return target
    if type(target) is not dict and type(target) is not _Arr:
        if type(source) is _Arr:
            shifted = {i + 1: v for i, v in source.items.items()}
            shifted[0] = target
            return _Arr(shifted, source.length + 1)
        return _Arr({0: target, 1: source}, 2)
    if type(target) is _Arr:
        if type(source) is _Arr:
            for i in source.present():
                item = source.items[i]
                if i in target.items:
                    existing = target.items[i]
                    if type(existing) in (dict, _Arr) and type(item) in (dict, _Arr):
                        target.items[i] = _merge(existing, item)
                    else:
                        target.push(item)
                else:
                    target.items[i] = item
                    if i >= target.length:
                        target.length = i + 1
            return target
        target = {str(i): target.items[i] for i in target.present()}
    if type(source) is _Arr:
        entries: Any = ((str(i), source.items[i]) for i in source.present())
    else:
        entries = source.items()
    for key, value in entries:
        target[key] = _merge(target[key], value) if key in target else value
    return target


def _finalize(value: Any) -> Any:
    """qs ``compact`` (arrays lose their holes) plus JS key order, recursively."""
    if type(value) is _Arr:
        return [_finalize(value.items[i]) for i in value.present()]
    if type(value) is dict:
        for key, item in value.items():
            if type(item) is dict or type(item) is _Arr:
                value[key] = _finalize(item)
        return _js_order(value)
    return value


def _js_order(obj: dict[str, Any]) -> dict[str, Any]:
    """Reorder like JS ``Object.keys``: array-index keys ascending first, then insertion order."""
    indices = [
        key
        for key in obj
        if key[:1].isdigit() and _is_index(key) and int(key) <= _MAX_ARRAY_INDEX
    ]
    if not indices:
        return obj
    ordered = {key: obj[key] for key in sorted(indices, key=int)}
    ordered.update(obj)
    return ordered

"""Query strings as the Feathers REST client writes them: ``qs.stringify(query)`` with qs's defaults.

``@feathersjs/rest-client`` sends ``params.query`` through ``qs.stringify`` with no options
(``feathers-wire.md`` 1.4); the server parses the result with ``qs.parse``
(``cryptorobot.transports.querystring``). This is that encoder (qs 6.17.1's ``lib/stringify.js``
and ``utils.encode`` with the default options), so a Python client sends byte for byte what
the JS client sends for the same query; ``tests/interop/test_client_querystring_qs.py``
compares it with qs itself.

    stringify_query({"$limit": 2, "name": {"$in": ["a", "b"]}, "$sort": {"createdAt": -1}})
    == "%24limit=2&name%5B%24in%5D%5B0%5D=a&name%5B%24in%5D%5B1%5D=b&%24sort%5BcreatedAt%5D=-1"

Rules: nested dicts become bracketed keys (``a[b]=c``), lists explicit indices (``a[0]=x``);
keys and values are percent-encoded as RFC 3986 says (only ``A-Z a-z 0-9 - . _ ~`` stay
literal, brackets included); ``None`` is ``key=``; empty lists and dicts send nothing;
booleans are ``true``/``false``; numbers are written as JavaScript writes them (``1.0`` ->
``1``, ``1e-7``, ``1e+21``); datetimes as ``Date.toJSON()`` (UTC, milliseconds, ``Z``), dates
as ``YYYY-MM-DD``. Keys follow JavaScript's object order (integer-like keys first, ascending),
as ``Object.keys`` gives them to qs. Every value arrives at the server as a string; query
schemas there coerce them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from .. import jsonutil

__all__ = ["stringify_query"]

_UNRESERVED = "-._~"  # with letters and digits: what RFC 3986 leaves unescaped (qs's default format)
_MAX_ARRAY_INDEX = 2**32 - 2


def stringify_query(query: Mapping[str, Any] | None) -> str:
    """``query`` encoded as ``qs.stringify(query)`` encodes it ("" for an empty or no query).

    TypeError for a value JSON could not carry either (bytes, arbitrary objects).
    """
    if not query:
        return ""
    return "&".join(_pairs(query, None))


def _pairs(value: Any, prefix: str | None) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key in _js_keys(value):
            yield from _pairs(value[key], str(key) if prefix is None else f"{prefix}[{key}]")
    elif isinstance(value, (list, tuple, set, frozenset)):
        for index, item in enumerate(value):
            yield from _pairs(item, f"{prefix}[{index}]")
    else:
        assert prefix is not None
        yield f"{_encode(prefix)}={_encode(_leaf(value))}"


def _leaf(value: Any) -> str:
    """``String(value)`` as JS gives it, for the value JSON would carry."""
    if value is None:
        return ""  # qs without strictNullHandling: `key=`
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return js_number(value)
    if isinstance(value, (datetime, date, Decimal)):
        converted = jsonutil.loads(jsonutil.dumps(value))  # the wire form of both transports
        return converted if isinstance(converted, str) else _leaf(converted)
    raise TypeError(f"a query value of type {type(value).__name__} can not be sent")


def _encode(text: str) -> str:
    # quote() percent-encodes UTF-8 bytes with upper-case hex, as qs's utils.encode does.
    return quote(text, safe=_UNRESERVED, errors="surrogatepass")


def _js_keys(mapping: Mapping[Any, Any]) -> list[Any]:
    """Keys in JavaScript's ``Object.keys`` order: array-index keys ascending, then the rest
    in insertion order."""
    indices = [key for key in mapping if _is_array_index(str(key))]
    if not indices:
        return list(mapping)
    indices.sort(key=lambda key: int(str(key)))
    chosen = set(indices)
    return [*indices, *(key for key in mapping if key not in chosen)]


def _is_array_index(key: str) -> bool:
    return (key.isascii() and key.isdigit() and len(key) <= 10 and (key[0] != "0" or len(key) == 1)
            and int(key) <= _MAX_ARRAY_INDEX)


def js_number(number: float) -> str:
    """``String(number)`` in JavaScript (ECMA-262 ``Number::toString``): the shortest digits
    that round-trip (the same digits Python's ``repr`` picks), placed the way JS places them."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    sign, digit_tuple, exponent = Decimal(repr(number)).normalize().as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    k = len(digits)
    n = exponent + k  # the decimal point sits after n digits
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        text = f"0.{'0' * -n}{digits}"
    else:
        mantissa = digits if k == 1 else f"{digits[0]}.{digits[1:]}"
        text = f"{mantissa}e{'+' if n - 1 >= 0 else '-'}{abs(n - 1)}"
    return f"-{text}" if sign else text

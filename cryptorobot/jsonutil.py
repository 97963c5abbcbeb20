"""The JSON codec of both transports, producing what ``JSON.stringify`` would in a JS server.

Rules (``feathers-wire.md`` 1.10): datetimes serialise like ``Date.toJSON()``, NaN and
Infinity become ``null`` (Python would emit invalid bare ``NaN``), integers stay integers.
Non-ASCII text goes out as UTF-8, as JS sends it; text holding a lone surrogate (which JSON
input may carry) is escaped as ``\\uXXXX`` instead, so it can never break UTF-8 encoding.
Parsing rejects the ``NaN``/``Infinity`` literals that ``json.loads`` accepts but no JS client
can send.

orjson does the work (a compiled codec, several times faster than ``json`` on the records
and events every request and socket carries); whatever it refuses (integers beyond 64 bits,
non-string keys, lone surrogates, nesting past its limit, text in UTF-16) goes through the
standard library's codec with the same rules, which also gives the errors their messages.

The module itself can be passed as python-socketio's ``json=`` argument: ``dumps`` and
``loads`` accept and ignore the keyword arguments python-socketio/engineio pass (output is
always compact).
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NoReturn

import orjson

__all__ = ["dumps", "loads"]


def _default(value: Any) -> Any:
    """Convert the non-JSON types the framework lets through; refuse the rest."""
    if isinstance(value, datetime):
        if value.utcoffset() is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        # isoformat truncates to milliseconds, as a JS Date built from the same instant would.
        return value.isoformat(timespec="milliseconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(
            "bytes are not JSON serializable: the Feathers clients expect JSON values only"
        )
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=_default)


_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME  # datetimes as JS Dates (`_default`), not ISO with microseconds


def dumps(value: Any, **_kwargs: Any) -> str:
    """Serialise ``value`` to compact JSON as a JS server would send it.

    orjson first (NaN and Infinity come out as ``null``); what it refuses goes through
    ``json``'s encoder with ``allow_nan=False``, and only data that holds NaN or Infinity
    pays for a second, sanitising walk there.
    """
    try:
        return orjson.dumps(value, default=_default, option=_ORJSON_OPTIONS).decode()
    except TypeError:
        pass
    try:
        return _ENCODER.encode(value)
    except ValueError as error:
        try:
            finite = _finite(value)
        except RecursionError:
            raise error from None  # circular (or absurdly deep) data: keep json's error
        return _ENCODER.encode(finite)


def _finite(value: Any) -> Any:
    """Copy ``value`` with non-finite floats as ``None`` (and as their JS names in keys)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {_finite_key(key): _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_finite(item) for item in value]
    return value


def _finite_key(key: Any) -> Any:
    """JS turns a NaN/Infinity property name into the string ``String(key)`` gives."""
    if isinstance(key, float) and not math.isfinite(key):
        return "NaN" if math.isnan(key) else ("Infinity" if key > 0 else "-Infinity")
    return key


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


_LONG_NUMBER = re.compile(r"\d{20}")
"""20 digits in a row: maybe an integer orjson can not hold (it holds every one up to 19)."""
_LONG_NUMBER_BYTES = re.compile(rb"\d{20}")


def loads(text: str | bytes | bytearray, **_kwargs: Any) -> Any:
    """Parse JSON text; ``NaN``, ``Infinity``, ``-Infinity`` and nesting too deep for the
    parser (a hostile `[[[[...]]]]` body) raise ValueError."""
    # orjson reads integers beyond 64 bits as floats: text that may hold one goes to `json`.
    if not (_LONG_NUMBER.search(text) if isinstance(text, str) else _LONG_NUMBER_BYTES.search(text)):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # invalid, or valid but beyond orjson: the standard library decides, and explains
    if isinstance(text, (bytes, bytearray)):
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None

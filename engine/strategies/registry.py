"""The catalogue of strategy types: one module per type, one `@register` each.

Every module of `engine.strategies.types` is imported when `engine.strategies` is, and
each registers its class with `@register`; so a new type is one module in that package
and nothing else (a worker process that imports `engine.strategies` knows every type).
Users choose types and settings; they never upload code.

`strategy_type(name)` finds a class, `create_strategy(name, settings)` makes an instance
with validated settings, `validate_settings(name, settings)` gives the complete settings,
`catalogue()` lists every type in HaasOnline's script shape (`strategies/types`). An
unknown type is `InvalidSettings` with `errors={"type": ...}`.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from ..errors import InvalidSettings
from .base import Strategy

__all__ = ["catalogue", "create_strategy", "load_types", "register", "strategy_type", "strategy_types",
           "unregister", "validate_settings"]

S = TypeVar("S", bound=type[Strategy])

_TYPES: dict[str, type[Strategy]] = {}
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")


def register(cls: S) -> S:
    """Class decorator: list a `Strategy` subclass under its `type` (lowercase letters, digits,
    `_`). ValueError for a bad or taken name, or a class without `name`."""
    name = cls.type
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"strategy type name {name!r}: lowercase letters, digits and _ , starting with a letter")
    if not cls.name:
        raise ValueError(f"strategy type {name!r} needs a display name")
    taken = _TYPES.get(name)
    if taken is not None and taken is not cls:
        raise ValueError(f"strategy type {name!r} is already registered by {taken.__module__}.{taken.__qualname__}")
    _TYPES[name] = cls
    return cls


def unregister(name: str) -> None:
    """Remove a type from the catalogue (tests that register their own)."""
    _TYPES.pop(name, None)


def strategy_type(name: str) -> type[Strategy]:
    """The class registered as `name`; `InvalidSettings` (`errors["type"]`) if none is."""
    cls = _TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise InvalidSettings({"type": f"unknown strategy type {name!r} (known: {', '.join(sorted(_TYPES))})"})
    return cls


def strategy_types() -> list[type[Strategy]]:
    """Every registered class, by name."""
    return [_TYPES[name] for name in sorted(_TYPES)]


def create_strategy(name: str, settings: Mapping[str, Any] | None = None) -> Strategy:
    """A new strategy of type `name` with `settings` (defaults filled in); `InvalidSettings`."""
    return strategy_type(name)(settings)


def validate_settings(name: str, settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The complete settings of type `name` for `settings`; `InvalidSettings` per field."""
    return strategy_type(name).schema.validate(settings)


def catalogue() -> list[dict[str, Any]]:
    """Every type as `{type, name, description, settings: [...]}` (HaasOnline's scripts)."""
    return [cls.to_wire() for cls in strategy_types()]


def load_types(package: str = "engine.strategies.types") -> None:
    """Import every module of `package` (each registers its types)."""
    root = importlib.import_module(package)
    for module in pkgutil.iter_modules(root.__path__):
        importlib.import_module(f"{package}.{module.name}")

"""Settings schemas of strategy types, in the shape HaasOnline's script catalogue uses.

Each strategy type declares its settings as `Setting`s. On the wire (`Setting.to_wire()`)
a setting is HaasOnline's script setting (`GET /scripts/script`)::

    {"key": "lookback", "group": "Signal", "name": "Lookback", "description": "...",
     "type": "number", "value": 14, "canBeEdited": true, "options": [],
     "min": 1, "max": null, "step": 1}

`key` (camelCase), `group` (a heading), `name`, `description`, `type` (`number`, `string`,
`boolean`, `option`), `value` (the default: every setting has one, so a strategy created
with no settings runs), `canBeEdited` (may change while its trader runs), `options` (the
choices of an `option`). `min`, `max` (inclusive bounds of a number, or null) and `step`
(1 for whole numbers, else null) are ours: what validation checks and what an optimiser
may search.

`SettingsSchema.validate(given)` fills in defaults and answers the complete settings, or
raises `engine.errors.InvalidSettings` with one message per refused field (unknown keys
too). `check_edit(old, new)` refuses changes to settings that can not be edited while
running.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import InvalidSettings

__all__ = ["Setting", "SettingsSchema"]

SettingType = Literal["number", "string", "boolean", "option"]
TYPES = ("number", "string", "boolean", "option")


@dataclass(frozen=True)
class Setting:
    """One setting of a strategy type (see the module docstring for the fields)."""

    key: str
    name: str
    type: SettingType
    value: Any
    description: str = ""
    group: str = ""
    can_be_edited: bool = True
    options: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    integer: bool = False

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"setting {self.key!r}: type must be one of {TYPES}, not {self.type!r}")
        if (self.type == "option") != bool(self.options):
            raise ValueError(f"setting {self.key!r}: options go with type 'option', and only with it")
        problem = self.problem(self.value)
        if problem is not None:
            raise ValueError(f"setting {self.key!r}: its default {self.value!r} is refused: {problem}")

    @classmethod
    def number(cls, key: str, name: str, value: float, *, integer: bool = False, min: float | None = None,
               max: float | None = None, **rest: Any) -> Setting:
        return cls(key, name, "number", value, integer=integer, min=min, max=max, **rest)

    @classmethod
    def option(cls, key: str, name: str, value: str, options: Iterable[str], **rest: Any) -> Setting:
        return cls(key, name, "option", value, options=tuple(options), **rest)

    def problem(self, value: Any) -> str | None:
        """Why `value` is refused for this setting, or None."""
        if self.type == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                return "must be a number"
            if not math.isfinite(value):
                return "must be a finite number"
            if self.integer and value != int(value):
                return "must be a whole number"
            if self.min is not None and value < self.min:
                return f"must be at least {_show(self.min)}"
            if self.max is not None and value > self.max:
                return f"must be at most {_show(self.max)}"
            return None
        if self.type == "boolean":
            return None if isinstance(value, bool) else "must be true or false"
        if self.type == "string":
            return None if isinstance(value, str) else "must be a string"
        return None if value in self.options else f"must be one of {', '.join(self.options)}"

    def coerce(self, value: Any) -> Any:
        """An accepted value in its stored form (whole numbers as int)."""
        if self.type == "number" and self.integer:
            return int(value)
        if self.type == "number":
            return float(value)
        return value

    def to_wire(self) -> dict[str, Any]:
        """HaasOnline's script setting, plus `min`, `max`, `step`."""
        return {"key": self.key, "group": self.group, "name": self.name, "description": self.description,
                "type": self.type, "value": self.value, "canBeEdited": self.can_be_edited,
                "options": list(self.options), "min": self.min, "max": self.max,
                "step": 1 if self.integer else None}


def _show(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


Check = Callable[[dict[str, Any]], Mapping[str, str]]
"""A type's check across settings: complete settings -> {key: why refused} (empty when fine)."""


@dataclass(frozen=True)
class SettingsSchema:
    """The settings of one strategy type, in order; `check` relates settings to each other
    (e.g. the fast period below the slow one)."""

    settings: tuple[Setting, ...]
    check: Check | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        keys = [setting.key for setting in self.settings]
        if len(set(keys)) != len(keys):
            raise ValueError(f"duplicate setting keys in {keys}")
        errors = self.check(self.defaults()) if self.check else {}
        if errors:
            raise ValueError(f"the defaults fail their own check: {dict(errors)}")

    def __iter__(self) -> Any:
        return iter(self.settings)

    def defaults(self) -> dict[str, Any]:
        """Every setting at its default value."""
        return {setting.key: setting.coerce(setting.value) for setting in self.settings}

    def validate(self, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The complete settings: `given` over the defaults. Raises `InvalidSettings` with a
        message per refused key (unknown keys, wrong types, out of bounds, the type's check)."""
        if given is not None and not isinstance(given, Mapping):
            raise InvalidSettings({"settings": "must be an object of setting keys and values"})
        given = given or {}
        by_key = {setting.key: setting for setting in self.settings}
        errors: dict[str, str] = {}
        values = self.defaults()
        for key, value in given.items():
            setting = by_key.get(key)
            if setting is None:
                errors[str(key)] = f"unknown setting (known: {', '.join(by_key) or 'none'})"
                continue
            problem = setting.problem(value)
            if problem is None:
                values[key] = setting.coerce(value)
            else:
                errors[key] = problem
        if not errors and self.check:
            errors.update(self.check(values))
        if errors:
            raise InvalidSettings(errors)
        return values

    def check_edit(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        """Refuse (`InvalidSettings`) changes, from `old` to `new` complete settings, of settings
        that can not be edited while running."""
        errors = {setting.key: "can not be changed while running" for setting in self.settings
                  if not setting.can_be_edited and old.get(setting.key) != new.get(setting.key)}
        if errors:
            raise InvalidSettings(errors)

    def to_wire(self) -> list[dict[str, Any]]:
        return [setting.to_wire() for setting in self.settings]

"""An optimisation's search space: ranges over a strategy type's number settings, checked
against its settings schema, as Optuna distributions.

    ranges = {"fastPeriod": {"low": 5, "high": 20}, "slowPeriod": {"low": 20, "high": 80, "step": 5}}
    space = search_space("sma_cross", ranges)   # {"fastPeriod": IntDistribution(5, 20), ...}

A range is `{low, high, step?}`, bounds included, inside the setting's own `min`/`max`;
an integer setting (`step` 1 in the catalogue) takes whole bounds and steps. Anything else
raises `InvalidSettings` with one message per `ranges.<key>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.errors import InvalidSettings
from engine.strategies import Setting, strategy_type

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

__all__ = ["MAX_RANGES", "search_space"]

MAX_RANGES = 20


def search_space(type_name: str, ranges: Mapping[str, Mapping[str, Any]]) -> dict[str, BaseDistribution]:
    """Optuna distributions for `ranges` of type `type_name` (see the module docstring)."""
    settings = {setting.key: setting for setting in strategy_type(type_name).schema}
    errors: dict[str, str] = {}
    space: dict[str, BaseDistribution] = {}
    if not ranges:
        errors["ranges"] = "give at least one setting to search"
    elif len(ranges) > MAX_RANGES:
        errors["ranges"] = f"at most {MAX_RANGES} settings"
    for key, bounds in ranges.items():
        setting = settings.get(key)
        if setting is None:
            errors[f"ranges.{key}"] = f"{type_name} has no setting {key!r} (it has {', '.join(settings)})"
            continue
        problem, distribution = _distribution(setting, float(bounds["low"]), float(bounds["high"]), bounds.get("step"))
        if problem is not None:
            errors[f"ranges.{key}"] = problem
        else:
            space[key] = distribution
    if errors:
        raise InvalidSettings(errors)
    return space


def _distribution(setting: Setting, low: float, high: float,
                  step: float | None) -> tuple[str | None, Any]:
    from optuna.distributions import FloatDistribution, IntDistribution  # here: only searches need optuna

    if setting.type != "number":
        return f"{setting.type} settings can not be searched, only numbers", None
    if low > high:
        return "low must not be above high", None
    if setting.min is not None and low < setting.min:
        return f"low must be at least {setting.min:g}, the setting's minimum", None
    if setting.max is not None and high > setting.max:
        return f"high must be at most {setting.max:g}, the setting's maximum", None
    if step is not None and not 0 < step <= high - low:
        return "step must be more than 0 and at most high - low", None
    if setting.integer:
        if not (low.is_integer() and high.is_integer() and (step is None or float(step).is_integer())):
            return "a whole-number setting takes whole low, high and step", None
        return None, IntDistribution(int(low), int(high), step=int(step or 1))
    return None, FloatDistribution(low, high, step=step)

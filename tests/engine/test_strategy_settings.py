"""Strategy types: the catalogue in HaasOnline's script shape, defaults, per-field validation, the registry."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.errors import InvalidSettings
from engine.strategies import (
    Setting,
    SettingsSchema,
    Strategy,
    catalogue,
    create_strategy,
    register,
    strategy_type,
    strategy_types,
    unregister,
    validate_settings,
)
from services.errors import CODES

SETTING_KEYS = {"key", "group", "name", "description", "type", "value", "canBeEdited", "options", "min", "max", "step"}


def test_the_catalogue_lists_the_shipped_types_in_haasonline_s_script_shape() -> None:
    types = {entry["type"]: entry for entry in json.loads(json.dumps(catalogue()))}
    assert {"momentum", "sma_cross", "rsi"} <= set(types)
    for entry in types.values():
        assert set(entry) == {"type", "name", "description", "settings"} and entry["name"] and entry["description"]
        for setting in entry["settings"]:
            assert set(setting) == SETTING_KEYS
            assert setting["type"] in ("number", "string", "boolean", "option")
            assert (setting["type"] == "option") == bool(setting["options"])
    momentum = {setting["key"]: setting for setting in types["momentum"]["settings"]}
    assert momentum["lookback"] == {
        "key": "lookback", "group": "Signal", "name": "Lookback", "type": "number", "value": 12,
        "canBeEdited": False, "options": [], "min": 1, "max": 10_000, "step": 1,
        "description": "Candles the rate of change is measured over."}
    assert momentum["sizing"]["options"] == ["All-in", "Base amount", "Quote amount"]


@pytest.mark.parametrize("name", ["momentum", "sma_cross", "rsi"])
def test_every_type_runs_with_no_settings_at_all(name: str) -> None:
    strategy = create_strategy(name)
    assert strategy.settings == strategy_type(name).schema.defaults() == validate_settings(name, {})
    assert strategy.window() >= 1


def test_the_product_docs_momentum_example_needs_no_settings() -> None:
    assert validate_settings("momentum", None) == {"lookback": 12, "threshold": 1.0, "sizing": "All-in",
                                                   "orderSize": 1.0}


def test_given_settings_override_the_defaults_and_whole_numbers_stay_whole() -> None:
    values = validate_settings("sma_cross", {"fastPeriod": 5.0, "slowPeriod": 50})
    assert values["fastPeriod"] == 5 and type(values["fastPeriod"]) is int and values["slowPeriod"] == 50


@pytest.mark.parametrize(("name", "given", "errors"), [
    ("momentum", {"lookback": 0}, {"lookback": "must be at least 1"}),
    ("momentum", {"lookback": 2.5}, {"lookback": "must be a whole number"}),
    ("momentum", {"lookback": "12"}, {"lookback": "must be a number"}),
    ("momentum", {"lookback": True}, {"lookback": "must be a number"}),
    ("momentum", {"threshold": float("nan")}, {"threshold": "must be a finite number"}),
    ("momentum", {"sizing": "Half"}, {"sizing": "must be one of All-in, Base amount, Quote amount"}),
    ("momentum", {"sizing": "Base amount", "orderSize": 0}, {"orderSize": "must be more than 0 with Base amount sizing"}),
    ("rsi", {"overbought": 101, "period": -1}, {"overbought": "must be at most 100", "period": "must be at least 1"}),
    ("rsi", {"oversold": 80}, {"oversold": "must be below the overbought level (70.0)"}),
    ("sma_cross", {"fastPeriod": 30}, {"fastPeriod": "must be less than the slow period (30)"}),
    ("sma_cross", {"fast": 3}, {"fast": "unknown setting (known: fastPeriod, slowPeriod, sizing, orderSize)"}),
])
def test_refused_settings_are_named_field_by_field(name: str, given: dict[str, Any], errors: dict[str, str]) -> None:
    with pytest.raises(InvalidSettings) as caught:
        create_strategy(name, given)
    assert caught.value.code == "INVALID_SETTINGS" and caught.value.errors == errors
    assert caught.value.details == {"errors": errors}
    assert CODES["INVALID_SETTINGS"][0].__name__ == "BadRequest"  # a service answers 400 with them


def test_settings_that_are_not_an_object_are_refused() -> None:
    with pytest.raises(InvalidSettings) as caught:
        validate_settings("rsi", [1, 2])  # type: ignore[arg-type]
    assert caught.value.errors == {"settings": "must be an object of setting keys and values"}


def test_an_unknown_type_is_a_field_error_on_type() -> None:
    with pytest.raises(InvalidSettings) as caught:
        create_strategy("martingale")
    assert list(caught.value.errors) == ["type"] and "momentum" in caught.value.errors["type"]


def test_settings_that_can_not_be_edited_while_running_are_refused() -> None:
    schema = strategy_type("rsi").schema
    old = schema.validate({})
    schema.check_edit(old, {**old, "oversold": 25.0})  # canBeEdited: fine
    with pytest.raises(InvalidSettings) as caught:
        schema.check_edit(old, {**old, "period": 21})
    assert caught.value.errors == {"period": "can not be changed while running"}


def test_a_schema_refuses_defaults_it_would_refuse_from_users() -> None:
    with pytest.raises(ValueError, match="default"):
        Setting.number("period", "Period", 0, integer=True, min=1)
    with pytest.raises(ValueError, match="options"):
        Setting("mode", "Mode", "string", "a", options=("a", "b"))
    with pytest.raises(ValueError, match="duplicate"):
        SettingsSchema((Setting.number("a", "A", 1), Setting.number("a", "A", 2)))
    with pytest.raises(ValueError, match="their own check"):
        SettingsSchema((Setting.number("a", "A", 1),), lambda values: {"a": "never"})


def test_string_and_boolean_settings_validate_their_types() -> None:
    schema = SettingsSchema((Setting("note", "Note", "string", ""), Setting("live", "Live", "boolean", False)))
    assert schema.validate({"note": "x", "live": True}) == {"note": "x", "live": True}
    with pytest.raises(InvalidSettings) as caught:
        schema.validate({"note": 3, "live": "yes"})
    assert caught.value.errors == {"note": "must be a string", "live": "must be true or false"}


def test_registering_a_type_takes_one_decorator_and_names_are_unique() -> None:
    class Probe(Strategy):
        type = "probe_type"
        name = "Probe"

    try:
        assert register(Probe) is Probe and strategy_type("probe_type") is Probe
        assert Probe in strategy_types()
        assert register(Probe) is Probe  # the same class again: no change

        class Other(Strategy):
            type = "probe_type"
            name = "Other"

        with pytest.raises(ValueError, match="already registered"):
            register(Other)
    finally:
        unregister("probe_type")
    with pytest.raises(InvalidSettings):
        strategy_type("probe_type")

    class BadName(Strategy):
        type = "Bad Name"
        name = "Bad"

    with pytest.raises(ValueError, match="lowercase"):
        register(BadName)

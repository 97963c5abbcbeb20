"""Differential: the hook runner against @feathersjs/feathers 5.0.50 itself.

Each scenario (format in `hook_scenarios.py`) runs through Feathers in Node
(`hook_scenarios.mjs`, one process for the module) and through cryptorobot; the traces (which
hook ran, in which order, seeing which `type`, `error`, `result` and `original`) and the
outcomes (result or error) must be equal. The named table covers the error path rule by rule;
the generated batch mixes every kind of hook at both levels. Service events are part of the
trace: a recovered create still emits `created`, with the result the error hook set.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.interop.hook_scenarios import random_scenario, run_in_cryptorobot
from tests.interop.node_checks import needs_node
from tests.interop.node_lines import NodeLines, node_lines

pytestmark = needs_node("@feathersjs/feathers")

SCRIPT = Path(__file__).resolve().parent / "hook_scenarios.mjs"


def r(name: str, *actions: str) -> dict[str, Any]:
    """A regular hook spec."""
    return {"name": name, "do": list(actions)}


def a(name: str, **options: Any) -> dict[str, Any]:
    """An around hook spec (`in`, `catch`, `out`, `next`)."""
    return {"name": name, **options}


def every_level(kind: str, method: str, *actions: str) -> tuple[list[Any], list[Any]]:
    """(app, service) registrations with one recording hook of `kind` for `all` and `method`."""
    def level(prefix: str) -> list[Any]:
        return [{kind: {"all": [r(f"{prefix}.{kind}.all", *actions)], method: [r(f"{prefix}.{kind}.{method}")]}}]
    return level("app"), level("svc")


APP_ERRORS, SVC_ERRORS = every_level("error", "get")

SCENARIOS: dict[str, dict[str, Any]] = {
    # The issue: a throwing error hook ends its chain; its error is what the caller gets.
    "issue-replace-then-fallback": {
        "method": "get", "fail": "NotFound",
        "service": [{"error": {"get": [r("replace_error", "throw:Conflict"), r("fallback", "set_result")]}}]},
    "fallback-then-replace": {
        "method": "get", "fail": "NotFound",
        "service": [{"error": {"get": [r("fallback", "set_result"), r("replace_error", "throw:Conflict")]}}]},
    "throwing-error-hook-outer-levels-still-run": {
        "method": "get", "fail": "NotFound", "app": APP_ERRORS,
        "service": [{"error": {"get": [r("replace_error", "throw:Conflict"), r("skipped")],
                               "all": [r("svc.error.all")]}}]},
    "throwing-error-hook-then-outer-recovers": {
        "method": "get", "fail": "NotFound",
        "app": [{"error": {"get": [r("app.fallback", "set_result")]}}],
        "service": [{"error": {"get": [r("replace_error", "throw:Conflict")]}}]},
    # Order of error hooks: method before all, service before app.
    "error-order-all-levels": {"method": "get", "fail": "NotFound", "app": APP_ERRORS, "service": SVC_ERRORS},
    "error-order-registered-in-several-calls": {
        "method": "create", "fail": "BadRequest",
        "app": [{"error": {"all": [r("app.all1")]}}, {"error": {"create": [r("app.create1")]}},
                {"error": {"all": [r("app.all2")], "create": [r("app.create2")]}}],
        "service": [{"error": {"create": [r("svc.create1")]}}, {"error": {"all": [r("svc.all1")]}},
                    {"error": {"create": [r("svc.create2")], "all": [r("svc.all2")]}}]},
    # A result set by an error hook: what it skips and what still runs.
    "method-error-hook-result-skips-all-level": {
        "method": "get", "fail": "NotFound", "app": APP_ERRORS,
        "service": [{"error": {"get": [r("svc.fallback", "set_result"), r("svc.after_fallback")],
                               "all": [r("svc.error.all")]},
                     "after": {"get": [r("svc.after.get")], "all": [r("svc.after.all")]}}]},
    "all-level-error-hook-result-lets-app-after-run": {
        "method": "patch", "fail": "NotFound",
        "app": [{"after": {"all": [r("app.after.all")], "patch": [r("app.after.patch")]},
                 "error": {"all": [r("app.error.all")]}}],
        "service": [{"error": {"all": [r("svc.fallback", "set_result")], "patch": [r("svc.error.patch")]},
                     "after": {"all": [r("svc.after.all")]}}]},
    "recovered-create-emits-created": {
        "method": "create", "fail": "BadRequest",
        "service": [{"error": {"create": [r("svc.fallback", "set_result")]}}]},
    "result-null-recovers": {
        "method": "get", "fail": "NotFound",
        "service": [{"error": {"get": [r("null_result", "set_result_null")], "all": [r("svc.error.all")]}}]},
    "returned-result-recovers": {
        "method": "remove", "fail": "NotFound",
        "service": [{"error": {"remove": [r("returns", "return_result")], "all": [r("svc.error.all")]}}]},
    "recovered-then-app-after-throws": {
        "method": "get", "fail": "NotFound",
        "app": [{"after": {"get": [r("app.after.get", "throw:Forbidden")]}, "error": {"get": [r("app.error.get")]}}],
        "service": [{"error": {"get": [r("svc.fallback", "set_result")]}}]},
    # Replacing context.error: what the next hooks and levels see.
    "set-error-passes-on": {
        "method": "get", "fail": "NotFound", "app": APP_ERRORS,
        "service": [{"error": {"get": [r("svc.replace", "set_error:Conflict"), r("svc.sees")],
                               "all": [r("svc.error.all")]}}]},
    "returned-error-passes-on": {
        "method": "update", "fail": "NotFound", "app": APP_ERRORS,
        "service": [{"error": {"update": [r("svc.returns", "return_error:Forbidden")], "all": [r("svc.error.all")]}}]},
    "replaced-error-then-result": {
        "method": "get", "fail": "NotFound", "app": APP_ERRORS,
        "service": [{"error": {"get": [r("svc.replace", "set_error:Conflict", "set_result")]}}]},
    "cleared-error-without-result": {
        "method": "get", "fail": "NotFound", "app": APP_ERRORS,
        "service": [{"error": {"get": [r("svc.clear", "clear_error")]}}]},
    "app-level-replaces-service-error": {
        "method": "find", "fail": "NotFound",
        "app": [{"error": {"all": [r("app.replace", "set_error:GeneralError")]}}],
        "service": [{"error": {"all": [r("svc.error.all")]}}]},
    # Where the failure happens decides which error hooks see it.
    "before-all-throws-skips-method-error-hooks": {
        "method": "get", "app": APP_ERRORS,
        "service": [{"before": {"all": [r("svc.before.all", "throw:BadRequest")], "get": [r("not_reached")]},
                     "error": {"get": [r("svc.error.get")], "all": [r("svc.error.all")]}}]},
    "before-method-throws": {
        "method": "get", "app": APP_ERRORS,
        "service": [{"before": {"get": [r("svc.before.get", "throw:BadRequest")]},
                     "error": {"get": [r("svc.error.get")], "all": [r("svc.error.all")]}}]},
    "after-all-throws": {
        "method": "get", "app": APP_ERRORS,
        "service": [{"after": {"all": [r("svc.after.all", "throw:Conflict")], "get": [r("not_reached")]},
                     "error": {"get": [r("svc.error.get")], "all": [r("svc.error.all")]}}]},
    "after-method-throws": {
        "method": "get", "app": APP_ERRORS,
        "service": [{"after": {"get": [r("svc.after.get", "throw:Conflict")]},
                     "error": {"get": [r("svc.error.get")], "all": [r("svc.error.all")]}}]},
    "app-before-all-throws": {
        "method": "get", "app": [{"before": {"all": [r("app.before.all", "throw:Forbidden")]},
                                  "error": {"get": [r("app.error.get")], "all": [r("app.error.all")]}}],
        "service": SVC_ERRORS},
    "app-before-method-throws": {
        "method": "get", "app": [{"before": {"get": [r("app.before.get", "throw:Forbidden")]},
                                  "error": {"get": [r("app.error.get")], "all": [r("app.error.all")]}}],
        "service": SVC_ERRORS},
    "app-after-all-throws": {
        "method": "create", "app": [{"after": {"all": [r("app.after.all", "throw:Conflict")]},
                                     "error": {"create": [r("app.error.create")], "all": [r("app.error.all")]}}],
        "service": SVC_ERRORS},
    # Around hooks against regular hooks.
    "around-catches-after-regular-error-hooks": {
        "method": "get", "fail": "NotFound", "app": APP_ERRORS,
        "service": [{"around": {"all": [a("svc.around", catch=["set_result"])]},
                     "error": {"get": [r("svc.error.get")], "all": [r("svc.error.all")]}}]},
    "around-rethrows-a-new-error": {
        "method": "get", "fail": "NotFound", "app": APP_ERRORS,
        "service": [{"around": {"get": [a("svc.around", catch=["throw:Conflict"])]},
                     "error": {"get": [r("svc.error.get")]}}]},
    "around-throws-before-next": {
        "method": "get", "app": APP_ERRORS,
        "service": [{"around": {"all": [a("svc.around", **{"in": ["throw:Forbidden"]})]},
                     "before": {"all": [r("not_reached")]}, "error": {"all": [r("svc.error.all")]}}]},
    "app-around-outside-app-error-hooks": {
        "method": "get", "fail": "NotFound",
        "app": [{"around": {"all": [a("app.around", catch=["rethrow"], out=["throw:GeneralError"])]},
                 "error": {"all": [r("app.error.all", "set_result")]}}]},
    "app-around-catches-app-error-hook-failure": {
        "method": "get", "fail": "NotFound",
        "app": [{"around": {"get": [a("app.around", catch=["set_result"])]},
                 "error": {"get": [r("app.error.get", "throw:Conflict")]}}]},
    "around-without-next-sets-result": {
        "method": "find", "app": APP_ERRORS,
        "service": [{"around": {"find": [a("svc.around", next=False, **{"in": ["set_result"]})]},
                     "before": {"find": [r("not_reached")]}}]},
    "service-shorthand-around-catches": {
        "method": "get", "fail": "NotFound",
        "service": [[a("svc.shorthand", catch=["set_result"])],
                    {"around": {"all": [a("svc.around.all")]}, "error": {"all": [r("svc.error.all")]}}]},
    "type-after-failing-after-hook": {
        "method": "find",
        "service": [{"around": {"find": [a("around")]}, "before": {"find": [r("before")]},
                     "after": {"find": [r("after"), r("fail", "throw:BadRequest")]},
                     "error": {"find": [r("recover", "set_result")]}}]},
    "before-result-skips-method-not-after": {
        "method": "get", "fail": "NotFound",
        "service": [{"before": {"get": [r("cache", "set_result"), r("still_runs")]},
                     "after": {"get": [r("after")]}, "error": {"get": [r("not_reached")]}}]},
    "success-runs-no-error-hook": {"method": "get", "app": APP_ERRORS, "service": SVC_ERRORS},
}
for _method in ("find", "create", "update", "patch", "remove"):
    _app, _svc = every_level("error", _method)
    SCENARIOS[f"error-order-{_method}"] = {"method": _method, "fail": "BadRequest", "app": _app, "service": _svc}

GENERATED = 600


@pytest.fixture(scope="module")
def feathers() -> Iterator[NodeLines]:
    yield from node_lines(SCRIPT)


@pytest.fixture(scope="module")
def named_answers(feathers: NodeLines) -> dict[str, Any]:
    return dict(zip(SCENARIOS, feathers.ask_all(list(SCENARIOS.values())), strict=True))


def assert_same(scenario: dict[str, Any], reference: dict[str, Any], ours: dict[str, Any]) -> None:
    assert "crash" not in reference, reference["crash"]
    assert ours["trace"] == reference["trace"], scenario
    assert ours["outcome"] == reference["outcome"], scenario


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_error_path_as_in_feathers(name: str, named_answers: dict[str, Any]) -> None:
    assert_same(SCENARIOS[name], named_answers[name], await run_in_cryptorobot(SCENARIOS[name]))


async def test_the_issue_scenario_answers_409(named_answers: dict[str, Any]) -> None:
    outcome = named_answers["issue-replace-then-fallback"]["outcome"]
    assert outcome == {"error": "Conflict:replace_error", "code": 409}
    assert (await run_in_cryptorobot(SCENARIOS["issue-replace-then-fallback"]))["outcome"] == outcome


async def test_generated_scenarios_as_in_feathers(feathers: NodeLines) -> None:
    rng = random.Random(5)
    scenarios = [random_scenario(rng) for _ in range(GENERATED)]
    answers = feathers.ask_all(scenarios)
    for scenario, reference in zip(scenarios, answers, strict=True):
        assert_same(scenario, reference, await run_in_cryptorobot(scenario))
    # The batch reaches both outcomes, and error hooks that run.
    assert sum("error" in answer["outcome"] for answer in answers) > GENERATED // 5
    assert sum("result" in answer["outcome"] for answer in answers) > GENERATED // 5

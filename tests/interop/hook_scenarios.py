"""Hook scenarios, run through cryptorobot here and through Feathers by `hook_scenarios.mjs`.

A scenario is JSON:

    {"method": "get", "fail": "NotFound" | null,
     "app": [registration, ...], "service": [registration, ...]}

`fail` makes the service method throw that error class (message "method"). Each
registration is one `hooks()` call: a list of around specs (the shorthand), or
`{kind: {method: [spec, ...]}}` with kind `before`/`after`/`error`/`around`. A regular spec
is `{"name": n, "do": [action, ...]}`; an around spec is `{"name": n, "in": [...],
"catch": [...] | absent, "out": [...], "next": false | absent}`. Actions: `throw:<Error>`,
`set_error:<Error>`, `clear_error`, `set_result`, `set_result_null`, `return_result`,
`return_error:<Error>`, and `rethrow` (in `catch`). Every hook records
`[label, context.type, error, result, original error]` when it starts, service events are
recorded as `["event", name, data]`; the answer is
`{"trace": [...], "outcome": {"result": ...} | {"error": "Name:message", "code": n}}`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from cryptorobot import App, errors
from cryptorobot.hooks import NOT_SET, HookContext, Next

ARGUMENTS: dict[str, tuple[Any, ...]] = {
    "find": (),
    "get": (7,),
    "create": ({"x": 1},),
    "update": (7, {"x": 1}),
    "patch": (7, {"x": 1}),
    "remove": (7,),
}
ERRORS = ("NotFound", "Conflict", "BadRequest", "Forbidden", "GeneralError")


def _describe(error: BaseException | None) -> str | None:
    return None if error is None else f"{getattr(error, 'name', type(error).__name__)}:{getattr(error, 'message', error)}"


def _record(trace: list[Any], label: str, context: HookContext, caught: BaseException | None = None) -> None:
    original = "-" if context.original is None else _describe(context.original.error)
    entry = [label, context.type, _describe(context.error),
             None if context.result is NOT_SET else context.result, original]
    if caught is not None:
        entry.append(_describe(caught))
    trace.append(entry)


def _act(actions: list[str] | None, name: str, context: HookContext,
         caught: BaseException | None = None) -> dict[str, Any] | None:
    returned = None
    for action in actions or ():
        verb, _, error_name = action.partition(":")
        if verb == "throw":
            raise getattr(errors, error_name)(name)
        if verb == "rethrow":
            assert caught is not None
            raise caught
        if verb == "set_error":
            context.error = getattr(errors, error_name)(name)
        elif verb == "clear_error":
            context.error = None
        elif verb == "set_result":
            context.result = {"by": name}
        elif verb == "set_result_null":
            context.result = None
        elif verb == "return_result":
            returned = {"result": {"by": name}}
        elif verb == "return_error":
            returned = {"error": getattr(errors, error_name)(name)}
        else:
            raise ValueError(f"unknown action {action}")
    return returned


def _regular(trace: list[Any], spec: dict[str, Any]) -> Callable[[HookContext], Any]:
    async def hook(context: HookContext) -> dict[str, Any] | None:
        _record(trace, spec["name"], context)
        return _act(spec.get("do"), spec["name"], context)

    return hook


def _around(trace: list[Any], spec: dict[str, Any]) -> Callable[[HookContext, Next], Any]:
    name = spec["name"]

    async def hook(context: HookContext, next_step: Next) -> None:
        _record(trace, f"{name}:in", context)
        _act(spec.get("in"), name, context)
        if spec.get("next", True):
            if "catch" in spec:
                try:
                    await next_step()
                except Exception as caught:
                    _record(trace, f"{name}:catch", context, caught)
                    _act(spec["catch"], name, context, caught)
            else:
                await next_step()
        _record(trace, f"{name}:out", context)
        _act(spec.get("out"), name, context)

    return hook


def _hook_map(trace: list[Any], registration: Any) -> Any:
    if isinstance(registration, list):
        return [_around(trace, spec) for spec in registration]
    return {
        kind: {method: [(_around if kind == "around" else _regular)(trace, spec) for spec in specs]
               for method, specs in by_method.items()}
        for kind, by_method in registration.items()
    }


class _Things:
    def __init__(self, trace: list[Any], fail: str | None) -> None:
        self.trace = trace
        self.fail = fail

    def _run(self, name: str) -> dict[str, str]:
        self.trace.append(["method", name])
        if self.fail:
            raise getattr(errors, self.fail)("method")
        return {"method": name}

    async def find(self, params: Any) -> Any:
        return self._run("find")

    async def get(self, id: Any, params: Any) -> Any:
        return self._run("get")

    async def create(self, data: Any, params: Any) -> Any:
        return self._run("create")

    async def update(self, id: Any, data: Any, params: Any) -> Any:
        return self._run("update")

    async def patch(self, id: Any, data: Any, params: Any) -> Any:
        return self._run("patch")

    async def remove(self, id: Any, params: Any) -> Any:
        return self._run("remove")


def _event_recorder(trace: list[Any], event: str) -> Callable[[Any, Any], None]:
    def record(data: Any, context: Any = None) -> None:
        trace.append(["event", event, None if data is NOT_SET else data])

    return record


async def run_in_cryptorobot(scenario: dict[str, Any]) -> dict[str, Any]:
    """The scenario's trace and outcome in cryptorobot (the shape `hook_scenarios.mjs` answers)."""
    trace: list[Any] = []
    app = App()
    app.use("things", _Things(trace, scenario.get("fail")))
    for event in ("created", "updated", "patched", "removed"):
        app.service("things").on(event, _event_recorder(trace, event))
    for registration in scenario.get("app") or ():
        app.hooks(_hook_map(trace, registration))
    for registration in scenario.get("service") or ():
        app.service("things").hooks(_hook_map(trace, registration))
    method = getattr(app.service("things"), scenario["method"])
    outcome: dict[str, Any]
    try:
        result = await method(*ARGUMENTS[scenario["method"]])
        outcome = {"result": None if result is NOT_SET else result}
    except errors.FeathersError as error:
        outcome = {"error": _describe(error), "code": error.code}
    return {"trace": trace, "outcome": outcome}


# -- generated scenarios ------------------------------------------------------------------------

_REGULAR_ACTIONS = [[], [], [], ["throw:Conflict"], ["set_error:BadRequest"], ["set_result"],
                    ["return_result"], ["return_error:Forbidden"], ["set_result_null"],
                    ["clear_error"], ["set_error:GeneralError", "set_result"]]
_CATCH_ACTIONS = [["rethrow"], ["set_result"], ["throw:Conflict"], [], ["set_error:Forbidden", "rethrow"]]


def random_scenario(rng: random.Random) -> dict[str, Any]:
    """A scenario mixing every kind of hook at both levels, with actions that throw, replace
    the error, set results or do nothing, in random places."""
    method = rng.choice(list(ARGUMENTS))
    counter = iter(range(1000))

    def regular(level: str) -> dict[str, Any]:
        return {"name": f"{level}{next(counter)}", "do": rng.choice(_REGULAR_ACTIONS)}

    def around(level: str) -> dict[str, Any]:
        spec: dict[str, Any] = {"name": f"{level}{next(counter)}"}
        if rng.random() < 0.5:
            spec["catch"] = rng.choice(_CATCH_ACTIONS)
        if rng.random() < 0.15:
            spec["in"] = rng.choice([["throw:Conflict"], ["set_result"]])
        if rng.random() < 0.1:
            spec["next"] = False
        if rng.random() < 0.1:
            spec["out"] = ["throw:GeneralError"]
        return spec

    def registrations(level: str) -> list[Any]:
        found: list[Any] = []
        for _ in range(rng.randint(0, 3)):
            if level == "s" and rng.random() < 0.1:
                found.append([around(level)])
                continue
            registration: dict[str, Any] = {}
            for kind in rng.sample(["before", "after", "error", "around"], rng.randint(1, 4)):
                make = around if kind == "around" else regular
                registration[kind] = {
                    target: [make(level) for _ in range(rng.randint(1, 3))]
                    for target in rng.sample(["all", method, "find"], rng.randint(1, 2))
                }
            found.append(registration)
        return found

    return {"method": method, "fail": rng.choice([None, None, "NotFound", "BadRequest"]),
            "app": registrations("a"), "service": registrations("s")}

"""Hooks at the Python level: execution order (feathers-wire 6.2), flow control (6.4),
context fields (6.3) and registration formats (6.1)."""

from __future__ import annotations

from typing import Any

import pytest

from cryptorobot import App
from cryptorobot.errors import BadRequest, Conflict, GeneralError, NotFound
from cryptorobot.hooks import NOT_SET


class Things:
    """A service that records its calls and fails on demand (`data["fail"]`)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, Any]] = []

    async def find(self, params: dict) -> list:
        self.calls.append(("find", None, params))
        return [{"id": 1}]

    async def get(self, id: Any, params: dict) -> dict:
        self.calls.append(("get", id, params))
        if id == "missing":
            raise NotFound(f"No record found for id '{id}'")
        return {"id": id}

    async def create(self, data: dict, params: dict) -> dict:
        self.calls.append(("create", data, params))
        if data.get("fail"):
            raise BadRequest("create failed")
        return {"id": 1, **data}

    def patch(self, id: Any, data: dict, params: dict) -> dict:  # a sync method works too
        self.calls.append(("patch", (id, data), params))
        return {"id": id, **data}

    async def shout(self, data: dict, params: dict) -> dict:
        self.calls.append(("shout", data, params))
        return {"shouted": data["text"].upper()}


def make_app() -> tuple[App, Things]:
    app = App()
    things = Things()
    app.use("things", things, {"methods": ["find", "get", "create", "patch", "shout"]})
    return app, things


def around(log: list[str], name: str):
    async def hook(context, next_step):
        log.append(f"{name}:in")
        await next_step()
        log.append(f"{name}:out")

    hook.__name__ = name
    return hook


def plain(log: list[str], name: str):
    def hook(context):
        log.append(name)

    hook.__name__ = name
    return hook


async def test_execution_order_across_app_and_service_levels() -> None:
    app, things = make_app()
    log: list[str] = []
    app.hooks({
        "around": {"all": [around(log, "app.around.all")], "create": [around(log, "app.around.create")]},
        "before": {"all": [plain(log, "app.before.all")], "create": [plain(log, "app.before.create")]},
        "after": {"all": [plain(log, "app.after.all")], "create": [plain(log, "app.after.create")]},
    })
    service = app.service("things")
    # Registered first on purpose: Feathers runs them before the service's `around` lists anyway.
    service.hooks({
        "around": {"all": [around(log, "svc.around.all")], "create": [around(log, "svc.around.create")]},
        "before": {"all": [plain(log, "svc.before.all1"), plain(log, "svc.before.all2")],
                   "create": [plain(log, "svc.before.create")]},
        "after": {"create": [plain(log, "svc.after.create")], "all": [plain(log, "svc.after.all")]},
    })
    service.hooks([around(log, "svc.short.list")])
    service.hooks({"create": [around(log, "svc.short.create")]})

    original = Things.create

    async def create(self, data, params):
        log.append("method")
        return await original(self, data, params)

    things.create = create.__get__(things)
    assert await service.create({"text": "hi"}) == {"id": 1, "text": "hi"}
    assert log == [
        "app.around.all:in", "app.around.create:in",
        "app.before.all", "app.before.create",
        "svc.short.list:in", "svc.short.create:in",
        "svc.around.all:in", "svc.around.create:in",
        "svc.before.all1", "svc.before.all2", "svc.before.create",
        "method",
        "svc.after.all", "svc.after.create",
        "svc.around.create:out", "svc.around.all:out",
        "svc.short.create:out", "svc.short.list:out",
        "app.after.all", "app.after.create",
        "app.around.create:out", "app.around.all:out",
    ]


async def test_method_specific_hooks_do_not_run_for_other_methods() -> None:
    app, _ = make_app()
    log: list[str] = []
    app.hooks({"before": {"create": [plain(log, "app.before.create")], "all": [plain(log, "app.before.all")]}})
    app.service("things").hooks({"before": {"get": plain(log, "svc.before.get")}})
    await app.service("things").find()
    assert log == ["app.before.all"]
    await app.service("things").get(3)
    assert log == ["app.before.all", "app.before.all", "svc.before.get"]


async def test_error_hooks_order_service_before_app_method_before_all() -> None:
    app, _ = make_app()
    log: list[str] = []
    app.hooks({"error": {"all": [plain(log, "app.error.all")], "create": [plain(log, "app.error.create")]}})
    app.service("things").hooks({"error": {"all": [plain(log, "svc.error.all")],
                                           "create": [plain(log, "svc.error.create")]}})
    with pytest.raises(BadRequest, match=r"^create failed$"):
        await app.service("things").create({"fail": True})
    assert log == ["svc.error.create", "svc.error.all", "app.error.create", "app.error.all"]


async def test_result_set_in_before_hook_skips_the_method_but_not_later_hooks() -> None:
    app, things = make_app()
    log: list[str] = []

    def cached(context):
        context.result = {"id": 9, "cached": True}

    app.service("things").hooks({"before": {"get": [cached]}, "after": {"get": [plain(log, "after")]}})
    assert await app.service("things").get(9) == {"id": 9, "cached": True}
    assert things.calls == []
    assert log == ["after"]


async def test_result_set_to_none_in_before_hook_still_skips_the_method() -> None:
    app, things = make_app()

    def nothing(context):
        context.result = None

    app.service("things").hooks({"before": {"get": nothing}})
    assert await app.service("things").get(1) is None
    assert things.calls == []


async def test_result_set_in_around_hook_before_next_skips_the_method() -> None:
    app, things = make_app()

    async def short_circuit(context, next_step):
        context.result = ["from around"]
        await next_step()

    app.service("things").hooks({"around": {"find": [short_circuit]}})
    assert await app.service("things").find() == ["from around"]
    assert things.calls == []


async def test_error_hook_replaces_the_error() -> None:
    app, _ = make_app()
    seen: dict[str, Any] = {}

    def replace(context):
        seen["type"] = context.type
        seen["error"] = context.error
        seen["original_method"] = context.original.method
        context.error = GeneralError("replaced", {"reason": "test"})

    app.service("things").hooks({"error": {"create": [replace]}})
    with pytest.raises(GeneralError) as caught:
        await app.service("things").create({"fail": True})
    assert caught.value.to_json() == {"name": "GeneralError", "message": "replaced", "code": 500,
                                      "className": "general-error", "data": {"reason": "test"}}
    assert seen["type"] == "error"
    assert isinstance(seen["error"], BadRequest) and seen["error"].message == "create failed"
    assert seen["original_method"] == "create"


async def test_error_hook_raising_replaces_the_error_too() -> None:
    app, _ = make_app()

    def raise_other(context):
        raise NotFound("gone away")

    app.service("things").hooks({"error": raise_other})
    with pytest.raises(NotFound, match=r"^gone away$"):
        await app.service("things").create({"fail": True})


async def test_error_hook_setting_result_turns_the_error_into_a_result() -> None:
    app, _ = make_app()
    log: list[str] = []

    def recover(context):
        context.result = {"recovered": context.error.message}

    app.hooks({"after": plain(log, "app.after")})  # runs: the service level recovered
    app.service("things").hooks({"error": {"get": [recover]}})
    assert await app.service("things").get("missing") == {"recovered": "No record found for id 'missing'"}
    assert log == ["app.after"]


async def test_error_in_before_hook_skips_the_method_and_runs_error_hooks() -> None:
    app, things = make_app()
    errors: list[str] = []

    def refuse(context):
        raise BadRequest("refused")

    def note(context):
        errors.append(context.error.message)
        assert context.result is NOT_SET

    app.service("things").hooks({"before": {"find": refuse}, "error": {"find": note}})
    with pytest.raises(BadRequest, match=r"^refused$"):
        await app.service("things").find()
    assert things.calls == []
    assert errors == ["refused"]


async def test_sync_and_async_hooks_and_methods_mix() -> None:
    app, _ = make_app()

    def sync_before(context):
        context.data = {**context.data, "sync": True}

    async def async_before(context):
        context.data = {**context.data, "async": True}

    def sync_after(context):
        context.result = {**context.result, "after": "sync"}

    app.service("things").hooks({"before": {"patch": [sync_before, async_before]}, "after": {"patch": sync_after}})
    assert await app.service("things").patch(5, {"x": 1}) == {"id": 5, "x": 1, "sync": True, "async": True,
                                                                "after": "sync"}


async def test_returned_dict_is_merged_into_the_context() -> None:
    app, things = make_app()

    def swap_data(context):
        return {"data": {"text": "from hook"}, "params": {**context.params, "marked": True}}

    async def swap_result(context):
        return {"result": {"id": 2, "text": "changed"}}

    def returns_context(context):
        return context  # returning the context itself is fine too

    app.service("things").hooks({"before": {"create": [swap_data, returns_context]},
                                  "after": {"create": swap_result}})
    assert await app.service("things").create({"text": "original"}) == {"id": 2, "text": "changed"}
    assert things.calls == [("create", {"text": "from hook"}, {"marked": True})]


async def test_context_type_values() -> None:
    app, _ = make_app()
    types: list[tuple[str, str]] = []

    async def around_hook(context, next_step):
        types.append(("around:in", context.type))
        await next_step()
        types.append(("around:out", context.type))

    def record(name):
        def hook(context):
            types.append((name, context.type))
        return hook

    def fail(context):
        raise BadRequest("after failed")

    def recover(context):
        types.append(("error", context.type))
        context.result = "ok"

    app.service("things").hooks({"around": {"find": [around_hook]}, "before": {"find": record("before")},
                                  "after": {"find": [record("after"), fail]}, "error": {"find": recover}})
    assert await app.service("things").find() == "ok"
    # As in Feathers: a hook that fails leaves its type in place (runHook restores it only on
    # success), and the error hooks restore the type they found ("after").
    assert types == [("around:in", "around"), ("before", "before"), ("after", "after"), ("error", "error"),
                     ("around:out", "after")]


async def test_context_fields_for_each_method() -> None:
    app, _ = make_app()
    seen: list[dict[str, Any]] = []

    def record(context):
        seen.append({"path": context.path, "method": context.method, "id": context.id,
                     "data": context.data, "params": context.params, "service": context.service,
                     "app": context.app, "http": context.http})

    app.service("/things/").hooks({"before": record})
    await app.service("things").get(7, {"query": {"a": 1}})
    await app.service("things").create({"b": 2})
    await app.service("things").shout({"text": "hey"})
    assert seen[0] == {"path": "things", "method": "get", "id": 7, "data": NOT_SET,
                       "params": {"query": {"a": 1}}, "service": app.service("things"), "app": app, "http": {}}
    assert seen[1]["method"] == "create" and seen[1]["id"] is NOT_SET and seen[1]["data"] == {"b": 2}
    assert seen[1]["params"] == {}
    assert seen[2]["method"] == "shout" and seen[2]["data"] == {"text": "hey"}


async def test_internal_calls_have_no_provider_and_params_are_copied() -> None:
    app, things = make_app()
    given = {"query": {"x": "1"}}
    await app.service("things").find(given)
    await app.service("things").find()
    assert [call[2] for call in things.calls] == [{"query": {"x": "1"}}, {}]
    assert "provider" not in things.calls[0][2]
    assert things.calls[0][2] is not given


async def test_custom_method_runs_hooks() -> None:
    app, _ = make_app()
    log: list[str] = []
    app.hooks({"before": {"shout": plain(log, "app.before.shout")}})
    app.service("things").hooks({"after": {"shout": plain(log, "svc.after.shout")}})
    assert await app.service("things").shout({"text": "hey"}) == {"shouted": "HEY"}
    assert log == ["app.before.shout", "svc.after.shout"]


async def test_registration_formats() -> None:
    app, _ = make_app()
    log: list[str] = []
    service = app.service("things")
    service.hooks({"before": plain(log, "before-single")})            # one function: all methods
    service.hooks({"before": [plain(log, "before-list")]})           # a list: all methods
    service.hooks({"before": {"find": plain(log, "before-find")}})   # per method
    service.hooks(around(log, "around-single"))                      # one around hook: all methods
    service.hooks([around(log, "around-list")])                      # list of around hooks
    service.hooks({"find": [around(log, "around-find")]})             # {method: [around]}
    service.hooks({"get": [around(log, "around-get")]})
    await service.find()
    assert log == ["around-single:in", "around-list:in", "around-find:in",
                   "before-single", "before-list", "before-find",
                   "around-find:out", "around-list:out", "around-single:out"]


async def test_app_hooks_accept_the_shorthand_formats() -> None:
    app, _ = make_app()
    log: list[str] = []
    app.hooks([around(log, "app-list")])
    app.hooks({"find": [around(log, "app-find")]})
    app.hooks({"after": plain(log, "app-after")})
    await app.service("things").find()
    await app.service("things").get(1)
    assert log == ["app-list:in", "app-find:in", "app-after", "app-find:out", "app-list:out",
                   "app-list:in", "app-after", "app-list:out"]


async def test_hooks_added_later_apply_to_the_next_call() -> None:
    app, _ = make_app()
    log: list[str] = []
    await app.service("things").find()
    app.hooks({"before": plain(log, "late-app")})
    app.service("things").hooks({"before": plain(log, "late-service")})
    await app.service("things").find()
    assert log == ["late-app", "late-service"]


def test_invalid_hook_registration_is_refused() -> None:
    app, _ = make_app()
    with pytest.raises(TypeError):
        app.service("things").hooks({"before": {"find": ["not callable"]}})
    with pytest.raises(TypeError):
        app.service("things").hooks("nonsense")


async def test_setup_and_teardown_hooks_wrap_the_life_cycle() -> None:
    app, _ = make_app()
    log: list[str] = []

    async def setup_hook(context, next_step):
        log.append(f"setup:in:{context.app is app}")
        await next_step()
        log.append(f"setup:out:{app.is_setup}")

    app.hooks({"setup": [setup_hook], "teardown": [around(log, "teardown")]})
    await app.setup()
    await app.teardown()
    assert log == ["setup:in:True", "setup:out:True", "teardown:in", "teardown:out"]


async def test_app_shorthand_hooks_are_ordinary_around_hooks() -> None:
    app, _ = make_app()
    log: list[str] = []
    app.hooks({"around": {"all": [around(log, "around-all")]}})
    app.hooks({"find": [around(log, "shorthand-find")]})
    app.hooks([around(log, "shorthand-list")])
    await app.service("things").find()
    assert log == ["around-all:in", "shorthand-list:in", "shorthand-find:in",
                   "shorthand-find:out", "shorthand-list:out", "around-all:out"]


async def test_hooks_may_add_their_own_context_attributes() -> None:
    app, _ = make_app()
    seen: list[Any] = []

    def mark(context):
        return {"started_by": "mark"}

    def flag(context):
        context.audit = ["flagged"]

    def read(context):
        seen.append((context.started_by, context.audit))

    app.service("things").hooks({"before": {"find": [mark, flag]}, "after": {"find": read}})
    await app.service("things").find()
    assert seen == [("mark", ["flagged"])]


class Orders:
    async def get(self, id: Any, params: dict) -> dict:
        raise NotFound(f"No record found for id '{id}'")


def orders_app(error_hooks: list) -> App:
    app = App()
    app.use("orders", Orders())
    app.service("orders").hooks({"error": {"get": error_hooks}})
    return app


def replace_error(context):
    raise Conflict("order is being replaced")


def fallback(context):
    context.result = {"id": context.id, "fallback": True}


def forget_error(context):
    context.error = None


async def test_a_throwing_error_hook_ends_the_chain_over_both_transports(serve, sockets) -> None:
    # The case (Feathers 5 answers 409; tests/interop/test_hooks_feathers.py has the rest).
    client = await serve(orders_app([replace_error, fallback]))
    response = await client.get("/orders/7")
    assert response.status == 409
    assert (await response.json())["message"] == "order is being replaced"
    socket = await sockets(client)
    error = await socket.call("get", "orders", 7)
    assert error["name"] == "Conflict" and error["code"] == 409


async def test_an_error_hook_that_clears_the_error_answers_nothing(serve, sockets) -> None:
    # Feathers resolves with `undefined`: REST 204, a socket acknowledgement with null.
    client = await serve(orders_app([forget_error]))
    response = await client.get("/orders/7")
    assert response.status == 204
    socket = await sockets(client)
    assert await socket.call("get", "orders", 7) == (None, None)

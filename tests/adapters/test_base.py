"""AdapterService: options, multi rules, sanitising and the public-to-internal calls."""

from __future__ import annotations

from typing import Any

import pytest

from cryptorobot.adapters import AdapterService, Index
from cryptorobot.adapters.base import page
from cryptorobot.errors import BadRequest, MethodNotAllowed
from cryptorobot.query import Filters


class Recorder(AdapterService):
    """Answers every internal call with what it received."""

    async def _find(self, params=None):
        return ("_find", params)

    async def _get(self, id, params=None):
        return ("_get", id, params)

    async def _create(self, data, params=None):
        return ("_create", data, params)

    async def _update(self, id, data, params=None):
        return ("_update", id, data, params)

    async def _patch(self, id, data, params=None):
        return ("_patch", id, data, params)

    async def _remove(self, id, params=None):
        return ("_remove", id, params)


def test_default_options() -> None:
    assert AdapterService().options == {
        "id": "id", "paginate": False, "multi": False, "events": [], "operators": [], "filters": {}, "indexes": ()}


def test_options_are_normalised_and_keep_extras() -> None:
    service = AdapterService(id="_id", multi=("create",), events=("testing",),
                             indexes=["email", Index(["a", "b"], unique=True)], store=1)
    assert service.id == "_id"
    assert service.events == ["testing"]
    assert service.options["multi"] == ["create"]
    assert service.options["indexes"] == (Index(("email",)), Index(("a", "b"), unique=True))
    assert service.options["store"] == 1


def test_index() -> None:
    assert Index("email").fields == ("email",)
    with pytest.raises(ValueError):
        Index(())
    assert Index(("a", "b"), unique=True).conflict().to_json() == {
        "name": "Conflict", "message": "Duplicate value for unique index (a, b)", "code": 409,
        "className": "conflict", "data": {"fields": ["a", "b"]}}


def test_get_options() -> None:
    service = AdapterService(paginate={"default": 5}, multi=True)
    assert service.get_options(None)["paginate"] == {"default": 5}
    assert service.get_options({"paginate": False})["paginate"] is False
    options = service.get_options({"paginate": False, "adapter": {"paginate": {"max": 1}, "multi": False}})
    assert (options["paginate"], options["multi"]) == ({"max": 1}, False)
    assert service.options["multi"] is True


@pytest.mark.parametrize(
    ("multi", "allowed"),
    [
        (False, {"find"}),
        (True, {"find", "create", "patch", "remove"}),
        (["patch"], {"find", "patch"}),
    ],
)
def test_allows_multi(multi: Any, allowed: set[str]) -> None:
    service = AdapterService(multi=multi)
    methods = ("find", "get", "create", "update", "patch", "remove")
    assert {method for method in methods if service.allows_multi(method)} == allowed
    assert service.allows_multi("remove", {"adapter": {"multi": ["remove"]}})


def test_sanitize_copies_params_and_uses_call_options() -> None:
    service = AdapterService()
    params = {"query": {"$limit": "2", "name": {"$like": "x"}}, "adapter": {"operators": ["$like"]}, "user": 1}
    assert service.sanitize(params) == {**params, "query": {"$limit": 2, "name": {"$like": "x"}}}
    assert params["query"]["$limit"] == "2"
    assert service.sanitize(None) == {"query": {}}
    with pytest.raises(BadRequest):
        service.sanitize({"query": {"name": {"$like": "x"}}})


@pytest.mark.parametrize(
    ("paginate", "params", "expected"),
    [
        (False, {"query": {"$limit": 3, "a": 1}}, (Filters(3, 0, None, None), {"a": 1}, False)),
        ({"default": 2, "max": 4}, {"query": {"$limit": 9}}, (Filters(4, 0, None, None), {}, True)),
        ({"default": 2}, {}, (Filters(2, 0, None, None), {}, True)),
        ({}, {"query": {"$skip": 1}}, (Filters(None, 1, None, None), {}, True)),
        (True, {}, (Filters(None, 0, None, None), {}, True)),
        ({"default": 2}, {"paginate": False}, (Filters(None, 0, None, None), {}, False)),
    ],
)
def test_find_plan(paginate: Any, params: dict[str, Any], expected: tuple[Any, ...]) -> None:
    assert AdapterService(paginate=paginate).find_plan(params) == expected


def test_page_omits_a_missing_limit() -> None:
    assert page(3, None, 0, []) == {"total": 3, "skip": 0, "data": []}
    assert page(3, 1, 2, [{}]) == {"total": 3, "limit": 1, "skip": 2, "data": [{}]}


async def test_public_methods_sanitise_and_delegate() -> None:
    service = Recorder(multi=["patch"])
    assert await service.find({"query": {"$limit": "1"}}) == ("_find", {"query": {"$limit": 1}})
    assert await service.get(1) == ("_get", 1, {"query": {}})
    assert await service.update(1, {"a": 1}, {"query": {"a": 1}}) == ("_update", 1, {"a": 1}, {"query": {"a": 1}})
    assert await service.patch(None, {"a": 1}) == ("_patch", None, {"a": 1}, {"query": {}})
    assert await service.remove(2) == ("_remove", 2, {"query": {}})


async def test_create_keeps_only_select_of_the_query() -> None:
    service = Recorder()
    params = {"query": {"$select": "name", "$bogus": 1, "name": "x"}, "user": 1}
    assert await service.create({"a": 1}, params) == ("_create", {"a": 1}, {"query": {"$select": ["name"]}, "user": 1})
    assert await service.create({"a": 1}, {"query": None}) == ("_create", {"a": 1}, {"query": {}})


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda s: s.create([{}]), MethodNotAllowed, "Can not create multiple entries"),
        (lambda s: s.patch(None, {}), MethodNotAllowed, "Can not patch multiple entries"),
        (lambda s: s.remove(None), MethodNotAllowed, "Can not remove multiple entries"),
        (lambda s: s.update(None, {}), BadRequest, "You can not replace multiple instances. Did you mean 'patch'?"),
        (lambda s: s.update(1, [{}]), BadRequest, "You can not replace multiple instances. Did you mean 'patch'?"),
        (lambda s: s.create("x"), BadRequest, "Data must be an object"),
        (lambda s: s.update(1, "x"), BadRequest, "Data must be an object"),
        (lambda s: s.patch(1, None), BadRequest, "Data must be an object"),
        (lambda s: s.find({"query": {"$nope": 1}}), BadRequest, "Invalid filter value $nope"),
    ],
)
async def test_public_method_errors(call: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        await call(Recorder())
    assert caught.value.message == message

"""`Echo`: a service answering every call with what it was called with, for transport tests."""

from __future__ import annotations

from typing import Any

from cryptorobot.errors import BadRequest

ALL_METHODS = ["find", "get", "create", "update", "patch", "remove", "shout"]


class Echo:
    """Keeps the params of every call; `get("fail")` raises a Feathers error and
    `get("crash")` an unexpected exception whose text must never reach a client."""

    def __init__(self) -> None:
        self.params: list[dict[str, Any]] = []

    def _answer(self, method: str, params: dict, **args: Any) -> dict:
        self.params.append(params)
        return {"method": method, **args, "query": params.get("query")}

    async def find(self, params):
        return self._answer("find", params)

    async def get(self, id, params):
        if id == "fail":
            raise BadRequest("Invalid id", {"id": id})
        if id == "crash":
            raise RuntimeError("secret connection string postgres://admin:pw@db")
        return self._answer("get", params, id=id)

    async def create(self, data, params):
        return self._answer("create", params, data=data)

    async def update(self, id, data, params):
        return self._answer("update", params, id=id, data=data)

    async def patch(self, id, data, params):
        return self._answer("patch", params, id=id, data=data)

    async def remove(self, id, params):
        return self._answer("remove", params, id=id)

    async def shout(self, data, params):
        return self._answer("shout", params, data=data)


def error(name: str, code: int, class_name: str, message: str, **extra: Any) -> dict:
    """A Feathers error body as it travels on the wire."""
    return {"name": name, "message": message, "code": code, "className": class_name, **extra}

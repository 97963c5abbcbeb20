"""`App.present_error`: the one place every transport turns a failure into what the client
receives, so an app can add to every error (the platform stamps machine codes) without the
framework knowing what it adds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cryptorobot import App, errors
from cryptorobot.adapters import MemoryService
from cryptorobot.openapi import ErrorCode, openapi_spec
from tests.conftest import WAIT
from tests.transports.raw_socket import RawSocket


def stamping(failure: BaseException) -> errors.FeathersError:
    """A presenter that says where each error came from in `data.seen`."""
    error = errors.convert(failure)
    error.data = {"seen": type(failure).__name__}
    return error


class Gate:
    def __init__(self) -> None:
        self.opened = asyncio.Event()

    async def get(self, id: Any, params: dict[str, Any]) -> Any:
        await self.opened.wait()
        return {"id": id}

    async def find(self, params: dict[str, Any]) -> Any:
        raise RuntimeError("a bug")


@pytest.fixture
def app() -> App:
    app = App({"socketio": {"max_message_size": 2000, "max_calls_in_flight": 1}, "rest": {"max_body_size": 2000}})
    app.use("items", MemoryService(id="id"))
    app.use("gate", Gate())
    app.error_presenter = stamping
    return app


async def test_rest_refusals_outside_hooks_go_through_the_presenter(serve: Any, app: App) -> None:
    client = await serve(app)
    cases = [
        (await client.get("/nowhere"), 404, "NotFound"),
        (await client.post("/items", data="{bad", headers={"Content-Type": "application/json"}), 400, "BadRequest"),
        (await client.post("/items", json={"x": "y" * 3000}), 413, "PayloadTooLarge"),
        (await client.put("/gate/1", json={}), 405, "MethodNotAllowed"),
        (await client.get("/gate"), 500, "RuntimeError"),
    ]
    for response, status, seen in cases:
        assert response.status == status
        assert (await response.json())["data"] == {"seen": seen}


async def test_socket_refusals_go_through_the_presenter(serve: Any, app: App) -> None:
    client = await serve(app)
    socket = await RawSocket.connect(client)
    try:
        assert (await socket.call(1, "find", "nowhere", {}))[0]["data"] == {"seen": "NotFound"}
        assert (await socket.call(2, "find", "gate", {}))[0]["data"] == {"seen": "RuntimeError"}
        await socket.send(f'23["create","items",{{"x":"{"y" * 2500}"}}]')
        assert (await socket.answer(3))[0]["data"] == {"seen": "PayloadTooLarge"}
        await socket.send('24["get","gate","a",{}]')
        await socket.send('25["get","gate","b",{}]')
        assert (await socket.answer(5))[0]["data"] == {"seen": "TooManyCallsInFlight"}
        app.service("gate").raw.opened.set()
        assert await asyncio.wait_for(socket.answer(4), WAIT) == [None, {"id": "a"}]
    finally:
        await socket.close()


async def test_without_a_presenter_errors_leave_as_feathers_makes_them(serve: Any) -> None:
    app = App()
    app.use("items", MemoryService(id="id"))
    client = await serve(app)
    response = await client.get("/nowhere")
    assert await response.json() == {"name": "NotFound", "message": "Path /nowhere not found", "code": 404,
                                     "className": "not-found"}


def test_the_document_lists_each_operations_codes() -> None:
    app = App()
    app.use("plain", MemoryService(id="id"), {"methods": ["find", "create"]})
    app.use("listing", MemoryService(id="id"), {"methods": ["find", "create"],
                                                "docs": {"codes": {"create": ["OUT_OF_STOCK"]}}})
    app.error_codes = {"WRONG": ErrorCode(400, "Any call may be wrong.", "any"),
                       "OUT_OF_STOCK": ErrorCode(409, "A service's own.", "service"),
                       "GONE_AWAY": ErrorCode(503, "Another service's own.", "service"),
                       "SOCKET_ONLY": ErrorCode(429, "Never over REST.", "socket")}
    spec = openapi_spec(app)
    assert spec["components"]["schemas"]["ErrorCode"]["enum"] == ["WRONG", "OUT_OF_STOCK", "GONE_AWAY", "SOCKET_ONLY"]

    def codes(path: str, verb: str) -> dict[str, list[str]]:
        return {status: response["content"]["application/json"]["schema"]["allOf"][1]["properties"]["data"][
            "properties"]["code"]["enum"] for status, response in spec["paths"][path][verb]["responses"].items()
            if "allOf" in str(response)}

    # A service listing codes answers those; its find lists none of them.
    assert codes("/listing", "post") == {"400": ["WRONG"], "409": ["OUT_OF_STOCK"]}
    assert codes("/listing", "get") == {"400": ["WRONG"]}
    # A service listing nothing may answer any service code, under the statuses it documents.
    assert codes("/plain", "post") == {"400": ["WRONG"], "409": ["OUT_OF_STOCK"]}
    app.use("typo", MemoryService(id="id"), {"docs": {"codes": ["OUT_OF_STOK"]}})
    with pytest.raises(ValueError, match="OUT_OF_STOK"):
        openapi_spec(app)


def test_an_error_code_has_a_known_scope() -> None:
    with pytest.raises(ValueError, match="scope"):
        ErrorCode(400, "x", "everywhere")

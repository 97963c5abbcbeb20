"""The `authenticate(...)` hook (feathers-wire 7.6)."""

from __future__ import annotations

from typing import Any

import pytest

from auth_support import AuthApp
from cryptorobot.auth import authenticate
from cryptorobot.errors import NotAuthenticated


class Recorder:
    def __init__(self) -> None:
        self.params: list[dict[str, Any]] = []

    async def find(self, params: dict[str, Any]) -> list:
        self.params.append(params)
        return []


@pytest.fixture
async def things(auth: AuthApp) -> Recorder:
    recorder = Recorder()
    auth.app.use("things", recorder)
    auth.app.service("things").hooks({"before": {"find": [authenticate("jwt", "api-key")]}})
    return recorder


async def failure(auth: AuthApp, params: dict[str, Any]) -> str:
    with pytest.raises(NotAuthenticated) as error:
        await auth.app.service("things").find(params)
    return error.value.message


async def test_needs_a_strategy() -> None:
    with pytest.raises(ValueError):
        authenticate()


async def test_anonymous_external_call(auth: AuthApp, things: Recorder) -> None:
    assert await failure(auth, {"provider": "rest"}) == "Not authenticated"
    assert await failure(auth, {"provider": "socketio"}) == "Not authenticated"
    assert things.params == []


async def test_internal_calls_pass(auth: AuthApp, things: Recorder) -> None:
    assert await auth.app.service("things").find() == []
    assert "user" not in things.params[0]


async def test_already_authenticated_passes(auth: AuthApp, things: Recorder) -> None:
    await auth.app.service("things").find({"provider": "rest", "authenticated": True, "user": {"_id": 1}})
    assert things.params[0]["user"] == {"_id": 1}


async def test_token_sets_user_and_authentication(auth: AuthApp, things: Recorder) -> None:
    user = await auth.user("ann@example.com")
    token = auth.service.tokens.create(str(user["_id"]))
    await auth.app.service("things").find(
        {"provider": "rest", "authentication": {"strategy": "jwt", "accessToken": token}})
    params = things.params[0]
    assert params["user"] == user
    assert params["authenticated"] is True
    assert params["authentication"] == {"strategy": "jwt", "accessToken": token,
                                        "payload": auth.service.tokens.verify(token)}
    assert "accessToken" not in params


async def test_api_key_sets_its_owner(auth: AuthApp, things: Recorder) -> None:
    owner = await auth.user("ann@example.com")
    key, record = await auth.api_key(owner)
    await auth.app.service("things").find({"provider": "rest", "authentication": {"strategy": "api-key", "apiKey": key}})
    assert things.params[0]["user"] == owner
    assert things.params[0]["authentication"] == {"strategy": "api-key", "keyId": record["_id"]}


async def test_bad_token(auth: AuthApp, things: Recorder) -> None:
    bad = {"provider": "rest", "authentication": {"strategy": "jwt", "accessToken": "x.y.z"}}
    assert await failure(auth, bad) == "invalid token"


async def test_strategy_not_allowed_by_the_hook(auth: AuthApp) -> None:
    auth.app.use("jwt-only", Recorder())
    auth.app.service("jwt-only").hooks({"before": {"find": [authenticate("jwt")]}})
    key, _ = await auth.api_key(await auth.user("ann@example.com"))
    with pytest.raises(NotAuthenticated) as error:
        await auth.app.service("jwt-only").find({"provider": "rest", "authentication": {"strategy": "api-key", "apiKey": key}})
    assert error.value.message == "Invalid authentication information (strategy not allowed in authStrategies)"


async def test_must_be_a_before_hook(auth: AuthApp) -> None:
    auth.app.use("late", Recorder())
    auth.app.service("late").hooks({"after": {"find": [authenticate("jwt")]}})
    with pytest.raises(NotAuthenticated) as error:
        await auth.app.service("late").find()
    assert error.value.message == "The authenticate hook must be used as a before hook"


async def test_works_as_an_around_hook_before_every_before_hook(auth: AuthApp) -> None:
    """As in Feathers v5: registered under `around`, it runs before the level's before hooks
    (the schema hooks `app.use` adds), so anonymous callers get 401 before any validation."""
    recorder, seen = Recorder(), []
    auth.app.use("guarded", recorder)

    def validation(context: Any) -> None:
        seen.append(context.params.get("user"))
        if context.params.get("query", {}).get("bad"):
            raise ValueError("validated before authentication")

    auth.app.service("guarded").hooks({"before": {"find": [validation]}})
    auth.app.service("guarded").hooks({"around": {"find": [authenticate("jwt")]}})
    with pytest.raises(NotAuthenticated):
        await auth.app.service("guarded").find({"provider": "rest", "query": {"bad": True}})
    assert seen == [] and recorder.params == []
    user = await auth.user("ann@example.com")
    token = auth.service.tokens.create(str(user["_id"]))
    await auth.app.service("guarded").find({"provider": "rest", "authentication": {"strategy": "jwt", "accessToken": token}})
    assert seen == [user] and recorder.params[0]["user"] == user
    await auth.app.service("guarded").find()  # internal calls pass through to the method too
    assert len(recorder.params) == 2

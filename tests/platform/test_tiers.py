"""Users' tiers and roles: who may change them (administrators and server code), and the
`cryptorobot users` commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cryptorobot.auth import generate_api_key
from cryptorobot.cli import main
from cryptorobot.config import load_config
from cryptorobot.platform import create_app
from cryptorobot.schemas import SERVER_SET
from platform_support import PASSWORD, Platform, bad_request

FORBIDDEN = {"name": "Forbidden", "message": "Only an administrator can change a tier", "code": 403,
             "className": "forbidden", "data": {"code": "FORBIDDEN"}}


async def admin(platform: Platform, email: str = "root@example.com") -> tuple[dict[str, Any], str]:
    user, _ = await platform.member(email)
    await platform.app.service("users").patch(user["_id"], {"roles": ["admin"]})
    return user, (await platform.login(email))["accessToken"]


async def test_a_new_user_is_on_the_default_tier_without_roles(platform: Platform) -> None:
    user = await platform.sign_up("ann@example.com")
    assert (user["tier"], user["roles"]) == ("free", [])


@pytest.mark.parametrize(("data", "errors"), [
    ({"tier": "pro"}, {"tier": ["Unknown field."]}),
    ({"roles": ["admin"]}, {"roles": [SERVER_SET]}),
])
async def test_sign_up_can_not_choose_a_tier_or_roles(platform: Platform, data: dict, errors: dict) -> None:
    status, body = await platform.request("POST", "/users", json={"email": "ann@example.com", "password": PASSWORD,
                                                                  **data})
    assert (status, body) == (400, bad_request(errors))


async def test_users_can_not_change_their_tier_or_roles(platform: Platform) -> None:
    ann, token = await platform.member("ann@example.com")
    path = f"/users/{ann['_id']}"
    assert await platform.request("PATCH", path, json={"tier": "enterprise"}, token=token) == (403, FORBIDDEN)
    assert await platform.request("PATCH", path, json={"roles": ["admin"]}, token=token) == (
        400, bad_request({"roles": [SERVER_SET]}))
    assert (await platform.stored("users", ann["_id"]))["tier"] == "free"


async def test_an_administrator_changes_anyones_tier_and_nothing_else(platform: Platform) -> None:
    _, root = await admin(platform)
    bob, bob_token = await platform.member("bob@example.com")
    status, changed = await platform.request("PATCH", f"/users/{bob['_id']}", json={"tier": "pro"}, token=root)
    assert (status, changed["tier"]) == (200, "pro")
    response = await platform.http.get("/users", headers={"Authorization": f"Bearer {bob_token}"})
    assert response.headers["X-RateLimit-Limit"] == "300"  # from bob's next call
    status, body = await platform.request("PATCH", f"/users/{bob['_id']}", json={"tier": "pro", "name": "B"}, token=root)
    assert (status, body["data"]["code"]) == (404, "NOT_FOUND")  # anything else: one's own record only
    status, body = await platform.request("PATCH", f"/users/{bob['_id']}", json={"tier": "gold"}, token=root)
    assert (status, body) == (400, bad_request({"tier": ["Must be one of: free, pro, enterprise."]}))


async def test_an_administrators_api_key_can_not_change_tiers(platform: Platform) -> None:
    root, _ = await admin(platform)
    bob, _ = await platform.member("bob@example.com")
    key, hashed = generate_api_key()
    await platform.app.service("api-keys").raw.create({"name": "bot", "userId": root["_id"], "hash": hashed})
    status, body = await platform.request("PATCH", f"/users/{bob['_id']}", json={"tier": "pro"}, api_key=key)
    assert (status, body["data"]["code"]) == (403, "FORBIDDEN")
    assert (await platform.stored("users", bob["_id"]))["tier"] == "free"


def run_cli(*args: str) -> None:
    main(["users", *args])


async def test_the_commands_set_tiers_and_roles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CRYPTOROBOT_ENV", "test")
    monkeypatch.setenv("CRYPTOROBOT_STORAGE", "sqlite")
    settings = {**load_config(), "data_dir": str(tmp_path)}
    app = create_app(settings)
    await app.setup()
    await app.service("users").create({"email": "ann@example.com", "password": PASSWORD})
    await app.teardown()

    await _in_thread(run_cli, "set-tier", "--data-dir", str(tmp_path), "Ann@Example.com", "pro")
    await _in_thread(run_cli, "set-roles", "--data-dir", str(tmp_path), "ann@example.com", "admin")
    assert capsys.readouterr().out.splitlines() == ["ann@example.com: tier pro, roles (none)",
                                                    "ann@example.com: tier pro, roles admin"]
    for args, message in [(("set-tier", "ann@example.com", "gold"), "unknown tier 'gold'; tiers: free, pro, enterprise"),
                          (("set-tier", "bob@example.com", "pro"), "no account bob@example.com")]:
        with pytest.raises(SystemExit) as stopped:
            await _in_thread(run_cli, args[0], "--data-dir", str(tmp_path), *args[1:])
        assert stopped.value.code == 1 and capsys.readouterr().err.strip() == f"error: {message}"

    app = create_app(settings)
    await app.setup()
    stored = (await app.service("users").find({"query": {"email": "ann@example.com"}, "paginate": False}))[0]
    await app.teardown()
    assert (stored["tier"], stored["roles"]) == ("pro", ["admin"])


async def _in_thread(function: Any, *args: Any) -> None:
    """The command runs its own event loop (asyncio.run), so it runs off this one."""
    import asyncio

    await asyncio.to_thread(function, *args)


def test_the_commands_refuse_memory_storage(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CRYPTOROBOT_ENV", "test")  # storage = "memory"
    with pytest.raises(SystemExit):
        run_cli("set-tier", "ann@example.com", "pro")
    assert "keeps no accounts" in capsys.readouterr().err

"""Password and API-key guessing is throttled per address, per account and address, and per
account for unfamiliar addresses (`cryptorobot.auth.throttle`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from cryptorobot.auth import generate_api_key
from platform_support import PASSWORD, Platform
from tests.conftest import LimitsTime

THROTTLE = {"window": 900, "address": 6, "account_address": 3, "account": 4}
WRONG = "not the password"


@pytest.fixture
async def guarded(make_platform: Callable[..., Awaitable[Platform]], limits_time: LimitsTime) -> Platform:
    """The platform behind one trusted proxy (so tests choose their address), with small
    throttle counts and budgets of calls that the tests never reach."""
    platform = await make_platform(trusted_proxies=1, authentication={"throttle": THROTTLE},
                                   ratelimit={"anonymous": 1000, "tiers": {"free": {"requests": 1000}}})
    for email in ("ann@example.com", "bob@example.com", "cid@example.com"):
        await platform.app.service("users").create({"email": email, "password": PASSWORD})
    return platform


def at(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def login(platform: Platform, address: str, email: str = "ann@example.com",
                password: str = PASSWORD) -> tuple[int, Any]:
    return await platform.request("POST", "/authentication", headers=at(address),
                                  json={"strategy": "local", "email": email, "password": password})


def throttled(body: Any, limit: str) -> bool:
    return body["name"] == "TooManyRequests" and body["data"]["code"] == "TOO_MANY_ATTEMPTS" and \
        body["data"]["limit"] == f"authentication.throttle.{limit}"


async def test_failures_lock_the_account_on_that_address_only_and_for_a_while(
        guarded: Platform, limits_time: LimitsTime) -> None:
    assert [(await login(guarded, "198.51.100.1", password=WRONG))[0] for _ in range(3)] == [401] * 3
    response = await guarded.http.post("/authentication", headers=at("198.51.100.1"),
                                       json={"strategy": "local", "email": "ann@example.com", "password": PASSWORD})
    body = await response.json()
    assert response.status == 429 and throttled(body, "account_address")  # even the right password
    assert response.headers["Retry-After"] == "900" and body["data"]["retryAfter"] == 900
    assert (await login(guarded, "198.51.100.2"))[0] == 201  # ann elsewhere
    assert (await login(guarded, "198.51.100.1", email="bob@example.com"))[0] == 201  # bob from there
    limits_time.advance(901)
    assert (await login(guarded, "198.51.100.1"))[0] == 201


async def test_a_right_password_forgives_that_addresses_failures(guarded: Platform) -> None:
    for _ in range(2):
        assert (await login(guarded, "198.51.100.1", password=WRONG))[0] == 401
    assert (await login(guarded, "198.51.100.1"))[0] == 201
    for _ in range(2):
        assert (await login(guarded, "198.51.100.1", password=WRONG))[0] == 401
    assert (await login(guarded, "198.51.100.1"))[0] == 201


async def test_an_attacked_account_refuses_new_addresses_but_not_known_ones(guarded: Platform) -> None:
    """Failures from many addresses lock the account for addresses it does not know; the
    owner's address, known from an earlier login, goes on: an attacker elsewhere can not
    lock the owner out."""
    assert (await login(guarded, "192.0.2.10"))[0] == 201  # the owner's usual address
    for n in range(4):
        assert (await login(guarded, f"203.0.113.{n}", password=WRONG))[0] == 401
    status, body = await login(guarded, "203.0.113.99")
    assert status == 429 and throttled(body, "account")
    assert (await login(guarded, "192.0.2.10"))[0] == 201
    assert (await login(guarded, "203.0.113.99", email="bob@example.com"))[0] == 201  # other accounts: untouched


async def test_one_address_failing_at_many_accounts_is_locked(guarded: Platform) -> None:
    for email in ("ann@example.com", "bob@example.com", "nobody@example.com"):
        for _ in range(2):
            assert (await login(guarded, "198.51.100.7", email=email, password=WRONG))[0] == 401
    status, body = await login(guarded, "198.51.100.7", email="cid@example.com")
    assert status == 429 and throttled(body, "address")
    assert (await login(guarded, "198.51.100.8", email="cid@example.com"))[0] == 201


async def test_unknown_emails_are_throttled_like_real_ones(guarded: Platform) -> None:
    """No way to tell accounts that exist from the throttle's answers."""
    answers = []
    for email in ("ann@example.com", "nobody@example.com"):
        for _ in range(4):
            status, body = await login(guarded, "198.51.100.3" if email.startswith("ann") else "198.51.100.4",
                                       email=email, password=WRONG)
            answers.append((status, body["message"]))
    assert answers[:4] == answers[4:] == [(401, "Invalid login")] * 3 + [(429, "Too many failed attempts; try again "
                                                                               "in 900 s")]


async def test_api_key_guessing_locks_the_address(guarded: Platform) -> None:
    ann = (await guarded.app.service("users").find({"query": {"email": "ann@example.com"}, "paginate": False}))[0]
    key, hashed = generate_api_key()
    await guarded.app.service("api-keys").raw.create({"name": "bot", "userId": ann["_id"], "hash": hashed})
    for n in range(6):
        guessed = {**at("198.51.100.5"), "X-API-Key": f"crk_guess{n}"}
        assert (await guarded.http.get("/users", headers=guessed)).status == 401
    response = await guarded.http.get("/users", headers={**at("198.51.100.5"), "X-API-Key": key})
    assert response.status == 429 and throttled(await response.json(), "address")
    assert (await guarded.http.get("/users", headers={**at("198.51.100.6"), "X-API-Key": key})).status == 200
    status, body = await login(guarded, "198.51.100.5")  # the address is locked for passwords too
    assert status == 429 and throttled(body, "address")


async def test_the_current_password_of_a_password_change_is_throttled(guarded: Platform) -> None:
    """A stolen token must not let its thief guess the password through `currentPassword`."""
    _, result = await login(guarded, "198.51.100.9")
    token, ann = result["accessToken"], result["user"]

    async def change(current: str, address: str) -> tuple[int, Any]:
        return await guarded.request("PATCH", f"/users/{ann['_id']}", token=token, headers=at(address),
                                     json={"password": "a brand new password", "currentPassword": current})

    assert [(await change(WRONG, "198.51.100.9"))[0] for _ in range(3)] == [400] * 3
    status, body = await change(PASSWORD, "198.51.100.9")
    assert status == 429 and throttled(body, "account_address")
    # The same counters as logins: that address can not log in to ann either.
    assert (await login(guarded, "198.51.100.9"))[0] == 429
    assert (await change(PASSWORD, "198.51.100.10"))[0] == 200


async def test_socket_logins_share_the_counters(guarded: Platform, sockets: Any) -> None:
    socket = await sockets(guarded.http, headers=at("198.51.100.11"))
    wrong = {"strategy": "local", "email": "ann@example.com", "password": WRONG}
    for _ in range(2):
        assert (await socket.call("create", "authentication", wrong, {}))["code"] == 401
    assert (await login(guarded, "198.51.100.11", password=WRONG))[0] == 401
    right = {"strategy": "local", "email": "ann@example.com", "password": PASSWORD}
    refused = await socket.call("create", "authentication", right, {})
    assert refused["code"] == 429 and refused["data"]["code"] == "TOO_MANY_ATTEMPTS"


async def test_server_code_is_not_throttled(guarded: Platform) -> None:
    authentication = guarded.app.service("authentication")
    for _ in range(8):
        with pytest.raises(Exception, match="Invalid login"):
            await authentication.create({"strategy": "local", "email": "ann@example.com", "password": WRONG})
    assert (await authentication.create({"strategy": "local", "email": "ann@example.com", "password": PASSWORD}))


async def test_the_throttle_can_be_switched_off(make_platform: Callable[..., Awaitable[Platform]]) -> None:
    platform = await make_platform(authentication={"throttle": {**THROTTLE, "enabled": False}})
    await platform.sign_up("ann@example.com")
    statuses = [(await login(platform, "127.0.0.1", password=WRONG))[0] for _ in range(5)]
    assert statuses == [401] * 5 and (await login(platform, "127.0.0.1"))[0] == 201

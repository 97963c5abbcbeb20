"""Budgets of calls per user tier and per address, over REST and Socket.IO (`cryptorobot.ratelimit`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from cryptorobot.adapters import MemoryService
from cryptorobot.auth import generate_api_key
from hooks import limit_by
from platform_support import PASSWORD, Platform
from tests.conftest import LimitsTime

SMALL = {"anonymous": 4, "tiers": {"free": {"requests": 3}, "pro": {"requests": 6}}}
"""Budgets per minute small enough to spend in a test."""


def rate_limited(retry_after: int, limit: str, amount: int) -> dict[str, Any]:
    return {"name": "TooManyRequests", "code": 429, "className": "too-many-requests",
            "message": f"Rate limit exceeded: {amount} calls per 60 s; retry in {retry_after} s",
            "data": {"code": "RATE_LIMIT_EXCEEDED", "limit": limit, "max": amount, "window": 60,
                     "retryAfter": retry_after}}


@pytest.fixture
async def small(make_platform: Callable[..., Awaitable[Platform]], limits_time: LimitsTime) -> Platform:
    return await make_platform(ratelimit=SMALL)


async def member_of(platform: Platform, email: str, tier: str | None = None) -> tuple[dict[str, Any], str]:
    """A signed-up, logged-in user (server code: no call is charged), on `tier` if given."""
    user = await platform.app.service("users").create({"email": email, "password": PASSWORD})
    if tier is not None:
        await platform.app.service("users").patch(user["_id"], {"tier": tier})
    result = await platform.app.service("authentication").create(
        {"strategy": "local", "email": email, "password": PASSWORD})
    return user, result["accessToken"]


async def get(platform: Platform, path: str, **kwargs: Any) -> Any:
    return await platform.http.request("GET", path, **kwargs)


def limit_headers(response: Any) -> tuple[str, str]:
    return response.headers["X-RateLimit-Limit"], response.headers["X-RateLimit-Remaining"]


async def test_a_free_user_gets_the_tiers_budget_then_429(small: Platform, limits_time: LimitsTime) -> None:
    ann, token = await member_of(small, "ann@example.com")
    auth = {"Authorization": f"Bearer {token}"}
    seen = []
    for _ in range(3):
        response = await get(small, f"/users/{ann['_id']}", headers=auth)
        assert response.status == 200
        seen.append(limit_headers(response))
        reset = int(response.headers["X-RateLimit-Reset"])
        assert limits_time.now < reset <= limits_time.now + 61  # epoch seconds, within the window
    assert seen == [("3", "2"), ("3", "1"), ("3", "0")]
    refused = await get(small, f"/users/{ann['_id']}", headers=auth)
    assert refused.status == 429
    assert await refused.json() == rate_limited(60, "ratelimit.tiers.free.requests", 3)
    assert (refused.headers["Retry-After"], *limit_headers(refused)) == ("60", "3", "0")
    limits_time.advance(61)  # the window moved on
    assert (await get(small, f"/users/{ann['_id']}", headers=auth)).status == 200


async def test_sockets_draw_on_the_same_budget_and_get_the_same_error(small: Platform, sockets: Any,
                                                                       limits_time: LimitsTime) -> None:
    ann, token = await member_of(small, "ann@example.com")
    socket = await sockets(small.http)
    ack = await socket.call("create", "authentication", {"strategy": "jwt", "accessToken": token}, {})
    assert ack[0] is None  # a login is an anonymous call: the address pays for it
    assert (await get(small, "/users", headers={"Authorization": f"Bearer {token}"})).status == 200
    assert (await socket.call("get", "users", ann["_id"], {}))[0] is None
    assert (await socket.call("find", "users", {}))[0] is None
    assert await socket.call("find", "users", {}) == rate_limited(60, "ratelimit.tiers.free.requests", 3)
    assert (await get(small, "/users", headers={"Authorization": f"Bearer {token}"})).status == 429


async def test_each_tier_has_its_budget_and_users_do_not_share(small: Platform) -> None:
    _, ann = await member_of(small, "ann@example.com")
    _, bob = await member_of(small, "bob@example.com", tier="pro")
    for token, budget in ((ann, 3), (bob, 6)):
        statuses = [(await get(small, "/users", headers={"Authorization": f"Bearer {token}"})).status
                    for _ in range(budget + 1)]
        assert statuses == [200] * budget + [429]
    # An unknown tier name counts as the default tier.
    _, cid = await member_of(small, "cid@example.com", tier="platinum")
    response = await get(small, "/users", headers={"Authorization": f"Bearer {cid}"})
    assert limit_headers(response) == ("3", "2")


async def test_a_tier_change_applies_from_the_next_call(small: Platform) -> None:
    ann, token = await member_of(small, "ann@example.com")
    auth = {"Authorization": f"Bearer {token}"}
    assert limit_headers(await get(small, "/users", headers=auth)) == ("3", "2")
    await small.set_tier(ann, "pro")
    assert limit_headers(await get(small, "/users", headers=auth)) == ("6", "5")


async def test_api_key_calls_are_the_users_calls(small: Platform) -> None:
    ann, token = await member_of(small, "ann@example.com")
    key, hashed = generate_api_key()
    await small.app.service("api-keys").raw.create({"name": "bot", "userId": ann["_id"], "hash": hashed})
    by_key, by_token = {"X-API-Key": key}, {"Authorization": f"Bearer {token}"}
    statuses = [(await get(small, "/users", headers=headers)).status for headers in (by_key, by_token, by_key, by_token)]
    assert statuses == [200, 200, 200, 429]


async def test_anonymous_calls_are_counted_per_address(make_platform: Callable[..., Awaitable[Platform]],
                                                       limits_time: LimitsTime) -> None:
    """Sign-ups and logins identify no user: the `anonymous` budget of the caller's address
    pays. Behind a trusted proxy the address is the one it forwards."""
    platform = await make_platform(ratelimit=SMALL, trusted_proxies=1)
    one, two = {"X-Forwarded-For": "203.0.113.1"}, {"X-Forwarded-For": "203.0.113.2"}
    statuses = []
    for n in range(5):
        response = await platform.http.post("/users", json={"email": f"u{n}@example.com", "password": PASSWORD},
                                            headers=one)
        statuses.append(response.status)
    assert statuses == [201, 201, 201, 201, 429]
    assert (await response.json())["data"]["limit"] == "ratelimit.anonymous"
    login = {"strategy": "local", "email": "u0@example.com", "password": PASSWORD}
    assert (await platform.http.post("/authentication", json=login, headers=one)).status == 429
    response = await platform.http.post("/authentication", json=login, headers=two)
    assert response.status == 201 and limit_headers(response) == ("4", "3")


async def test_without_a_trusted_proxy_forwarded_addresses_are_ignored(small: Platform) -> None:
    statuses = [(await small.http.get("/health", headers={"X-Forwarded-For": f"203.0.113.{n}"})).status
                for n in range(5)]
    assert statuses == [200, 200, 200, 200, 429]


async def test_a_users_calls_do_not_spend_the_address_budget(small: Platform) -> None:
    """Several users behind one address (an office, a NAT) each have their own budget."""
    _, token = await member_of(small, "ann@example.com")
    for _ in range(5):
        await get(small, "/users", headers={"Authorization": f"Bearer {token}"})
    assert (await small.http.get("/health")).status == 200


async def test_every_response_carries_the_headers_of_what_it_was_charged_to(small: Platform) -> None:
    ann, token = await member_of(small, "ann@example.com")
    auth = {"Authorization": f"Bearer {token}"}
    cases = [
        ("GET", f"/users/{ann['_id']}", auth, None, 200, "3"),  # the user's tier
        ("GET", "/users/nobody", auth, None, 404, "3"),  # charged, then not found
        ("GET", "/no/such/path", {}, None, 404, "4"),  # no service: the address
        ("POST", "/api-keys", {**auth, "Content-Type": "application/json"}, "{not json", 400, "4"),  # before auth
        ("GET", "/users", {"Authorization": "Bearer garbage"}, None, 401, "4"),  # no user identified
    ]
    for method, path, headers, body, status, limit in cases:
        response = await small.http.request(method, path, headers=headers, data=body)
        assert response.status == status, (path, await response.text())
        assert response.headers["X-RateLimit-Limit"] == limit, path
        assert {"X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(response.headers), path


async def test_a_failure_over_the_address_budget_is_a_429(small: Platform) -> None:
    statuses = [(await small.http.get("/no/such/path")).status for _ in range(5)]
    assert statuses == [404, 404, 404, 404, 429]


async def test_browsers_may_read_the_headers(small: Platform) -> None:
    response = await small.http.get("/health", headers={"Origin": "https://app.example.com"})
    exposed = response.headers["Access-Control-Expose-Headers"].split(",")
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"} <= set(exposed)


async def test_a_service_may_name_its_address_budget_and_add_one_per_key(
        make_platform: Callable[..., Awaitable[Platform]], limits_time: LimitsTime) -> None:
    """What a webhook needs: a provider's few addresses send every customer's alerts, so
    anonymous calls draw on a bigger per-address budget, and each token on its own."""
    platform = await make_platform(ratelimit={**SMALL, "budgets": {"webhooks": 10, "signal-token": 2}})
    platform.app.use("hooks-in", MemoryService(id="_id"), {"address_budget": "webhooks"})
    platform.app.service("hooks-in").hooks({"before": {"create": [
        limit_by("signal-token", lambda context: context.data.get("token"))]}})

    async def alert(token: str) -> int:
        return (await platform.http.post("/hooks-in", json={"token": token})).status

    assert [await alert("t1") for _ in range(3)] == [201, 201, 429]
    refused = await platform.http.post("/hooks-in", json={"token": "t1"})
    body = await refused.json()
    assert body["data"]["code"] == "RATE_LIMIT_EXCEEDED" and body["data"]["limit"] == "ratelimit.budgets.signal-token"
    # The headers of a refusal describe the budget that refused it.
    assert (refused.headers["Retry-After"], *limit_headers(refused)) == ("60", "2", "0")
    assert limit_headers(await platform.http.get("/health")) == ("4", "3")  # not the webhooks budget
    assert [await alert(f"t{n}") for n in range(2, 8)] == [201] * 6  # past the `anonymous` 4
    assert await alert("t9") == 429  # 10 calls from the address


async def test_server_code_is_never_limited(small: Platform) -> None:
    for n in range(10):
        await small.app.service("users").create({"email": f"u{n}@example.com", "password": PASSWORD})


async def test_limits_can_be_switched_off(make_platform: Callable[..., Awaitable[Platform]]) -> None:
    platform = await make_platform(ratelimit={**SMALL, "enabled": False})
    assert platform.app.rate_limits is None
    responses = [await platform.http.get("/health") for _ in range(6)]
    assert [r.status for r in responses] == [200] * 6 and "X-RateLimit-Limit" not in responses[-1].headers


async def test_logins_are_charged_to_the_address_over_sockets_too(small: Platform, sockets: Any) -> None:
    await member_of(small, "ann@example.com")
    socket = await sockets(small.http)
    login = {"strategy": "local", "email": "ann@example.com", "password": PASSWORD}
    answers = [await socket.call("create", "authentication", login, {}) for _ in range(5)]
    assert [answer[0] is None if isinstance(answer, tuple) else answer["data"]["code"] for answer in answers] == [
        True, True, True, True, "RATE_LIMIT_EXCEEDED"]

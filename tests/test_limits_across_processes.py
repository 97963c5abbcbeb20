"""Two platform processes share rate limits through Redis: one budget per user and per
address, one throttle of failed logins, one cap on a user's connections (the newest socket,
on either process, closes the oldest, on either process)."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import redis

from tests.adapters import nx_server
from tests.conftest import WAIT, SocketClient
from tests.server_process import ServerProcess, json_call
from tests.test_scale_out import REDIS_URL, redis_answers, until_subscribed

pytestmark = pytest.mark.skipif(not redis_answers(), reason="no Redis on 127.0.0.1:6379 (.ci/run starts one)")

PASSWORD = "correct horse battery"


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess, str]]:
    """Two processes sharing MongoDB (users), Redis (counters, events) and a key prefix of
    this test's own; the Socket.IO channel is the third element."""
    run = uuid.uuid4().hex[:12]
    prefix = f"test-limits-{run}"
    environment = {
        "CRYPTOROBOT_ENV": "test", "CRYPTOROBOT_STORAGE": "mongodb", "CRYPTOROBOT_MONGODB__URL": nx_server.shared().url,
        "CRYPTOROBOT_MONGODB__DATABASE": f"limits-{run}", "CRYPTOROBOT_AUTHENTICATION__SECRET": f"shared-{run}" * 3,
        "CRYPTOROBOT_SOCKETIO__REDIS_URL": REDIS_URL, "CRYPTOROBOT_SOCKETIO__REDIS_CHANNEL": f"test-{run}",
        "CRYPTOROBOT_RATELIMIT__KEY_PREFIX": prefix, "CRYPTOROBOT_RATELIMIT__ANONYMOUS": "9",
        "CRYPTOROBOT_RATELIMIT__TIERS__FREE__REQUESTS": "4", "CRYPTOROBOT_RATELIMIT__TIERS__FREE__CONNECTIONS": "1",
        "CRYPTOROBOT_AUTHENTICATION__THROTTLE__ADDRESS": "4",
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with ServerProcess("cryptorobot.platform:create_app", tmp_path / "a", env=environment) as node_a, \
            ServerProcess("cryptorobot.platform:create_app", tmp_path / "b", env=environment) as node_b:
        yield node_a, node_b, f"test-{run}"
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    for node in (node_a, node_b):
        assert "Traceback" not in node.output, node.output[-3000:]


async def test_budgets_and_the_throttle_are_shared(nodes: tuple[ServerProcess, ServerProcess, str]) -> None:
    node_a, node_b, _ = nodes
    async with aiohttp.ClientSession() as http:
        call = functools.partial(json_call, http)

        # The address's anonymous budget (9): each process's start-up probe of /health, a
        # sign-up and a login on A, ...
        assert (await call("POST", f"{node_a.url}/users", email="ann@example.com", password=PASSWORD))[0] == 201
        status, login = await call("POST", f"{node_a.url}/authentication", strategy="local", email="ann@example.com",
                                   password=PASSWORD)
        assert status == 201
        # Failed logins (the throttle's address count: 4), two on each process.
        for node in (node_b, node_a, node_b, node_a):
            status, _ = await call("POST", f"{node.url}/authentication", strategy="local", email="ann@example.com",
                                   password="wrong")
            assert status == 401
        status, body = await call("POST", f"{node_b.url}/authentication", strategy="local",
                                  email="ann@example.com", password=PASSWORD)
        assert (status, body["data"]["code"]) == (429, "TOO_MANY_ATTEMPTS")
        # ... four failures and a refusal make nine: the address's budget is spent on both processes.
        status, body = await call("GET", f"{node_a.url}/health")
        assert (status, body["data"]["code"]) == (429, "RATE_LIMIT_EXCEEDED")
        # The user's budget (4 per minute), spent across both processes.
        token = login["accessToken"]
        statuses = [(await call("GET", f"{node.url}/users", token))[0] for node in (node_a, node_b, node_a, node_b)]
        assert statuses == [200] * 4
        for node in (node_a, node_b):
            status, body = await call("GET", f"{node.url}/users", token)
            assert (status, body["data"]["code"], body["data"]["limit"]) == (
                429, "RATE_LIMIT_EXCEEDED", "ratelimit.tiers.free.requests")


async def test_the_newest_connection_wins_across_processes(nodes: tuple[ServerProcess, ServerProcess, str]) -> None:
    node_a, node_b, channel = nodes
    async with aiohttp.ClientSession() as http, \
            http.post(f"{node_a.url}/users", json={"email": "ann@example.com", "password": PASSWORD}) as response:
        assert response.status == 201
    login = {"strategy": "local", "email": "ann@example.com", "password": PASSWORD}
    older, newer = SocketClient(), SocketClient()
    try:
        await older.connect(node_a.url)
        assert (await older.call("create", "authentication", login, {}))[0] is None
        await newer.connect(node_b.url)
        await asyncio.wait_for(until_subscribed(channel, 2), WAIT)  # both processes listen to Redis
        assert (await newer.call("create", "authentication", login, {}))[0] is None
        await asyncio.wait_for(older.disconnected.wait(), WAIT)
        reasons = [args[0] for name, args in older.received if name == "connection-closed"]
        assert [reason["data"]["code"] for reason in reasons] == ["CONNECTION_LIMIT_EXCEEDED"]
        assert (await newer.call("find", "users", {}))[0] is None and not newer.disconnected.is_set()
    finally:
        await older.close()
        await newer.close()

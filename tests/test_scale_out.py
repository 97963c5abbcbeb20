"""Two server processes share events through Redis: a socket on one sees changes made on the other."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import aiohttp
import pytest
import redis
import redis.asyncio

from tests.conftest import WAIT, SocketClient
from tests.server_process import ServerProcess

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


pytestmark = pytest.mark.skipif(not redis_answers(), reason="no Redis on 127.0.0.1:6379 (.ci/run starts one)")


async def until_subscribed(channel: str, subscribers: int) -> None:
    """Return once `subscribers` clients listen on the Redis `channel` (Redis sends no event
    for another client's SUBSCRIBE, so this asks; wrap it in a timeout)."""
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    try:
        while (await client.pubsub_numsub(channel))[0][1] < subscribers:  # noqa: ASYNC110 - no event to wait for
            await asyncio.sleep(0.02)
    finally:
        await client.aclose()


async def test_events_cross_processes_through_redis(tmp_path: Path) -> None:
    channel = f"test-{uuid.uuid4().hex}"
    environment = {"CRYPTOROBOT_ENV": None, "CRYPTOROBOT_STORAGE": "memory",
                   "CRYPTOROBOT_SOCKETIO__REDIS_URL": REDIS_URL, "CRYPTOROBOT_SOCKETIO__REDIS_CHANNEL": channel}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with ServerProcess("tests.process_app:create_app", tmp_path / "a", env=environment) as node_a, \
            ServerProcess("tests.process_app:create_app", tmp_path / "b", env=environment) as node_b:
        listener = await SocketClient().connect(node_a.url)
        try:
            # The listener's node subscribes to Redis once its first socket connected.
            await asyncio.wait_for(until_subscribed(channel, 1), WAIT)
            async with aiohttp.ClientSession() as session, \
                    session.post(f"{node_b.url}/trades", json={"symbol": "ETH/USDT", "amount": 2}) as response:
                assert response.status == 201
                created = await response.json()
            event, payload = await listener.next_event()
            assert event == "trades created"
            assert payload == (created,)
            # ...and only once.
            assert listener.received == []
        finally:
            await listener.close()

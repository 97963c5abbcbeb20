"""Two server processes share events through Redis: a socket on one sees changes made on the other."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import aiohttp
import pytest
import redis

from tests.conftest import SocketClient
from tests.server_process import ServerProcess

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


pytestmark = pytest.mark.skipif(not redis_answers(), reason="no Redis on 127.0.0.1:6379 (.ci/run starts one)")


async def test_events_cross_processes_through_redis(tmp_path: Path) -> None:
    environment = {"CRYPTOROBOT_ENV": None, "CRYPTOROBOT_STORAGE": "memory",
                   "CRYPTOROBOT_SOCKETIO__REDIS_URL": REDIS_URL,
                   "CRYPTOROBOT_SOCKETIO__REDIS_CHANNEL": f"test-{uuid.uuid4().hex}"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with ServerProcess("tests.process_app:create_app", tmp_path / "a", env=environment) as node_a, \
            ServerProcess("tests.process_app:create_app", tmp_path / "b", env=environment) as node_b:
        listener = await SocketClient().connect(node_a.url)
        try:
            await asyncio.sleep(0.5)  # both managers subscribed before the first publish
            async with aiohttp.ClientSession() as session:
                async with session.post(f"{node_b.url}/trades", json={"symbol": "ETH/USDT", "amount": 2}) as response:
                    assert response.status == 201
                    created = await response.json()
            event, payload = await listener.next_event()
            assert event == "trades created"
            assert payload == (created,)
            # ...and only once.
            assert listener.received == []
        finally:
            await listener.close()

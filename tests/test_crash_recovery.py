"""Acknowledged writes survive SIGKILL: the embedded SQLite store loses nothing it confirmed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from tests.server_process import ServerProcess

WRITERS = 16


async def write_until_killed(server: ServerProcess, acknowledged: dict[str, dict], kill_after: int) -> None:
    """Concurrent writers; the server is killed mid-stream once `kill_after` writes were confirmed."""
    counter = iter(range(1_000_000))
    killed = asyncio.Event()

    async def writer(session: aiohttp.ClientSession) -> None:
        while not killed.is_set():
            number = next(counter)
            record = {"symbol": "BTC/USDT", "side": "buy" if number % 2 else "sell", "amount": number / 1000, "n": number}
            try:
                async with session.post(f"{server.url}/trades", json=record) as response:
                    if response.status == 201:
                        acknowledged[(await response.json())["_id"]] = record
            except (TimeoutError, aiohttp.ClientError):
                return  # the server is gone
            if len(acknowledged) >= kill_after and not killed.is_set():
                killed.set()
                server.kill()

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        await asyncio.gather(*(writer(session) for _ in range(WRITERS)))


async def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    environment = {"CRYPTOROBOT_ENV": None, "CRYPTOROBOT_STORAGE": "sqlite"}
    server = ServerProcess("tests.process_app:create_app", tmp_path, env=environment).start()
    acknowledged: dict[str, dict] = {}
    try:
        await write_until_killed(server, acknowledged, kill_after=300)
    finally:
        server.kill()
    assert server.process is not None and server.process.returncode == -9
    assert len(acknowledged) >= 300
    assert (tmp_path / "data" / "cryptorobot.db").is_file()

    restarted = ServerProcess("tests.process_app:create_app", tmp_path, env=environment, port=server.port).start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{restarted.url}/trades?$limit=0") as response:
                total = (await response.json())["total"]
            missing = []
            for id, record in acknowledged.items():
                async with session.get(f"{restarted.url}/trades/{id}") as response:
                    if response.status != 200:
                        missing.append(id)
                        continue
                    stored = await response.json()
                    assert {key: stored[key] for key in record} == record
            assert missing == []
            # Writes in flight at the kill may or may not have landed; none was invented.
            assert len(acknowledged) <= total <= len(acknowledged) + WRITERS
    finally:
        assert restarted.stop() == 0

"""Two platform processes share users through MongoDB (nx-27017) and ended sessions through
Redis or MongoDB: a logout on one ends the token on the other, for its calls at once and
for its logged-in sockets within the sweep interval."""

from __future__ import annotations

import asyncio
import functools
import uuid
from pathlib import Path

import aiohttp
import pytest

from tests.adapters import nx_server
from tests.conftest import WAIT, SocketClient
from tests.server_process import ServerProcess, json_call
from tests.test_scale_out import REDIS_URL, redis_answers

PASSWORD = "correct horse battery"


@pytest.mark.parametrize("store", ["redis", "storage"])
async def test_a_logout_on_one_process_ends_the_token_on_the_other(tmp_path: Path, store: str) -> None:
    if store == "redis" and not redis_answers():
        pytest.skip("no Redis on 127.0.0.1:6379")
    run = uuid.uuid4().hex[:12]
    environment = {
        "CRYPTOROBOT_ENV": "test", "CRYPTOROBOT_STORAGE": "mongodb", "CRYPTOROBOT_MONGODB__URL": nx_server.shared().url,
        "CRYPTOROBOT_MONGODB__DATABASE": f"sessions-{run}", "CRYPTOROBOT_AUTHENTICATION__SECRET": f"shared-{run}" * 3,
        "CRYPTOROBOT_AUTHENTICATION__REVOCATION__STORE": store,
        "CRYPTOROBOT_AUTHENTICATION__REVOCATION__REDIS_URL": REDIS_URL,
        "CRYPTOROBOT_AUTHENTICATION__REVOCATION__SWEEP_INTERVAL": "0.2",
        "CRYPTOROBOT_SOCKETIO__REDIS_CHANNEL": f"test-{run}",
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with ServerProcess("cryptorobot.platform:create_app", tmp_path / "a", env=environment) as node_a, \
            ServerProcess("cryptorobot.platform:create_app", tmp_path / "b", env=environment) as node_b:
        http = aiohttp.ClientSession()
        call = functools.partial(json_call, http)

        assert (await call("POST", f"{node_a.url}/users", email="ann@example.com", password=PASSWORD))[0] == 201
        status, login = await call("POST", f"{node_a.url}/authentication", strategy="local", email="ann@example.com",
                                   password=PASSWORD)
        assert status == 201
        token = login["accessToken"]
        socket = await SocketClient().connect(node_b.url)
        try:
            ack = await socket.call("create", "authentication", {"strategy": "jwt", "accessToken": token}, {})
            assert ack[0] is None, ack
            assert (await call("GET", f"{node_b.url}/users", token))[0] == 200
            assert (await call("DELETE", f"{node_a.url}/authentication", token))[0] == 200
            status, refused = await call("GET", f"{node_b.url}/users", token)
            assert (status, refused["message"], refused["data"]) == (
                401, "Token revoked", {"code": "TOKEN_REVOKED", "name": "TokenRevokedError", "reason": "logout"})
            # node B's sweep finds the ended token and lets its socket go.
            await asyncio.wait_for(socket.disconnected.wait(), WAIT)
        finally:
            await socket.close()
            await http.close()
    for node in (node_a, node_b):
        assert "Traceback" not in node.output, node.output[-3000:]

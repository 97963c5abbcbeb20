"""The README's "Traders: strategies at work" walkthrough, run as written: the import command of
its first block (into the server's data directory), `cryptorobot serve` with the environment
that block gives, then its curl block in bash; every line it prints is checked."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.server_process import REPO, ServerProcess

README = REPO / "README.md"


def blocks() -> list[str]:
    section = README.read_text().split("## Traders: strategies at work", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq") and shutil.which("bash")),
                    reason="the README's examples use bash, curl and jq")
async def test_the_traders_walkthrough(tmp_path: Path) -> None:
    setup, walkthrough = blocks()
    importing, serving = setup.strip().split("\nCRYPTOROBOT_", 1)
    environment = dict(pair.split("=", 1) for pair in ("CRYPTOROBOT_" + serving).split()[:-2])
    bin_dir = str(Path(sys.executable).parent)  # `python` and `cryptorobot` of this environment
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CRYPTOROBOT_ENV": "test",
           "CRYPTOROBOT_DATA_DIR": str(tmp_path / "data")}
    shell = await asyncio.create_subprocess_exec("bash", "-euo", "pipefail", "-c", importing, env=env, cwd=REPO,
                                                 stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(shell.communicate(), 60)
    assert shell.returncode == 0, err.decode()
    server = ServerProcess("cryptorobot.platform:create_app", tmp_path, env={"CRYPTOROBOT_ENV": "test", **environment})
    running = await asyncio.to_thread(server.start)
    try:
        script = walkthrough.replace("localhost:3030", running.url.removeprefix("http://"))
        shell = await asyncio.create_subprocess_exec("bash", "-euo", "pipefail", "-c", script, env=env,
                                                     stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(shell.communicate(), 90)
    finally:
        code = await asyncio.to_thread(running.stop)
    assert shell.returncode == 0 and code == 0, (err.decode(), running.output[-3000:])
    lines = out.decode().splitlines()
    assert json.loads(lines[0]) == {"status": "running", "symbol": "BTC/USDT"}
    assert [trade["side"] for trade in json.loads(lines[1])] == ["buy", "sell"]
    assert re.fullmatch(r"(bought|sold) [0-9.e-]+ BTC/USDT at [0-9.]+", lines[2]), lines[2]
    assert json.loads(lines[3]) == {"side": "buy", "type": "market", "status": "closed"}
    assert json.loads(lines[4]) == {"status": "stopped"}
    assert json.loads(lines[5])["side"] == "long"
    assert json.loads(lines[6]) == {"USDT": 0, "BTC": 0}
    assert "Traceback" not in running.output, running.output[-3000:]

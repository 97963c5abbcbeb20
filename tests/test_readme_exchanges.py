"""The README's "Exchanges and market data" examples, run as written against `cryptorobot serve`.

The curl block runs in bash (curl and jq) against a server whose binance clients are pointed
at the local Binance server the documented way (`[exchanges.ccxt.binance] urls` in a config
file), with the placeholders filled in; every answer it prints is checked. The server is
then restarted on the same data directory with the exchange unreachable: the markets and
the paper account are still there. The JavaScript block runs with Node and the official
Feathers clients.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.binance import API_KEY, SECRET, FakeBinance
from tests.interop.node_checks import MODULES, NODE
from tests.server_process import REPO, ServerProcess

README = REPO / "README.md"
PASSWORD = "correct horse battery"


def example(language: str) -> str:
    """The first `language` code block of the README's exchanges section."""
    section = README.read_text().split("## Exchanges and market data", 1)[1].split("\n## ", 1)[0]
    found = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert found, f"no {language} block in the section"
    return found.group(1)


def toml_value(value: Any) -> str:
    """A TOML literal for strings and nested tables (inline)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(key)} = {toml_value(item)}" for key, item in value.items()) + " }"
    return json.dumps(value)


def config_dir(tmp_path: Path, fake: FakeBinance) -> Path:
    """The project's configuration plus an environment that points binance at `fake`."""
    directory = tmp_path / "config"
    directory.mkdir(exist_ok=True)
    shutil.copy(REPO / "config" / "default.toml", directory / "default.toml")
    urls = fake.api_urls()
    (directory / "readme.toml").write_text(
        "[authentication]\npassword_rounds = 4\n\n"
        f"[exchanges.ccxt.binance]\nurls = {toml_value({'api': urls, 'test': urls})}\n")
    return directory


def json_values(text: str) -> list[Any]:
    """Every JSON document printed one after another."""
    decoder, values, position = json.JSONDecoder(), [], 0
    while (position := _skip_space(text, position)) < len(text):
        value, position = decoder.raw_decode(text, position)
        values.append(value)
    return values


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def get_json(url: str, token: str | None = None) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def post_json(url: str, data: dict[str, Any]) -> Any:
    request = urllib.request.Request(url, data=json.dumps(data).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def server(tmp_path: Path, fake: FakeBinance) -> ServerProcess:
    return ServerProcess("cryptorobot.platform:create_app", tmp_path,
                         env={"CRYPTOROBOT_ENV": "readme", "CRYPTOROBOT_CONFIG_DIR": str(config_dir(tmp_path, fake))})


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq") and shutil.which("bash")),
                    reason="the README's examples use bash, curl and jq")
async def test_the_curl_examples(tmp_path: Path, fake_binance: FakeBinance) -> None:
    running = await asyncio.to_thread(server(tmp_path, fake_binance).start)
    script = (example("sh").replace("localhost:3030", running.url.removeprefix("http://"))
              .replace("<your API key>", API_KEY).replace("<your secret>", SECRET)
              .replace("<a new secret>", "a-new-secret-for-binance"))
    try:
        shell = await asyncio.create_subprocess_exec("bash", "-euo", "pipefail", "-c", script,
                                                     stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(shell.communicate(), 120)
    finally:
        code = await asyncio.to_thread(running.stop)
    assert shell.returncode == 0 and code == 0, (err.decode(), running.output[-3000:])
    (user, catalogue, binance, balance, by_method, accounts, markets, mapped, invalid, check, live_balance,
     patched) = json_values(out.decode())
    assert user["email"] == "ann@example.com" and "password" not in user
    assert catalogue["total"] > 5 and catalogue["data"][0] == {"id": "alpaca", "name": "Alpaca"}
    assert binance == {"id": "binance", "requiredCredentials": ["apiKey", "secret"], "sandbox": True, "fetchOHLCV": True}
    assert balance["total"] == by_method["total"] == {"USDT": 10000.0}
    assert [(account["label"], account["paper"]) for account in accounts["data"]] == [("practice", True)]
    assert len(markets["data"]) == 10  # spot and perpetual (BTC/USDT:USDT) markets quoted in USDT
    assert all(market["symbol"].split(":")[0].endswith("/USDT") for market in markets["data"])
    assert mapped["data"] == [{"symbol": "BTC/USDT"}]
    assert (invalid["code"], invalid["data"]["code"], invalid["data"]["suggestions"][0]) == (400, "INVALID_SYMBOL",
                                                                                            "BTC/USDT")
    assert (check["ok"], check["exchange"], check["message"]) == (True, "binance", "binance accepted the credentials")
    assert live_balance == {"free": {"BTC": 1.0, "ETH": 10.0, "USDT": 10000.0}, "used": {"BTC": 0.0, "ETH": 0.0,
                            "USDT": 0.0}, "total": {"BTC": 1.0, "ETH": 10.0, "USDT": 10000.0}}
    assert (patched["label"], patched["credentials"]) == ("main", ["apiKey", "secret"])
    for secret in (API_KEY, SECRET, "a-new-secret-for-binance"):
        assert secret not in out.decode() and secret not in running.output
    assert any(path == "/api/v3/account" for _, path, _ in fake_binance.requests)  # the live calls reached binance

    # A real restart on the same data directory, the exchange out of reach.
    fake_binance.unavailable = True
    again = await asyncio.to_thread(server(tmp_path, fake_binance).start)
    try:
        token = (await asyncio.to_thread(post_json, f"{again.url}/authentication",
                                         {"strategy": "local", "email": "ann@example.com", "password": PASSWORD}))
        token = token["accessToken"]
        page = await asyncio.to_thread(get_json, f"{again.url}/exchanges/markets?exchange=binance", token)
        assert page["total"] == 3
        paper = next(account for account in accounts["data"] if account["paper"])
        after = await asyncio.to_thread(get_json, f"{again.url}/exchanges/{paper['_id']}/balance", token)
        assert after["total"] == {"USDT": 10000.0}
    finally:
        assert await asyncio.to_thread(again.stop) == 0, again.output[-3000:]


@pytest.mark.skipif(NODE is None or not (MODULES / "@feathersjs/authentication-client").is_dir(),
                    reason="needs node and `npm ci --prefix tests/interop`")
async def test_the_javascript_example(tmp_path: Path, fake_binance: FakeBinance) -> None:
    running = await asyncio.to_thread(server(tmp_path, fake_binance).start)
    try:
        await asyncio.to_thread(post_json, f"{running.url}/users", {"email": "ann@example.com", "password": PASSWORD})
        folder = tmp_path / "js"
        folder.mkdir()
        os.symlink(MODULES, folder / "node_modules")  # the Feathers clients of tests/interop
        (folder / "example.mjs").write_text(example("js").replace("http://localhost:3030", running.url))
        assert NODE is not None
        node = await asyncio.create_subprocess_exec(NODE, str(folder / "example.mjs"), stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(node.communicate(), 60)
    finally:
        code = await asyncio.to_thread(running.stop)
    assert node.returncode == 0 and code == 0, (err.decode(), running.output[-3000:])
    lines = out.decode().splitlines()
    assert lines[0] == "balance { USDT: 10000 }"
    assert lines[1:3] == ["patched event renamed", "accounts 1"]
    assert lines[3].startswith("markets ") and len(lines[3].split()) == 11
    assert lines[4].startswith("INVALID_SYMBOL [ 'BTC/USDT'")

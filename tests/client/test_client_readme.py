"""The README's "Python client" examples, run as written against a server process.

Every ```python block of the section runs in order in one namespace (top-level `await`
allowed, as in Jupyter), with only the server's URL put in place of `http://localhost:3030`.
The server is `readme_app` (the platform plus stand-ins at the trading services' paths); a
second client of the same user then makes the events the examples listen to, and what the
examples printed is checked.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from cryptorobot.client import Client
from tests.server_process import REPO, ServerProcess

WAIT = 20.0
ME = {"email": "you@example.com", "password": "your-password"}


def readme_blocks() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("\n## Python client\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```python\n(.*?)^```$", section, flags=re.DOTALL | re.MULTILINE)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess("tests.client.readme_app:create_app", Path(tmp_path_factory.mktemp("readme")),
                       env={"CRYPTOROBOT_ENV": None}) as process:
        yield process


def test_the_section_has_the_examples() -> None:
    blocks = readme_blocks()
    assert len(blocks) == 7
    for path in ("traders/pods/events", "exchanges/ticker", "traders", "trades", "models/signals", "strategies",
                 "api-keys", "candles"):
        assert any(f'service("{path}")' in block for block in blocks), path


async def run_blocks(blocks: list[str], url: str) -> dict:
    namespace: dict = {"__name__": "readme"}
    for number, block in enumerate(blocks, 1):
        code = compile(block.replace("http://localhost:3030", url), f"<README Python client block {number}>", "exec",
                       flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        outcome = eval(code, namespace)
        if inspect.iscoroutine(outcome):
            await outcome
    return namespace


async def test_the_examples_run_as_written(server) -> None:
    helper = Client(server.url, transport="rest", connect_timeout=WAIT)
    printed = io.StringIO()
    namespace: dict = {}
    try:
        await helper.service("users").create(ME)
        await helper.authenticate({"strategy": "local", **ME})
        await helper.service("strategies").create({"_id": "strat-456", "name": "Old Name", "type": "momentum",
                                                   "pair": "BTC/USDT"})
        with contextlib.redirect_stdout(printed):
            namespace = await run_blocks(readme_blocks(), server.url)
            client = namespace["client"]
            # A barrier: events reach a socket in order, handlers in registration order.
            last_signal, ticker, back = asyncio.Event(), asyncio.Event(), asyncio.Event()
            client.service("models/signals").on("created", lambda signal: last_signal.set())
            client.service("exchanges/ticker").on("patched", lambda update: ticker.set())
            client.on("reconnect", back.set)
            await make_the_events(helper)
            await asyncio.wait_for(last_signal.wait(), WAIT)
            await asyncio.wait_for(ticker.wait(), WAIT)
            await client.service("connection-drop").create({})
            await asyncio.wait_for(back.wait(), WAIT)
    finally:
        if "client" in namespace:
            await namespace["client"].close()
        await helper.close()
    output = printed.getvalue()
    for line in [
        "Pod event: {'type': 'trade_executed'",
        "[trade_executed] Bought 0.1 BTC @ 42400",
        "Bot Momentum bot is now running",
        "buy 0.1 BTC/USDT @ 42400",
        "Signal: buy BTC/USDT - confidence: 0.87",
        "'_id': 'strat-456', 'name': 'Updated Name'",
        "New API key: my bot",
        "1 ['my bot']",
        "INVALID_TIMEFRAME",
        "{'email': ['Not a valid email address.'], 'password': ['Shorter than minimum length 8.']}",
        "Connection lost — attempting to reconnect...",
        "Reconnected successfully",
    ]:
        assert line in output, f"{line!r} not printed:\n{output}"
    assert re.search(r"^Price update: \{.*'symbol': 'BTC/USDT'", output, re.MULTILINE), output
    assert re.search(r"^BTC/USDT: \d", output, re.MULTILINE), output
    lines = output.splitlines()
    assert lines[0].startswith("[{'_id': 'strat-456', 'name': 'Old Name'")  # strategies["data"]
    assert "2" in lines  # the SyncClient block: two momentum strategies by then
    assert any(re.fullmatch(r"crk_\S+", line) for line in lines)  # the key, shown once


async def make_the_events(helper: Client) -> None:
    """What the platform's services will do, done on the stand-ins (and the real ticker service) by the same user."""
    await helper.service("traders/pods/events").create({"type": "trade_executed", "podId": "pod-123",
                                                        "message": "Bought 0.1 BTC @ 42400"})
    # The real ticker service: a watched symbol reaches the user's sockets (sim's random walk).
    await helper.service("exchanges/watchlist").create({"exchange": "sim", "symbol": "BTC/USDT"})
    trader = await helper.service("traders").create({"name": "Momentum bot", "status": "stopped"})
    await helper.service("traders").patch(trader["_id"], {"status": "running"})
    await helper.service("trades").create({"side": "buy", "amount": 0.1, "symbol": "BTC/USDT", "price": 42400})
    # models/signals is the platform's: a stand-in model's signal for this user (readme_app.SignalMaker).
    await helper.service("readme/signals").create({"modelId": "m1", "model": "readme", "exchange": "sim",
                                                   "pair": "BTC/USDT", "type": "buy", "confidence": 0.87})

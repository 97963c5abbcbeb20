"""The README's "Signals, notifications, ..." Python examples work as written: a model trained
and scored without a server, and the server-code snippets (`notify`, `count_running`) on a
served platform."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from platform_support import Platform

README = Path(__file__).resolve().parents[2] / "README.md"


def examples() -> list[str]:
    text = README.read_text()
    section = text[text.index("## Signals, notifications"):text.index("## Configuration")]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


async def test_the_examples_work_as_written(platform: Platform, capsys: pytest.CaptureFixture[str]) -> None:
    training, server_code = examples()
    namespace: dict[str, Any] = {}
    exec(compile(training, "README: signal models", "exec"), namespace)
    accuracy, baseline = (float(value) for value in capsys.readouterr().out.split())
    assert 0.4 < accuracy < 0.6 and 0.4 < baseline < 0.6
    score = namespace["score"]
    assert score.type in ("buy", "sell") and 0.5 <= score.confidence <= 1

    code: dict[str, Any] = {}
    exec(compile(server_code, "README: server code", "exec"), code)
    ann, token = await platform.member("ann@example.com")
    await code["on_trader_error"](platform.app, {"userId": ann["_id"], "name": "grid", "_id": "t1"}, "boom")
    status, page = await platform.request("GET", "/messages", token=token)
    assert (status, page["data"][0]["title"], page["data"][0]["data"]) == (200, "Trader grid stopped",
                                                                          {"traderId": "t1"})
    code["report_pods"](platform.app, ["pod-1", "pod-2"])
    await platform.app.service("users").patch(ann["_id"], {"roles": ["admin"]})
    status, report = await platform.request("GET", "/status", token=token)
    assert (status, report["pods"]) == (200, {"running": 2})

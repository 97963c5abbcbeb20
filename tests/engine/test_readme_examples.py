"""The README's "Strategies and backtests" examples work as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from engine.strategies import catalogue, strategy_type, unregister

README = Path(__file__).resolve().parents[2] / "README.md"


def examples() -> list[str]:
    text = README.read_text()
    section = text[text.index("## Strategies and backtests"):].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_running_a_backtest_and_writing_a_strategy_type_work_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    backtest, new_type, *_ = examples()
    namespace: dict[str, Any] = {}
    exec(compile(backtest, "README: backtest", "exec"), namespace)
    result = namespace["result"]
    assert result.statistics["# Trades"] > 10 and namespace["record"]["options"]["symbol"] == "GOOG/USD"
    assert capsys.readouterr().out.count("\n") == 2
    try:
        exec(compile(new_type, "README: engine/strategies/types/bollinger.py", "exec"), {"__name__": "bollinger"})
        assert strategy_type("bollinger").name == "Bollinger bands"
        assert "bollinger" in {entry["type"] for entry in catalogue()}
        run = namespace["run_backtest"](namespace["candles"], "bollinger", {"width": 2.5})
        assert run.statistics["# Trades"] > 0 and run.settings["period"] == 20
    finally:
        unregister("bollinger")

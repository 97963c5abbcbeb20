"""The README's "Futures" examples work as written and print what they say."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def examples() -> list[str]:
    text = README.read_text()
    start = text.index("### Futures")
    end = min(text.index("\n## ", start), text.find("\n### ", start + 1) % len(text))
    section = text[start:end]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_the_ccxt_futures_calls_and_the_futures_backtest_run_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    calls, backtest = examples()
    exec(compile(calls, "README: futures calls", "exec"), {"__name__": "readme"})
    short, closed = capsys.readouterr().out.splitlines()
    side, contracts, entry, pnl, liquidation = short.split()
    assert (side, float(contracts), float(entry), float(pnl)) == ("short", 0.1, 60_000.0, 100.0)
    assert float(liquidation) == pytest.approx((60_000 * 0.1 + 600) / (0.1 * 1.004))
    assert closed == "[] {'free': 10094.05, 'used': 0.0, 'total': 10094.05}"  # +100, minus 3 and 2.95 of fees
    namespace: dict[str, Any] = {}
    exec(compile(backtest, "README: futures backtest", "exec"), namespace)
    result = namespace["result"]
    assert (result.trades.size < 0).any() and (result.trades.size > 0).any()  # shorts and longs
    assert capsys.readouterr().out == "61 3.28\n"

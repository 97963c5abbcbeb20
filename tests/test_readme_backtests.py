"""The README's "The backtests service" examples, run as written against `cryptorobot serve`.

The `cryptorobot candles import` line imports backtesting.py's GOOG data into a fresh data
directory; a server with a warm pool serves it; the Python block runs in its own process
with the URL filled in, and what it prints is checked against `run_backtest` on the same
candles.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import urllib.request
from pathlib import Path

import backtesting

from engine.backtest import run_backtest
from engine.candles import read_candle_file
from tests.server_process import REPO, ServerProcess

README = REPO / "README.md"
GOOG = Path(backtesting.__file__).parent / "test" / "GOOG.csv"


def section() -> str:
    return README.read_text().split("### The backtests service", 1)[1].split("\n## ", 1)[0]


def import_command() -> list[str]:
    found = re.search(r"\n    (cryptorobot candles import .*?)\n\n", section(), re.S)
    assert found, "no import command in the section"
    words = shlex.split(found.group(1).replace("\\\n", " "))
    assert words[3].endswith("backtesting/test/GOOG.csv")
    return [sys.executable, "-m", "cryptorobot.cli", *words[1:3], str(GOOG), *words[4:]]


def python_block() -> str:
    found = re.search(r"```python\n(.*?)```", section(), re.S)
    assert found, "no python block in the section"
    return found.group(1)


def test_the_readme_backtests_example_runs_as_written(tmp_path: Path) -> None:
    data = tmp_path / "data"
    subprocess.run([*import_command(), "--data-dir", str(data)], cwd=REPO, check=True, capture_output=True)
    server = ServerProcess("cryptorobot.platform:create_app", tmp_path, env={
        "CRYPTOROBOT_ENV": "test", "CRYPTOROBOT_BACKTESTS__WARM": "true", "CRYPTOROBOT_BACKTESTS__WORKERS": "2"})
    server.start(timeout=60)
    try:
        sign_up = urllib.request.Request(f"{server.url}/users", method="POST", headers={"Content-Type": "application/json"},
                                         data=json.dumps({"email": "you@example.com", "password": "your-password"}).encode())
        with urllib.request.urlopen(sign_up, timeout=10) as answer:
            assert answer.status == 201
        code = python_block().replace("http://localhost:3030", server.url)
        run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=180)
    finally:
        server.stop()
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.splitlines()
    candles, _ = read_candle_file(GOOG, "1d")
    want = run_backtest(candles, "sma_cross", {"fastPeriod": 10, "slowPeriod": 30}, symbol="GOOG/USD", cash=10_000,
                        commission=0.001)
    assert lines[0] == "loading_data"
    assert "executing 0.0" in lines and "completed 100.0" in lines
    trades, returned = lines[lines.index("completed 100.0") + 1].split()
    assert (int(trades), float(returned)) == (want.statistics["# Trades"], want.statistics["Return [%]"])
    assert lines[lines.index("completed 100.0") + 2].startswith("['placed buy market order 1: ")
    done, best, value = re.fullmatch(r"(\d+) (\{.*\}) (\S+)", lines[-1]).groups()  # type: ignore[union-attr]
    assert int(done) == 10 and "'fastPeriod'" in best and float(value) == float(value)

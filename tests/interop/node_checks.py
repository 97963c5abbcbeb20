"""Running a Node script of JSON-line checks against a real server process."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.server_process import REPO, ServerProcess

NODE = shutil.which("node")
MODULES = Path(__file__).resolve().parent / "node_modules"


def needs_node(package: str) -> list[pytest.MarkDecorator]:
    """Skip marks for a module whose script needs Node and `package` from tests/interop."""
    return [
        pytest.mark.skipif(NODE is None, reason="node is not installed (needed to run the Feathers JS clients)"),
        pytest.mark.skipif(not (MODULES / package).is_dir(),
                           reason="tests/interop/node_modules is missing: run `npm ci --prefix tests/interop`"),
    ]


class Run:
    """What one server + client run produced."""

    def __init__(self) -> None:
        self.checks: dict[str, dict[str, Any]] = {}
        self.unparsed: list[str] = []
        self.client_code: int | None = None
        self.client_stderr = ""
        self.server_code: int | None = None
        self.server_output = ""


def run_node_checks(script: Path, server: ServerProcess, timeout: float = 180, args: tuple[str, ...] = ()) -> Run:
    """Start `server`, run `node script <url> <args...>`, collect its check lines, stop the server."""
    assert NODE is not None
    run = Run()
    try:
        server.start()
        client = subprocess.run([NODE, str(script), server.url, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)
        run.client_code = client.returncode
        run.client_stderr = client.stderr
        for line in client.stdout.splitlines():
            try:
                entry = json.loads(line)
                run.checks[entry["check"]] = entry
            except (ValueError, KeyError, TypeError):
                run.unparsed.append(line)
    except Exception:
        server.kill()
        raise
    finally:
        run.server_code = server.stop()
        run.server_output = server.output
    return run


def assert_check(run: Run, name: str) -> None:
    """The named check was reported, and passed."""
    entry = run.checks.get(name)
    assert entry is not None, (
        f"check {name!r} was not reported; client exit code {run.client_code}, "
        f"stderr:\n{run.client_stderr[-3000:]}"
    )
    assert entry.get("ok") is True, f"{name} failed: {json.dumps(entry.get('detail'), indent=2)}"


def assert_nothing_else(run: Run, expected: list[str]) -> None:
    """No unexpected, unparsable or crash lines; the exit code agrees with the checks."""
    assert run.unparsed == [], run.unparsed
    extra = sorted(set(run.checks) - set(expected))
    assert extra == [], {name: run.checks[name] for name in extra}
    all_ok = all(entry.get("ok") for entry in run.checks.values())
    assert run.client_code == (0 if all_ok else 1), run.client_stderr[-3000:]

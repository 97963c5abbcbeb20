"""Interop: the official Feathers v5 JS clients against a real `cryptorobot serve` process.

`client.mjs` (run with Node) drives the server started from `tests/interop/app.py` through
`@feathersjs/rest-client` (fetch) and `@feathersjs/socketio-client`, and prints one JSON line
per check. Every check named in `EXPECTED_CHECKS` must be printed and pass, so a check the
script silently skipped fails here too. Needs `node` and `npm ci --prefix tests/interop`
(`.ci/run` does that); without them the tests skip.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SCRIPT = HERE / "client.mjs"
NODE = shutil.which("node")

_SCENARIO = [
    "create.array",
    "create.single",
    "find.paginate",
    "find.limit_skip_sort",
    "find.limit_max",
    "find.limit_zero",
    "find.in",
    "find.in_over_21_values",
    "find.nin_ne",
    "find.lt_gte",
    "find.or",
    "find.select",
    "find.value_types",
    "get",
    "patch",
    "update",
    "remove",
    "patch.multi",
    "custom_method",
    "error.not_found",
    "error.method_not_allowed",
    "error.bad_request",
    "error.multi_not_allowed",
    "nested_path",
    "route_params_and_query",
    "remove.multi",
]
_EVENTS = ["created", "patched", "updated", "removed", "nested_created"]

EXPECTED_CHECKS = [
    "socket.connect",
    *(f"rest.{name}" for name in _SCENARIO),
    *(f"socket.{name}" for name in _SCENARIO),
    *(f"socket.events.{name}" for name in _EVENTS),
    *(f"socket.events_from_rest.{name}" for name in _EVENTS),
    "socket.events.shape",
]

pytestmark = [
    pytest.mark.skipif(NODE is None, reason="node is not installed (needed to run the Feathers JS clients)"),
    pytest.mark.skipif(
        not (HERE / "node_modules" / "@feathersjs" / "socketio-client").is_dir(),
        reason="tests/interop/node_modules is missing: run `npm ci --prefix tests/interop`",
    ),
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(process: subprocess.Popen[bytes], url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/messages", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered, even if with an error status
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer on {url} within {timeout} s")


class Run:
    """What one server + client run produced."""

    def __init__(self) -> None:
        self.checks: dict[str, dict[str, Any]] = {}
        self.unparsed: list[str] = []
        self.client_code: int | None = None
        self.client_stderr = ""
        self.server_code: int | None = None
        self.server_output = ""


@pytest.fixture(scope="module")
def interop_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    run = Run()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("interop") / "server.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "cryptorobot.cli", "serve",
               "--app", "tests.interop.app:create_app", "--host", "127.0.0.1", "--port", str(port)]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_serving(server, url)
            client = subprocess.run([NODE, str(SCRIPT), url], cwd=REPO, capture_output=True, text=True, timeout=180)
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
            server.wait()
            raise
        finally:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)
                try:
                    run.server_code = server.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
                    run.server_code = None
            else:
                run.server_code = server.returncode
    run.server_output = log_path.read_text(errors="replace")
    return run


@pytest.mark.parametrize("name", EXPECTED_CHECKS)
def test_check(interop_run: Run, name: str) -> None:
    entry = interop_run.checks.get(name)
    assert entry is not None, (
        f"check {name!r} was not reported; client exit code {interop_run.client_code}, "
        f"stderr:\n{interop_run.client_stderr[-3000:]}"
    )
    assert entry.get("ok") is True, f"{name} failed: {json.dumps(entry.get('detail'), indent=2)}"


def test_client_reported_nothing_else(interop_run: Run) -> None:
    """No unexpected, unparsable or crash lines; the exit code agrees with the checks."""
    assert interop_run.unparsed == [], interop_run.unparsed
    extra = sorted(set(interop_run.checks) - set(EXPECTED_CHECKS))
    assert extra == [], {name: interop_run.checks[name] for name in extra}
    all_ok = all(entry.get("ok") for entry in interop_run.checks.values())
    assert interop_run.client_code == (0 if all_ok else 1), interop_run.client_stderr[-3000:]


def test_server_stops_cleanly_on_sigterm(interop_run: Run) -> None:
    assert interop_run.server_code == 0, (
        f"server exit code {interop_run.server_code}; output:\n{interop_run.server_output[-3000:]}"
    )


def test_server_logged_no_traceback(interop_run: Run) -> None:
    """Every failure the client provoked is a Feathers error, never an unhandled exception."""
    assert "Traceback" not in interop_run.server_output, interop_run.server_output[-5000:]

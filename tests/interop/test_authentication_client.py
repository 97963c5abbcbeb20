"""Interop: `@feathersjs/authentication-client` against a real `cryptorobot serve` of the platform.

`auth_client.mjs` logs in over REST and Socket.IO, and checks that after the server drops
the socket the client reconnects, re-authenticates with its stored token and its next call
succeeds without the password (feathers-wire 4.7, 7.10). Needs `node` and
`npm ci --prefix tests/interop`; without them the tests skip.
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
SCRIPT = HERE / "auth_client.mjs"
NODE = shutil.which("node")

EXPECTED_CHECKS = [
    "rest.sign_up",
    "rest.wrong_password",
    "rest.login",
    "rest.protected_call",
    "rest.anonymous_call",
    "rest.reauthenticate",
    "rest.logout",
    "socket.connect",
    "socket.sign_up",
    "socket.anonymous_call",
    "socket.wrong_password",
    "socket.login",
    "socket.protected_call",
    "socket.dropped_by_server",
    "socket.call_after_reconnect",
    "socket.server_saw_a_token_login_on_the_new_connection",
    "socket.events_after_reconnect",
    "socket.logout",
]

pytestmark = [
    pytest.mark.skipif(NODE is None, reason="node is not installed (needed to run the Feathers JS clients)"),
    pytest.mark.skipif(
        not (HERE / "node_modules" / "@feathersjs" / "authentication-client").is_dir(),
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
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer on {url} within {timeout} s")


class Run:
    def __init__(self) -> None:
        self.checks: dict[str, dict[str, Any]] = {}
        self.unparsed: list[str] = []
        self.client_code: int | None = None
        self.client_stderr = ""
        self.server_code: int | None = None
        self.server_output = ""


@pytest.fixture(scope="module")
def auth_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    run = Run()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    workdir = tmp_path_factory.mktemp("auth-interop")
    log_path = workdir / "server.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "CRYPTOROBOT_DATA_DIR": str(workdir / "data")}
    env.pop("CRYPTOROBOT_ENV", None)
    command = [sys.executable, "-m", "cryptorobot.cli", "serve",
               "--app", "tests.interop.auth_app:create_app", "--host", "127.0.0.1", "--port", str(port)]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_serving(server, url)
            client = subprocess.run([NODE, str(SCRIPT), url], cwd=REPO, capture_output=True, text=True, timeout=120)
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
            else:
                run.server_code = server.returncode
    run.server_output = log_path.read_text(errors="replace")
    return run


@pytest.mark.parametrize("name", EXPECTED_CHECKS)
def test_check(auth_run: Run, name: str) -> None:
    entry = auth_run.checks.get(name)
    assert entry is not None, (
        f"check {name!r} was not reported; client exit code {auth_run.client_code}, "
        f"stderr:\n{auth_run.client_stderr[-3000:]}"
    )
    assert entry.get("ok") is True, f"{name} failed: {json.dumps(entry.get('detail'), indent=2)}"


def test_client_reported_nothing_else(auth_run: Run) -> None:
    assert auth_run.unparsed == [], auth_run.unparsed
    extra = sorted(set(auth_run.checks) - set(EXPECTED_CHECKS))
    assert extra == [], {name: auth_run.checks[name] for name in extra}
    all_ok = all(entry.get("ok") for entry in auth_run.checks.values())
    assert auth_run.client_code == (0 if all_ok else 1), auth_run.client_stderr[-3000:]


def test_server_stops_cleanly_and_logged_no_traceback(auth_run: Run) -> None:
    assert auth_run.server_code == 0, auth_run.server_output[-3000:]
    assert "Traceback" not in auth_run.server_output, auth_run.server_output[-5000:]

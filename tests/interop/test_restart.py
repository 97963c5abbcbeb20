"""Interop: the official Feathers clients survive a server restart, and SIGTERM is prompt.

`restart_client.mjs` logs in with `@feathersjs/authentication-client` over
`@feathersjs/socketio-client` and opens `OTHER_SOCKETS` more Socket.IO sockets. Then the server
process gets SIGTERM and a new one starts on the same port and data directory (SQLite, the
same JWT secret). The clients must see a lost connection, reconnect by themselves, and the
Feathers client must log in again with its stored token so that its next call succeeds.

SIGTERM with all those sockets open and no call in progress must end the process within
`EXIT_BOUND` seconds of the signal (it took 30 s while every socket was told
"io server disconnect" and aiohttp waited for the clients to close). A generous bound of
behaviour, not a benchmark: the machine is shared.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.interop.node_checks import NODE, Run, assert_check, assert_nothing_else, needs_node
from tests.server_process import REPO, ServerProcess

pytestmark = needs_node("@feathersjs/authentication-client")

SCRIPT = Path(__file__).resolve().parent / "restart_client.mjs"
OTHER_SOCKETS = 150
EXIT_BOUND = 10.0
WAIT = 120.0

EXPECTED_CHECKS = [
    "socket.login",
    "sockets.connected",
    "ready",
    "socket.lost_connection",
    "sockets.lost_connection",
    "socket.reconnected",
    "socket.reauthenticated",
    "socket.call_after_restart",
    "sockets.reconnected",
]


class Lines:
    """The client's stdout lines as they come, read by a thread."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.run = Run()
        assert process.stdout is not None
        stdout = process.stdout
        threading.Thread(target=self._read, args=(stdout,), daemon=True).start()

    def _read(self, stdout: object) -> None:
        for line in stdout:  # type: ignore[attr-defined]
            self.queue.put(line)
        self.queue.put(None)

    def until(self, check: str | None, timeout: float) -> bool:
        """Record lines until `check` is reported (True), or the output ends or `timeout`
        seconds pass (False)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.queue.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                return False
            if line is None:
                return False
            try:
                entry = json.loads(line)
                self.run.checks[entry["check"]] = entry
            except (ValueError, KeyError, TypeError):
                self.run.unparsed.append(line)
                continue
            if entry["check"] == check:
                return True


@pytest.fixture(scope="module")
def restart(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, int | None, float]:
    """Run the client across one restart: (its checks, the stop's exit code, seconds from
    SIGTERM to exit)."""
    assert NODE is not None
    server = ServerProcess("tests.interop.auth_app:create_app", tmp_path_factory.mktemp("restart"),
                           env={"CRYPTOROBOT_ENV": None, "CRYPTOROBOT_STORAGE": "sqlite"})
    client = None
    try:
        server.start()
        client = subprocess.Popen([NODE, str(SCRIPT), server.url, str(OTHER_SOCKETS)], cwd=REPO,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = Lines(client)
        code, exit_after = None, float("inf")
        if lines.until("ready", WAIT):
            assert server.process is not None
            signalled = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            code = server.process.wait(timeout=WAIT)
            exit_after = time.monotonic() - signalled
            server.start()  # same port, same data directory
            assert client.stdin is not None
            client.stdin.write("restarted\n")
            client.stdin.flush()
        lines.until(None, WAIT)
        if client.poll() is None:
            client.kill()
        lines.run.client_code = client.wait()
        assert client.stderr is not None
        lines.run.client_stderr = client.stderr.read()
        return lines.run, code, exit_after
    finally:
        if client is not None and client.poll() is None:
            client.kill()
        server.stop()


@pytest.mark.parametrize("name", EXPECTED_CHECKS)
def test_restart_check(restart: tuple[Run, int | None, float], name: str) -> None:
    assert_check(restart[0], name)


def test_nothing_unexpected(restart: tuple[Run, int | None, float]) -> None:
    assert_nothing_else(restart[0], EXPECTED_CHECKS)


def test_sigterm_ends_the_process_promptly_with_many_sockets_open(restart: tuple[Run, int | None, float]) -> None:
    _, code, exit_after = restart
    assert code == 0
    assert exit_after < EXIT_BOUND, f"the server took {exit_after:.1f} s to stop"

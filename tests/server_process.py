"""A real `cryptorobot serve` process for tests that need one (interop, crash recovery)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

REPO = Path(__file__).resolve().parents[1]


async def json_call(http: Any, method: str, url: str, token: str | None = None, **body: object) -> tuple[int, Any]:
    """One JSON request with an aiohttp session (`token`: a bearer token; `body`: the JSON
    object sent, none when empty): the status and the decoded answer."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.request(method, url, json=body or None, headers=headers) as response:
        return response.status, await response.json()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """`cryptorobot serve --app <spec>` on a free port, its output kept in `<workdir>/server.log`.

    `env` adds to the environment; a None value removes that variable.
    """

    def __init__(self, app_spec: str, workdir: Path, *, env: dict[str, str | None] | None = None,
                 probe: str = "/health", port: int | None = None) -> None:
        self.app_spec = app_spec
        self.workdir = workdir
        self.probe = probe
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "server.log"
        merged = {**os.environ, "PYTHONUNBUFFERED": "1", "CRYPTOROBOT_DATA_DIR": str(workdir / "data"), **(env or {})}
        self.env = {name: value for name, value in merged.items() if value is not None}  # None: unset
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> ServerProcess:
        command = [sys.executable, "-m", "cryptorobot.cli", "serve", "--app", self.app_spec,
                   "--host", "127.0.0.1", "--port", str(self.port)]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_serving(timeout)
        return self

    def _wait_until_serving(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited early with code {self.process.returncode}:\n{self.output[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}{self.probe}", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answered, even if with an error status
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the server did not answer on {self.url} within {timeout} s")

    def stop(self, timeout: float = 40.0) -> int | None:
        """SIGTERM, then the exit code (None if it had to be killed)."""
        if self.process is None:
            return None
        if self.process.poll() is not None:
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to flush or close anything."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        if error is not None:
            self.kill()
        else:
            self.stop()

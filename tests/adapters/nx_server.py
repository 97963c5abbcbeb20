"""nx-27017 (a MongoDB wire-protocol server on SQLite) as a child process for tests.

`NxServer` runs one server on a free port with its own temporary directory (databases in
`--data-dir`, so each logical database is its own file, see storage-notes.md); `stop()`
ends the process and removes the directory, and `start()` again brings it back on the
same port with the same data. `shared()` is the one server of a test session, started on
first use; `stop_shared()` (called at the end of the session, and at exit as a fallback)
stops it, so no process outlives the tests.
"""

from __future__ import annotations

import atexit
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.server_process import free_port

__all__ = ["NxServer", "shared", "stop_shared"]

START_TIMEOUT = 30.0


def _executable() -> str:
    local = Path(sys.executable).with_name("nx-27017")
    found = str(local) if local.exists() else shutil.which("nx-27017")
    if not found:
        raise RuntimeError("nx-27017 is not installed (pip install nx-27017)")
    return found


def _parent_death_signal() -> Callable[[], None] | None:
    """A `preexec_fn` (Linux): the child gets SIGTERM when the test process dies, even by
    SIGKILL. Resolved here, in the parent, so the forked child only makes one C call."""
    try:
        import ctypes

        prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


_PREEXEC = _parent_death_signal()


class NxServer:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="nx-27017-"))
        self.data_dir = self.root / "data"
        self.data_dir.mkdir()
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self) -> NxServer:
        if self.process is not None and self.process.poll() is None:
            return self
        log = self.root / "server.log"
        command = [_executable(), "--data-dir", str(self.data_dir), "--host", "127.0.0.1", "-p", str(self.port),
                   "--pid-file", str(self.root / "server.pid"), "--log-file", str(log)]
        with open(self.root / "stdout.log", "ab") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            preexec_fn=_PREEXEC)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                details = (self.root / "stdout.log").read_text(errors="replace")[-2000:]
                self.process = None
                raise RuntimeError(f"nx-27017 exited at start-up:\n{details}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop_process()
        raise RuntimeError(f"nx-27017 did not listen on port {self.port} within {START_TIMEOUT} s")

    def stop_process(self) -> None:
        """End the server process; its data directory stays for a restart."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop(self) -> None:
        """End the process and remove every file it made."""
        self.stop_process()
        shutil.rmtree(self.root, ignore_errors=True)


_shared: NxServer | None = None


def shared() -> NxServer:
    """The session's server, started on first use."""
    global _shared
    if _shared is None:
        server = NxServer()
        try:
            server.start()
        except BaseException:
            server.stop()
            raise
        _shared = server
        atexit.register(stop_shared)
    return _shared


def stop_shared() -> None:
    global _shared
    server, _shared = _shared, None
    if server is not None:
        server.stop()


"""One Node process answering many JSON inputs: one JSON line in, one JSON line out.

Differential tests send the same inputs to a Node script (Feathers or qs themselves) and to
cryptorobot, then compare. Starting Node once per module keeps hundreds of inputs cheap.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tests.interop.node_checks import NODE
from tests.server_process import REPO


class NodeLines:
    """`node <script>` kept running; `ask` and `ask_all` send inputs and return its answers."""

    def __init__(self, script: Path) -> None:
        assert NODE is not None
        self.script = script
        self.process = subprocess.Popen([NODE, str(script)], cwd=REPO, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        encoding="utf-8")

    def ask(self, value: Any) -> Any:
        """The script's answer to one input."""
        return self.ask_all([value])[0]

    def ask_all(self, values: Sequence[Any]) -> list[Any]:
        """The script's answers to many inputs, in order (written from a thread, so neither
        pipe can fill up while the other waits)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        stdin = self.process.stdin

        def write() -> None:
            for value in values:
                stdin.write(json.dumps(value) + "\n")
            stdin.flush()

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        answers = []
        for _ in values:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"{self.script.name} stopped answering:\n{self._stderr()}")
            answers.append(json.loads(line))
        writer.join()
        return answers

    def _stderr(self) -> str:
        self.close()
        assert self.process.stderr is not None
        return self.process.stderr.read()[-3000:]

    def close(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def node_lines(script: Path) -> Iterator[NodeLines]:
    """Body of a module-scoped fixture: the running script, closed afterwards."""
    runner = NodeLines(script)
    try:
        yield runner
    finally:
        runner.close()

"""The client is part of the framework: importing it loads nothing of the platform."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.server_process import REPO

PROBE = """
import json, sys
import cryptorobot.client
platform = {"engine", "services", "hooks", "channels"}
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in platform or m == "cryptorobot.platform")))
"""


def test_the_client_never_imports_the_platform() -> None:
    loaded = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, check=True)
    assert json.loads(loaded.stdout) == []

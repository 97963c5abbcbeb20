"""The README's "A realtime API in 15 lines", run as written: the module saved as
`mymodule.py`, `cryptorobot serve --app mymodule:app`, and the curl line (on a free port)."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from pathlib import Path

from tests.server_process import REPO, ServerProcess

SECTION = (REPO / "README.md").read_text().split("## A realtime API in 15 lines", 1)[1].split("\n## ", 1)[0]


def test_the_quickstart_serves_and_filters_as_shown(tmp_path: Path) -> None:
    module = re.search(r"```python\n(.*?)```", SECTION, re.S)
    commands = re.findall(r"^    (cryptorobot serve .*|curl .*)$", SECTION, re.M)
    assert module and len(commands) == 2 and commands[0].startswith("cryptorobot serve --app mymodule:app")
    (tmp_path / "mymodule.py").write_text(module.group(1))
    with ServerProcess("mymodule:app", tmp_path, env={"PYTHONPATH": str(tmp_path)}, probe="/strategies") as server:
        for name, kind in (("a", "momentum"), ("b", "grid"), ("c", "momentum")):
            request = urllib.request.Request(f"{server.url}/strategies", json.dumps({"name": name, "type": kind}).encode(),
                                             {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=10) as response:
                assert json.loads(response.read())["source"] == "rest"  # the README's `stamp` hook ran
        curl = commands[1].replace("localhost:3030", f"127.0.0.1:{server.port}")
        answer = json.loads(subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=20,
                                           check=True).stdout)
    assert [record["name"] for record in answer["data"]] == ["c", "a"]
    assert answer["total"] == 2 and answer["limit"] == 10

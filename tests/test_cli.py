import sys
from pathlib import Path

import pytest

from cryptorobot import App
from cryptorobot.cli import load_app, main

SAMPLE = '''
from cryptorobot import App

class Traders:
    async def find(self, params): return []
    async def get(self, id, params): return {"id": id}
    async def start(self, data, params): return {"started": True}

def create_app():
    app = App()
    app.use("traders", Traders(), {"methods": ["find", "get", "start"], "events": ["status"]})
    return app

app = create_app()
not_an_app = 42
'''


@pytest.fixture
def sample_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "cli_sample_app.py").write_text(SAMPLE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "cli_sample_app"
    sys.modules.pop("cli_sample_app", None)


def test_load_app_accepts_an_app_or_a_factory(sample_module: str) -> None:
    assert isinstance(load_app(f"{sample_module}:app"), App)
    assert isinstance(load_app(f"{sample_module}:create_app"), App)


def test_load_app_rejects_other_things(sample_module: str) -> None:
    with pytest.raises(SystemExit):
        load_app(f"{sample_module}:not_an_app")
    with pytest.raises(SystemExit):
        load_app(sample_module)


def test_routes_lists_paths_methods_and_events(sample_module: str, capsys: pytest.CaptureFixture[str]) -> None:
    main(["routes", "--app", f"{sample_module}:create_app"])
    out = capsys.readouterr().out
    assert "traders  find, get, start" in out
    assert "events: created, updated, patched, removed, status" in out


def test_platform_routes_include_health(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRYPTOROBOT_ENV", "test")
    main(["routes"])
    assert "health" in capsys.readouterr().out

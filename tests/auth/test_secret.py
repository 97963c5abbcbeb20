"""The JWT secret: configured, or generated once per data directory; production needs one."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from cryptorobot import App
from cryptorobot.auth import configure_authentication, resolve_secret
from cryptorobot.auth.secret import SECRET_FILE
from cryptorobot.config import load_config


def test_configured_secret_wins(tmp_path: Path) -> None:
    assert resolve_secret("configured one", tmp_path, "production") == "configured one"
    assert not (tmp_path / SECRET_FILE).exists()


@pytest.mark.parametrize("configured", [None, ""])
def test_production_refuses_without_a_secret(tmp_path: Path, configured: str | None) -> None:
    with pytest.raises(RuntimeError, match="CRYPTOROBOT_AUTHENTICATION__SECRET"):
        resolve_secret(configured, tmp_path, "production")
    assert not (tmp_path / SECRET_FILE).exists()


def test_generated_once_and_kept_in_the_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "data" / "nested"
    first = resolve_secret("", data_dir, "development")
    path = data_dir / SECRET_FILE
    assert path.read_text() == first
    assert len(first) >= 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert resolve_secret(None, data_dir, "development") == first
    assert resolve_secret(None, data_dir, "test") == first
    assert sorted(p.name for p in data_dir.iterdir()) == [SECRET_FILE]  # no drafts left behind


def test_each_data_dir_gets_its_own(tmp_path: Path) -> None:
    assert resolve_secret("", tmp_path / "a", "development") != resolve_secret("", tmp_path / "b", "development")


@pytest.mark.parametrize("round", range(20))
def test_concurrent_starts_agree_on_one_secret(tmp_path: Path, round: int) -> None:
    """Workers starting together never see a half-written (empty) secret file."""
    found: list[str] = []
    failed: list[BaseException] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        try:
            found.append(resolve_secret("", tmp_path, "development"))
        except BaseException as error:
            failed.append(error)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    assert len(found) == 8 and len(set(found)) == 1 and found[0]
    assert (tmp_path / SECRET_FILE).read_text() == found[0]


def test_an_empty_secret_file_is_an_error_not_an_empty_key(tmp_path: Path) -> None:
    (tmp_path / SECRET_FILE).write_text("\n")
    with pytest.raises(RuntimeError, match="is empty"):
        resolve_secret("", tmp_path, "development")


def _app(tmp_path: Path, env: str, environ: dict[str, str]) -> App:
    config = load_config(env, environ=environ)
    return App({**config, "data_dir": str(tmp_path)})


def test_secret_from_the_environment(tmp_path: Path) -> None:
    service = configure_authentication(_app(tmp_path, "production", {"CRYPTOROBOT_AUTHENTICATION__SECRET": "from-env-" * 8}))
    token = service.tokens.create("1")
    assert service.tokens.verify(token)["sub"] == "1"
    assert service.tokens._secret == "from-env-" * 8
    assert not (tmp_path / SECRET_FILE).exists()


def test_production_app_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"production needs authentication\.secret"):
        configure_authentication(_app(tmp_path, "production", {}))


def test_development_app_uses_the_generated_secret(tmp_path: Path) -> None:
    service = configure_authentication(_app(tmp_path, "development", {}))
    assert service.tokens._secret == (tmp_path / SECRET_FILE).read_text()
    again = configure_authentication(_app(tmp_path, "development", {}))
    assert again.tokens.verify(service.tokens.create("9"))["sub"] == "9"  # tokens survive a restart

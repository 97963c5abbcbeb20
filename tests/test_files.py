"""Data files are the server user's only: directories 0700, files 0600 (cryptorobot/files.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from cryptorobot.config import load_config
from cryptorobot.files import private_directory, private_file, private_umask


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_platforms_data_directory_is_private(tmp_path: Path, serve: Any) -> None:
    from cryptorobot.platform import create_app

    data = tmp_path / "fresh" / "data"
    previous = os.umask(0o022)  # the usual umask: files 0644 unless we say otherwise
    try:
        app = create_app({**load_config("test", environ={}), "storage": "sqlite", "data_dir": str(data)})
        client = await serve(app)
        response = await client.post("/users", json={"email": "ann@example.com", "password": "correct horse battery"})
        assert response.status == 201
    finally:
        os.umask(previous)
    assert {path.name: oct(mode(path)) for path in sorted(data.iterdir())} == {
        name: oct(0o600)
        for name in ("candles.db", "candles.db-shm", "candles.db-wal", "credentials-key", "cryptorobot.db", "cryptorobot.db-shm",
                     "cryptorobot.db-wal", "jwt-secret")}
    assert (mode(data), mode(data.parent)) == (0o700, 0o700)


def test_an_existing_world_readable_file_is_taken_back(tmp_path: Path) -> None:
    old = tmp_path / "cryptorobot.db"
    old.write_text("")
    old.chmod(0o644)
    private_file(old)
    assert mode(old) == 0o600


def test_existing_directories_are_left_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    private_directory(tmp_path / "a" / "b")
    assert (mode(tmp_path), mode(tmp_path / "a"), mode(tmp_path / "a" / "b")) == (0o755, 0o700, 0o700)


def test_the_servers_umask_makes_every_new_file_private(tmp_path: Path) -> None:
    previous = private_umask()
    try:
        (tmp_path / "anything").write_text("x")
        (tmp_path / "directory").mkdir()
    finally:
        os.umask(previous)
    assert (mode(tmp_path / "anything"), mode(tmp_path / "directory")) == (0o600, 0o700)


def test_a_served_data_directory_is_private(tmp_path: Path) -> None:
    """`cryptorobot serve` (umask 077 and the explicit modes) with the platform on SQLite."""
    from tests.server_process import ServerProcess

    with ServerProcess("cryptorobot.platform:create_app", tmp_path,
                       env={"CRYPTOROBOT_ENV": "test", "CRYPTOROBOT_STORAGE": "sqlite"}) as server:
        assert server.process is not None
    data = tmp_path / "data"
    modes = {path.name: mode(path) for path in data.iterdir()}
    assert modes and set(modes.values()) == {0o600}, modes
    assert mode(data) == 0o700

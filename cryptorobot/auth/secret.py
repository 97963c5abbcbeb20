"""Secrets kept in the data directory: the JWT secret, and any other generated key.

A secret in the code would sign valid tokens for every installation; a generated one is
kept in `<data dir>/jwt-secret` (mode 0600) so tokens survive restarts. Production refuses
to start without a configured secret. `stored_secret(path, generate)` is the shared part:
read a secret file, or create it once, atomically, for keys other than the JWT secret.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from ..files import private_directory

__all__ = ["resolve_secret", "stored_secret", "SECRET_FILE"]

SECRET_FILE = "jwt-secret"


def resolve_secret(configured: str | None, data_dir: str | os.PathLike[str], env: str) -> str:
    if configured:
        return configured
    if env == "production":
        raise RuntimeError("production needs authentication.secret (CRYPTOROBOT_AUTHENTICATION__SECRET)")
    return stored_secret(Path(data_dir) / SECRET_FILE, lambda: secrets.token_urlsafe(48))


def stored_secret(path: Path, generate: Callable[[], str]) -> str:
    """The secret in the file at `path`, created with `generate()` (mode 0600) when missing.

    The file is written completely under a private name, then linked into place: a process
    starting at the same moment sees either no file or the whole secret, never an empty
    one, and two processes racing agree on the first one linked. RuntimeError for an empty file.
    """
    if path.is_file():
        return _read(path)
    private_directory(path.parent)
    secret = generate()
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secret)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(draft, path)
        except FileExistsError:  # another process created it first: use theirs
            return _read(path)
    finally:
        draft.unlink(missing_ok=True)
    return secret


def _read(path: Path) -> str:
    secret = path.read_text().strip()
    if not secret:
        raise RuntimeError(f"{path} is empty; delete it to generate a new secret")
    return secret

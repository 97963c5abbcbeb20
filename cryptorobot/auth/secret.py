"""The JWT secret: configured, or generated once per data directory for development.

A secret in the code would sign valid tokens for every installation; a generated one is
kept in `<data dir>/jwt-secret` (mode 0600) so tokens survive restarts. Production refuses
to start without a configured secret.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from ..files import private_directory

__all__ = ["resolve_secret", "SECRET_FILE"]

SECRET_FILE = "jwt-secret"


def resolve_secret(configured: str | None, data_dir: str | os.PathLike[str], env: str) -> str:
    if configured:
        return configured
    if env == "production":
        raise RuntimeError("production needs authentication.secret (CRYPTOROBOT_AUTHENTICATION__SECRET)")
    path = Path(data_dir) / SECRET_FILE
    if path.is_file():
        return _read(path)
    private_directory(path.parent)
    secret = secrets.token_urlsafe(48)
    # Written completely under a private name, then linked into place: a process starting at
    # the same moment sees either no file or the whole secret, never an empty one.
    draft = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
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

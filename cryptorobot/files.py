"""Files and directories under the data directory, readable by the server's user only.

The data directory holds the SQLite database (every user's records, password hashes,
API-key hashes) and the generated JWT secret (which signs valid tokens for anyone):
directories are created 0700 and files 0600, whatever the umask. `cryptorobot serve` also
sets the umask to 077 (`private_umask`), so files that other code creates there (and
SQLite's `-wal`/`-shm` companions) are private too.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DIRECTORY_MODE", "FILE_MODE", "private_database", "private_directory", "private_file", "private_umask", "restrict"]

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_directory(path: str | os.PathLike[str]) -> Path:
    """`path` as a directory; the levels created here are 0700 (existing ones are left as
    they are: a data directory may be a mount point the operator set up)."""
    directory = Path(path)
    missing = []
    probe = directory
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for level in reversed(missing):
        try:
            level.mkdir(mode=DIRECTORY_MODE)
        except FileExistsError:  # made by another process meanwhile
            continue
        os.chmod(level, DIRECTORY_MODE)  # mkdir's mode is reduced by the umask, never widened
    return directory


def private_file(path: str | os.PathLike[str]) -> Path:
    """Create `path` empty with mode 0600 if it does not exist, or take an existing file of
    ours back to 0600 (`restrict`). The parent is made with `private_directory`."""
    file = Path(path)
    private_directory(file.parent)
    try:
        descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        restrict(file)
    else:
        os.close(descriptor)
    return file


def private_database(path: str | os.PathLike[str]) -> Path:
    """A SQLite database file and its journals (`-wal`, `-shm`, `-journal`) for the server's
    user only: the file created 0600 before SQLite opens it (SQLite gives its journals the
    database's mode), journals an older version left readable taken back to 0600."""
    file = private_file(path)
    for companion in ("-wal", "-shm", "-journal"):
        restrict(f"{file}{companion}")
    return file


def restrict(path: str | os.PathLike[str]) -> None:
    """Take an existing file of ours that others may read (one an older version wrote
    0644) to 0600; a missing file, or someone else's, is left alone."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return
    if status.st_uid == os.geteuid() and status.st_mode & 0o077:
        os.chmod(path, FILE_MODE)


def private_umask() -> int:
    """Set the process umask to 077 (new files 0600, directories 0700); the old umask."""
    return os.umask(0o077)

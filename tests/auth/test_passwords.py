"""Password hashing: bcrypt at the configured cost, always in a worker thread."""

from __future__ import annotations

import threading

import bcrypt
import pytest

from cryptorobot.auth import passwords
from cryptorobot.auth.passwords import MAX_PASSWORD_BYTES, hash_password, verify_password


async def test_hash_is_bcrypt_at_the_given_cost() -> None:
    hashed = await hash_password("correct horse", rounds=4)
    assert hashed.startswith("$2b$04$") and len(hashed) == 60
    assert bcrypt.checkpw(b"correct horse", hashed.encode())


async def test_every_hash_is_salted() -> None:
    assert await hash_password("same password", 4) != await hash_password("same password", 4)


async def test_verify() -> None:
    hashed = await hash_password("correct horse", 4)
    assert await verify_password("correct horse", hashed) is True
    assert await verify_password("correct horsf", hashed) is False
    assert await verify_password("", hashed) is False


async def test_verify_accepts_feathers_bcryptjs_hashes() -> None:
    """bcryptjs (Feathers' local strategy) writes `$2a$`."""
    hashed = bcrypt.hashpw(b"from feathers", bcrypt.gensalt(4, prefix=b"2a")).decode()
    assert hashed.startswith("$2a$04$")
    assert await verify_password("from feathers", hashed) is True


@pytest.mark.parametrize("stored", ["", "plain text", "$2b$04$short", "\u00e9\u00e9"])
async def test_malformed_hashes_never_match(stored: str) -> None:
    assert await verify_password("plain text", stored) is False


async def test_longer_than_72_bytes_is_refused_not_truncated() -> None:
    with pytest.raises(ValueError, match="72 bytes"):
        await hash_password("\u00e9" * 37, 4)  # 37 characters, 74 bytes
    hashed = await hash_password("a" * MAX_PASSWORD_BYTES, 4)
    assert await verify_password("a" * MAX_PASSWORD_BYTES, hashed) is True
    assert await verify_password("a" * MAX_PASSWORD_BYTES + "b", hashed) is False


async def test_hashing_and_checking_run_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    real_hash, real_check = bcrypt.hashpw, bcrypt.checkpw

    def hashpw(*args):
        threads.append(threading.current_thread().name)
        return real_hash(*args)

    def checkpw(*args):
        threads.append(threading.current_thread().name)
        return real_check(*args)

    monkeypatch.setattr(passwords.bcrypt, "hashpw", hashpw)
    monkeypatch.setattr(passwords.bcrypt, "checkpw", checkpw)
    hashed = await hash_password("correct horse", 4)
    await verify_password("correct horse", hashed)
    loop_thread = threading.current_thread().name
    assert len(threads) == 2 and loop_thread not in threads, (loop_thread, threads)

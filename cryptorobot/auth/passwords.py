"""Password hashing with bcrypt, always off the event loop (a hash takes tens of ms).

bcrypt rather than argon2: Feathers' local strategy writes bcrypt (`$2a$`/`$2b$`), so a
database shared with a Feathers deployment keeps working in both directions.
"""

from __future__ import annotations

import asyncio

import bcrypt

__all__ = ["hash_password", "verify_password", "DEFAULT_ROUNDS", "MAX_PASSWORD_BYTES"]

DEFAULT_ROUNDS = 12
# bcrypt only reads the first 72 bytes; longer input is refused rather than silently cut.
MAX_PASSWORD_BYTES = 72


def _encode(password: str) -> bytes:
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_PASSWORD_BYTES:
        raise ValueError(f"passwords are limited to {MAX_PASSWORD_BYTES} bytes")
    return encoded


async def hash_password(password: str, rounds: int = DEFAULT_ROUNDS) -> str:
    encoded = _encode(password)
    hashed = await asyncio.to_thread(bcrypt.hashpw, encoded, bcrypt.gensalt(rounds))
    return hashed.decode("ascii")


async def verify_password(password: str, hashed: str) -> bool:
    """Constant-time comparison through bcrypt; malformed hashes simply do not match."""
    try:
        encoded = _encode(password)
        return await asyncio.to_thread(bcrypt.checkpw, encoded, hashed.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return False

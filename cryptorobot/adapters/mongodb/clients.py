"""One `AsyncMongoClient` per URL (and options) per event loop, shared by every service.

A client holds a connection pool and monitors the servers; each persisted service opening
its own would multiply both. Services given a `url` take a share with `acquire` in `setup`
and give it back with `release` in `teardown`; the last one out closes the client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from pymongo import AsyncMongoClient

__all__ = ["DEFAULT_OPTIONS", "acquire", "release"]

DEFAULT_OPTIONS: dict[str, Any] = {
    "serverSelectionTimeoutMS": 5000,
    "appname": "cryptorobot",
}
"""Client options unless the URL or `client_options` set them: a request waits at most 5 s
for a reachable server (then answers 503) instead of PyMongo's 30 s."""

_shared: dict[tuple[Any, ...], list[Any]] = {}  # key -> [client, users]


def _key(url: str, options: Mapping[str, Any]) -> tuple[Any, ...]:
    return (url, repr(sorted(options.items())), asyncio.get_running_loop())


def _options(url: str, options: Mapping[str, Any]) -> dict[str, Any]:
    in_url = url.lower()
    chosen = {name: value for name, value in DEFAULT_OPTIONS.items() if f"{name.lower()}=" not in in_url}
    return {**chosen, **options}


def acquire(url: str, options: Mapping[str, Any] | None = None) -> Any:
    """The shared client for `url` on the running loop (created on first use)."""
    options = dict(options or {})
    key = _key(url, options)
    entry = _shared.get(key)
    if entry is None:
        entry = _shared[key] = [AsyncMongoClient(url, **_options(url, options)), 0]
    entry[1] += 1
    return entry[0]


async def release(client: Any) -> None:
    """Give back a share; the client is closed when no service uses it any more."""
    for key, entry in list(_shared.items()):
        if entry[0] is client:
            entry[1] -= 1
            if entry[1] <= 0:
                del _shared[key]
                await client.close()
            return

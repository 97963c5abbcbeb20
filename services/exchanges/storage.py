"""Reading and writing the exchanges' private storage (adapters no client reaches)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cryptorobot.adapters import AdapterService

__all__ = ["create_many", "find_all"]

ONLY_IDS = {"query": {"$select": ["_id"]}}


async def find_all(adapter: AdapterService, query: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every record matching `query`, unpaginated."""
    found = await adapter.find({"query": dict(query), "paginate": False})
    assert isinstance(found, list)
    return found


async def create_many(adapter: AdapterService, records: Sequence[Mapping[str, Any]]) -> None:
    """Create `records` in one call, answering only their ids (the records may be large)."""
    await adapter.create(list(records), ONLY_IDS)

"""`StoreBacked`: a platform service whose six methods are its storage adapter's.

Services that add custom methods (`exchanges`' balance, `traders`' start) or a life cycle of
their own subclass it and keep the adapter in `store`; the framework sees the adapter's id,
options and multi rules through it (pagination in `/openapi.json`, 405 for lists).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptorobot.adapters import AdapterService

__all__ = ["StoreBacked"]


class StoreBacked:
    """find/get/create/patch/remove, `id`, `get_options` and `allows_multi` of `store`."""

    store: AdapterService

    @property
    def id(self) -> str:
        return self.store.id

    def get_options(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """The adapter's options (pagination: what `/openapi.json` documents)."""
        return self.store.get_options(params)

    def allows_multi(self, method: str, params: Mapping[str, Any] | None = None) -> bool:
        return self.store.allows_multi(method, params)

    async def find(self, params: dict[str, Any]) -> Any:
        return await self.store.find(params)

    async def get(self, id: Any, params: dict[str, Any]) -> Any:
        return await self.store.get(id, params)

    async def create(self, data: Any, params: dict[str, Any]) -> Any:
        return await self.store.create(data, params)

    async def patch(self, id: Any, data: Any, params: dict[str, Any]) -> Any:
        return await self.store.patch(id, data, params)

    async def remove(self, id: Any, params: dict[str, Any]) -> Any:
        return await self.store.remove(id, params)

"""`strategyId` of a backtest: the type and settings of one of the caller's strategies.

An id the caller does not own is refused with a clear 400 (`INVALID_SETTINGS`,
`errors.strategyId`), as one that does not exist.
"""

from __future__ import annotations

from typing import Any

from cryptorobot import App
from cryptorobot.errors import FeathersError
from engine.errors import InvalidSettings

__all__ = ["strategy_of"]


async def strategy_of(app: App, strategy_id: Any, owner: Any) -> tuple[str, dict[str, Any]]:
    """`(type, settings)` of strategy `strategy_id` owned by `owner` (None: server code, any owner)."""
    try:
        record = await app.service("strategies").get(strategy_id, {"query": {} if owner is None else {"userId": owner}})
    except FeathersError:
        raise InvalidSettings({"strategyId": f"you have no strategy {strategy_id!r}"}) from None
    return str(record.get("type")), dict(record.get("settings") or {})

"""`market/stats`: global figures of the markets whose tickers the server follows now.

    GET /market/stats?$limit=5
    -> {"tracked": 12, "advancing": 7, "declining": 4, "unchanged": 1, "breadth": 0.636,
        "topGainers": [{"exchange": "binance", "symbol": "SOL/USDT", "last": 142.1, "percentage": 6.2,
                        "quoteVolume": 1.2e9}, ...],
        "topLosers": [...], "quoteVolume": {"USDT": 3.4e9, "USD": 1.1e8}, "updatedAt": "..."}

From the latest ticker of every running feed (`exchanges/ticker`, the market-data hub):
advancing/declining by the ticker's 24-hour `percentage` (ccxt's; a `sim` replay's rolling
window), `breadth` = advancing / (advancing + declining) (null with neither), the `$limit`
(default 5, at most 50) biggest gainers and losers, and the quote volume summed per quote
currency (tickers without one are left out; currencies are not converted into each other).
"""

from __future__ import annotations

from typing import Any

from cryptorobot import App
from hooks import authenticate
from services.market_data import market_data

__all__ = ["MarketStatsService", "use_market_stats"]

FIELDS = ("exchange", "symbol", "last", "percentage", "quoteVolume")


def _quote(symbol: str) -> str:
    return symbol.split("/", 1)[1].split(":", 1)[0] if "/" in symbol else ""


class MarketStatsService:
    """`find` only; see the module documentation."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def find(self, params: dict[str, Any]) -> dict[str, Any]:
        raw = (params.get("query") or {}).get("$limit")
        try:
            top = max(0, min(50, int(raw))) if raw is not None else 5
        except (TypeError, ValueError):
            top = 5
        tickers = list(market_data(self.app).tickers.values())
        moved = [t for t in tickers if isinstance(t.get("percentage"), (int, float))]
        advancing = sum(t["percentage"] > 0 for t in moved)
        declining = sum(t["percentage"] < 0 for t in moved)
        ranked = sorted(moved, key=lambda t: t["percentage"], reverse=True)
        volume: dict[str, float] = {}
        for ticker in tickers:
            quote, amount = _quote(ticker.get("symbol") or ""), ticker.get("quoteVolume")
            if quote and isinstance(amount, (int, float)):
                volume[quote] = volume.get(quote, 0.0) + float(amount)
        updated = [t["updatedAt"] for t in tickers if t.get("updatedAt") is not None]
        return {"tracked": len(tickers), "advancing": advancing, "declining": declining,
                "unchanged": len(moved) - advancing - declining,
                "breadth": round(advancing / (advancing + declining), 4) if advancing + declining else None,
                "topGainers": [{key: t.get(key) for key in FIELDS} for t in ranked[:top] if t["percentage"] > 0],
                "topLosers": [{key: t.get(key) for key in FIELDS} for t in ranked[::-1][:top] if t["percentage"] < 0],
                "quoteVolume": volume, "updatedAt": max(updated) if updated else None}


def use_market_stats(app: App) -> None:
    app.use("market/stats", MarketStatsService(app), {
        "methods": ["find"],
        "docs": {"description": "Global figures of the tickers the server follows now: advancing, declining, "
                                "breadth, top gainers and losers (`$limit`, default 5), quote volume per quote "
                                "currency.", "codes": []}})
    app.service("market/stats").hooks({"around": {"all": [authenticate("jwt", "api-key")]}})

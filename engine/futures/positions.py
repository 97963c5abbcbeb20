"""One trader's perpetual position on one symbol: signed contracts, entry price, isolated margin.

One-way mode (one position per owner and symbol; a fill against it reduces it, and beyond
it opens the other side). Fields (money in the settle currency):

- `contracts`: signed size in base (negative: short); `entry_price`: the average entry
  (volume-weighted over the fills that opened it; None when flat);
- `margin`: the isolated margin it holds (reserved in the account's ledger as `used`),
  `leverage` and `margin_mode` (`isolated`);
- `realized_pnl` (closing fills' P&L, fees excluded), `fees`, `funding` (received minus
  paid) and `forfeited` (margin lost to liquidations beyond the P&L at the liquidation
  price: what Binance gives its insurance fund).

The account's wallet balance (the settle currency's `total`) therefore always equals its
deposits plus every position's `realized_pnl + funding - fees - forfeited` plus what spot
trades moved, and its equity is that balance plus the positions' unrealized P&L.
"""

from __future__ import annotations

from typing import Any

from ..ledger import exact
from .margin import liquidation_price, maintenance_margin, unrealized_pnl

__all__ = ["MARGIN_MODES", "FuturesPosition"]

MARGIN_MODES = ("isolated",)
"""Margin modes simulated (cross margin is not)."""


class FuturesPosition:
    """`owner`'s position on `symbol` (maintenance margin rate `mmr`)."""

    __slots__ = ("contracts", "entry_price", "fees", "forfeited", "funding", "leverage", "margin", "margin_mode", "mmr",
                 "owner", "realized_pnl", "settle", "symbol", "timestamp")

    def __init__(self, owner: str | None, symbol: str, settle: str, leverage: float, mmr: float) -> None:
        self.owner = owner
        self.symbol = symbol
        self.settle = settle
        self.leverage = leverage
        self.mmr = mmr
        self.margin_mode = "isolated"
        self.contracts = 0.0
        self.entry_price = 0.0
        self.margin = 0.0
        self.realized_pnl = 0.0
        self.fees = 0.0
        self.funding = 0.0
        self.forfeited = 0.0
        self.timestamp: int | None = None

    @property
    def key(self) -> str:
        """Its reservation id in the ledger."""
        return f"position:{self.owner or ''}:{self.symbol}"

    @property
    def side(self) -> str | None:
        return "long" if self.contracts > 0 else "short" if self.contracts < 0 else None

    def liquidation_price(self) -> float:
        """Binance's liquidation price (`engine.futures.margin`); NaN when flat."""
        return liquidation_price(self.contracts, self.entry_price, self.margin, self.mmr)

    def unrealized_pnl(self, mark: float) -> float:
        return unrealized_pnl(self.contracts, self.entry_price, mark) if self.contracts else 0.0

    def net_exact(self) -> int:
        """`realized_pnl + funding - fees - forfeited`, exactly (units of 2**-1074): what it
        added to the wallet balance, recomputed exactly (tests)."""
        return exact(self.realized_pnl) + exact(self.funding) - exact(self.fees) - exact(self.forfeited)

    def to_dict(self) -> dict[str, Any]:
        """Its state, JSON-able (`engine.journal` snapshots)."""
        return {"owner": self.owner, "symbol": self.symbol, "settle": self.settle, "leverage": self.leverage,
                "maintenanceMarginRate": self.mmr, "contracts": self.contracts, "entryPrice": self.entry_price,
                "margin": self.margin, "realizedPnl": self.realized_pnl, "fees": self.fees, "funding": self.funding,
                "forfeited": self.forfeited, "timestamp": self.timestamp}

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> FuturesPosition:
        """From `to_dict()`."""
        position = cls(record["owner"], record["symbol"], record["settle"], record["leverage"],
                       record["maintenanceMarginRate"])
        position.contracts, position.entry_price, position.margin = (record["contracts"], record["entryPrice"],
                                                                     record["margin"])
        position.realized_pnl, position.fees = record["realizedPnl"], record["fees"]
        position.funding, position.forfeited, position.timestamp = (record["funding"], record["forfeited"],
                                                                    record["timestamp"])
        return position

    def to_ccxt(self, mark: float | None, timestamp: int | None, contract_size: float = 1.0) -> dict[str, Any]:
        """ccxt's position structure at `mark` (None: no price yet)."""
        from ccxt.base.exchange import Exchange

        size = abs(self.contracts)
        entry = self.entry_price if size else None
        upnl = self.unrealized_pnl(mark) if mark is not None else None
        notional = size * mark if mark is not None else None
        maintenance = maintenance_margin(size, mark, self.mmr) if mark is not None else None
        liquidation = self.liquidation_price() if size else None
        collateral = self.margin + (upnl or 0.0)
        return {
            "info": {"owner": self.owner, "realizedPnl": self.realized_pnl, "fees": self.fees,
                     "funding": self.funding, "forfeited": self.forfeited},
            "id": None, "symbol": self.symbol, "timestamp": timestamp,
            "datetime": Exchange.iso8601(timestamp) if timestamp is not None else None,
            "lastUpdateTimestamp": self.timestamp, "hedged": False, "side": self.side, "contracts": size,
            "contractSize": contract_size, "entryPrice": entry, "markPrice": mark, "lastPrice": mark,
            "notional": notional, "leverage": self.leverage, "collateral": collateral,
            "initialMargin": self.margin, "initialMarginPercentage": 1.0 / self.leverage, "positionMargin": self.margin,
            "maintenanceMargin": maintenance, "maintenanceMarginPercentage": self.mmr,
            "unrealizedPnl": upnl, "realizedPnl": self.realized_pnl, "liquidationPrice": liquidation,
            "marginMode": self.margin_mode, "marginRatio": (maintenance / collateral
                                                            if maintenance is not None and collateral > 0 else None),
            "percentage": (upnl / self.margin * 100.0 if upnl is not None and self.margin else None),
            "stopLossPrice": None, "takeProfitPrice": None,
        }

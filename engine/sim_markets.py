"""The `sim` exchange's built-in markets, and markets for symbols it does not list.

`sim_catalog()` lists 100+ spot markets: the majors and large caps against USDT, and some
against BTC, ETH and USDC. Their precision and limits follow the conventions of the big
spot exchanges (Binance's `PRICE_FILTER`, `LOT_SIZE` and `NOTIONAL` filters, in ccxt's
`TICK_SIZE` precision mode), derived from a reference price per coin (about mid-2024, kept
in each market's `info.referencePrice`, where a seeded random walk can start):

- price tick: six significant digits at the reference price, at most 0.01 and at least
  1e-8 (BTC/USDT 0.01, ETH/USDT 0.01, XRP/USDT 0.000001, SHIB/USDT 0.00000001);
- amount step: the power of ten at or below 1/(the base's USD price), at most 1 (BTC
  0.00001, ETH 0.0001, SOL 0.001, XRP 1), on every quote; minimum amount one step, maximum
  9e8 steps;
- minimum cost (notional): 5 USDT or USDC, 0.0001 BTC, 0.001 ETH;
- fees 0.1% maker and taker by default (`sim_catalog(maker=..., taker=...)`), charged in
  the quote currency (`feeSide` `quote`).

`spot_market(symbol, reference_price)` makes a market by the same rules for any other
symbol (a replayed imported series may be on any), to `add` to a catalogue.

Perpetuals (issue 18): `BASE/USDT:USDT` for the bases of `PERPETUALS`, linear
(USDT-margined and settled), contract size 1, the spot market's tick and step, minimum
notional 5 USDT, fees 0.02% maker and 0.05% taker (Binance USDⓈ-M's base tier), and in
`info`: `maxLeverage` (125 for BTC and ETH, 75 for the others), `maintenanceMarginRate`
(0.004 for BTC and ETH, 0.005 for the others: Binance's first tiers), `fundingRate` 0.0001
and `fundingIntervalHours` 8 (`perpetual_market` makes one with other values). Their
exchange ids end in `_PERP` so that `BTCUSDT` still names the spot market.
"""

from __future__ import annotations

import math
from decimal import Decimal

from .markets import Market, MarketCatalog
from .precision import TICK_SIZE, Precision

__all__ = ["MIN_COST", "PERPETUALS", "REFERENCE_PRICES", "perpetual_market", "sim_catalog", "spot_market"]

REFERENCE_PRICES: dict[str, float] = {
    "BTC": 60000, "ETH": 3000, "BNB": 550, "SOL": 150, "XRP": 0.5, "ADA": 0.4, "DOGE": 0.12, "TRX": 0.13,
    "TON": 6.5, "DOT": 6, "POL": 0.5, "LTC": 70, "AVAX": 25, "LINK": 13, "ATOM": 6.5, "UNI": 7.5, "XLM": 0.1,
    "ETC": 22, "BCH": 350, "FIL": 4, "APT": 7, "ARB": 0.7, "OP": 1.6, "NEAR": 5, "ICP": 8.5, "AAVE": 100,
    "ALGO": 0.14, "VET": 0.025, "SAND": 0.3, "MANA": 0.3, "AXS": 5.5, "EGLD": 30, "THETA": 1.3, "XTZ": 0.7,
    "EOS": 0.55, "FTM": 0.5, "GRT": 0.18, "RUNE": 4, "INJ": 22, "SUI": 0.9, "SEI": 0.3, "TIA": 6, "PEPE": 0.00001,
    "SHIB": 0.000017, "WIF": 1.8, "BONK": 0.00002, "FET": 1.3, "RENDER": 6, "IMX": 1.4, "STX": 1.7, "HBAR": 0.07,
    "MKR": 2400, "SNX": 1.7, "CRV": 0.3, "LDO": 1.7, "COMP": 55, "1INCH": 0.35, "ZEC": 25, "DASH": 25, "NEO": 10,
    "KSM": 25, "CHZ": 0.07, "ENJ": 0.2, "GALA": 0.02, "FLOW": 0.6, "KAVA": 0.45, "ZIL": 0.015, "ONE": 0.015,
    "QTUM": 2.5, "IOTA": 0.16, "BAT": 0.18, "ZRX": 0.35, "YFI": 6000, "SUSHI": 0.65, "CAKE": 2, "DYDX": 1.4,
    "JUP": 0.9, "PYTH": 0.35, "WLD": 2.3, "ORDI": 35, "TAO": 300, "ENA": 0.45, "JTO": 2.3, "BLUR": 0.2,
    "GMT": 0.15, "APE": 0.75, "ROSE": 0.08, "CFX": 0.15, "AR": 25, "ENS": 22, "QNT": 65, "WOO": 0.2,
}
"""Reference prices in USD (about mid-2024): the source of each market's tick and step."""

MIN_COST: dict[str, float] = {"USDT": 5.0, "USDC": 5.0, "BTC": 0.0001, "ETH": 0.001}
"""Minimum order cost by quote currency (Binance's `NOTIONAL` filter)."""

_AGAINST_BTC = ("ETH", "BNB", "SOL", "XRP", "ADA", "DOGE", "DOT", "LTC", "AVAX", "LINK", "ATOM", "UNI", "BCH", "TRX",
                "NEAR", "FIL")
_AGAINST_ETH = ("BNB", "SOL", "LINK", "UNI", "AAVE", "LDO", "MKR", "ARB")
_AGAINST_USDC = ("BTC", "ETH", "SOL", "XRP", "BNB", "DOGE", "ADA", "LINK", "AVAX", "SUI")
_DOLLARS = ("USDT", "USDC")
PERPETUALS = ("BTC", "ETH", "BNB", "SOL", "XRP", "DOGE", "ADA", "LINK", "AVAX", "LTC")
"""Bases with a `BASE/USDT:USDT` perpetual on `sim`."""


def _power_of_ten_at_most(x: float) -> float:
    exponent = math.floor(math.log10(x))
    return float(Decimal(1).scaleb(exponent))


def _price_tick(price: float) -> float:
    return max(min(_power_of_ten_at_most(price) / 100_000, 0.01), 1e-8)


def _amount_step(price: float) -> float:
    return min(_power_of_ten_at_most(1 / price), 1.0)


def spot_market(
    symbol: str, reference_price: float, *, base_usd_price: float | None = None, maker: float = 0.001,
    taker: float = 0.001, min_cost: float | None = None,
) -> Market:
    """A `sim` spot market for `symbol` (`BASE/QUOTE`) whose precision and limits follow the
    module's rules at `reference_price` (quote per base). The amount step comes from
    `base_usd_price` (default: the reference price, as for a dollar quote); `min_cost`
    defaults to `MIN_COST` of the quote currency, else none."""
    base, quote = symbol.split("/")
    if not reference_price > 0:
        raise ValueError(f"a reference price must be positive, not {reference_price!r}")
    tick, step = _price_tick(reference_price), _amount_step(base_usd_price or reference_price)
    return Market(
        symbol, base, quote, amount_precision=Precision(step, TICK_SIZE), price_precision=Precision(tick, TICK_SIZE),
        min_amount=step, max_amount=float(Decimal(repr(step)) * 900_000_000), min_price=tick,
        min_cost=MIN_COST.get(quote, 0.0) if min_cost is None else min_cost, maker=maker, taker=taker,
        fee_side="quote", info={"referencePrice": reference_price},
    )


def perpetual_market(symbol: str, reference_price: float, *, maker: float = 0.0002, taker: float = 0.0005,
                     max_leverage: float = 75.0, maintenance_margin_rate: float = 0.005, funding_rate: float = 0.0001,
                     funding_interval_hours: float = 8.0, min_cost: float | None = None) -> Market:
    """A linear perpetual `BASE/QUOTE:QUOTE` (settled in the quote, contract size 1) whose
    precision follows the spot rules at `reference_price`; margin and funding parameters in
    `info` (read by `engine.futures`)."""
    pair, _, settle = symbol.partition(":")
    spot = spot_market(pair, reference_price, maker=maker, taker=taker, min_cost=min_cost)
    if settle != spot.quote:
        raise ValueError(f"a linear perpetual is BASE/QUOTE:QUOTE, not {symbol!r}")
    return Market(
        symbol, spot.base, spot.quote, id=f"{spot.id}_PERP", type="swap", settle=settle,
        amount_precision=spot.amount_precision, price_precision=spot.price_precision, min_amount=spot.min_amount,
        max_amount=spot.max_amount, min_price=spot.min_price, min_cost=spot.min_cost, maker=maker, taker=taker,
        fee_side="quote", contract_size=1.0,
        info={"referencePrice": reference_price, "maxLeverage": max_leverage,
              "maintenanceMarginRate": maintenance_margin_rate, "fundingRate": funding_rate,
              "fundingIntervalHours": funding_interval_hours},
    )


def sim_catalog(*, maker: float = 0.001, taker: float = 0.001) -> MarketCatalog:
    """The built-in `sim` markets (a new catalogue each call, so callers may `add` to theirs)."""
    pairs = [(base, "USDT") for base in REFERENCE_PRICES]
    pairs += [(base, "BTC") for base in _AGAINST_BTC] + [(base, "ETH") for base in _AGAINST_ETH]
    pairs += [(base, "USDC") for base in _AGAINST_USDC] + [("USDC", "USDT")]
    usd = {**REFERENCE_PRICES, **dict.fromkeys(_DOLLARS, 1.0)}
    catalog = MarketCatalog((spot_market(f"{base}/{quote}", usd[base] / usd[quote], base_usd_price=usd[base],
                                         maker=maker, taker=taker) for base, quote in pairs), exchange_id="sim")
    for base in PERPETUALS:
        major = base in ("BTC", "ETH")
        catalog.add(perpetual_market(f"{base}/USDT:USDT", REFERENCE_PRICES[base], max_leverage=125.0 if major else 75.0,
                                     maintenance_margin_rate=0.004 if major else 0.005))
    return catalog

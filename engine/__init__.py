"""The trading engine: markets, orders, the matching engine, strategies, backtests, metrics.

A library that knows nothing of the App or of any transport: services (`services/`) are
thin facades over it, and a newcomer can run a backtest or a paper account from Python
without a server. Time comes from an injected clock, never from `time.time()`.

Markets and precision (`markets`, `precision`, `sim_markets`), an account's balances
(`ledger`) and positions (`positions`), the one matching engine that paper accounts and
backtests share (`matching`, its orders and trades in `orders`), saving and rebuilding an
account (`journal`), and the simulated exchange in ccxt's unified shape (`sim_exchange`).
Price feeds (replay markets, random walks, live ccxt.pro tickers) are `engine.feeds`.
"""

from .journal import replay, restore, snapshot
from .ledger import Ledger
from .markets import Market, MarketCatalog
from .matching import Journal, MatchingEngine, next_touch
from .orders import Order, Trade
from .positions import Position
from .precision import Precision
from .sim_exchange import CandleSource, SimExchange
from .sim_markets import sim_catalog, spot_market

__all__ = [
    "CandleSource", "Journal", "Ledger", "Market", "MarketCatalog", "MatchingEngine", "Order", "Position", "Precision",
    "SimExchange", "Trade", "next_touch", "replay", "restore", "sim_catalog", "snapshot", "spot_market",
]

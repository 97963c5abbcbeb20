"""The engine core's public API is what `engine` exports (pinned: changing it is a decision)."""

import engine

CORE = ["CandleSource", "Journal", "Ledger", "Market", "MarketCatalog", "MatchingEngine", "Order", "Position",
        "Precision", "SimExchange", "Trade", "next_touch", "replay", "restore", "sim_catalog", "snapshot",
        "spot_market"]


def test_the_engine_exports_its_core() -> None:
    assert set(CORE) <= set(engine.__all__)
    for name in CORE:
        assert getattr(engine, name) is not None

"""The public API of the statistics and indicators is what their packages export; pinned."""

import engine.indicators
import engine.metrics


def test_metrics() -> None:
    assert sorted(engine.metrics.__all__) == [
        "Drawdown", "Periodicity", "ProfitTotals", "STAT_NAMES", "Stats", "Trades", "backtest_stats", "drawdown",
        "equity_stats", "haas_orders", "haas_results", "portfolio_performance", "profit_totals", "to_wire",
        "trade_stats"]
    assert len(engine.metrics.STAT_NAMES) == 32


def test_indicators() -> None:
    assert sorted(engine.indicators.__all__) == [
        "Bands", "Macd", "atr", "bollinger_bands", "crossover", "ema", "live_window", "macd", "roc", "rsi", "sma"]

"""Orders below the market's minimums, or that the account can not pay for, are skipped with a
warning by a paper pod (as by a backtest): the trader goes on instead of failing."""

from __future__ import annotations

from typing import Any

from engine import SimExchange
from engine.candles import Candle
from engine.clock import ManualClock
from engine.pod import PaperPod
from engine.strategies import ALL, EngineContext, LogLine, buy, create_strategy, resolve, sell

SYMBOL = "BTC/USDT"  # sim's market: amount step 0.00001 BTC, minimum cost 5 USDT
DAY = 86_400_000


class Output:
    """A `PodOutput` that keeps what it is told."""

    def __init__(self) -> None:
        self.trades: list[dict[str, Any]] = []
        self.logs: list[LogLine] = []
        self.failures: list[tuple[str, str]] = []

    def order(self, action: str, order: dict[str, Any], tag: str | None) -> None:
        pass

    def trade(self, trade: dict[str, Any], tag: str | None) -> None:
        self.trades.append(trade)

    def log(self, line: LogLine) -> None:
        self.logs.append(line)

    def failed(self, reason: str, message: str) -> None:
        self.failures.append((reason, message))


def run(closes: list[float], settings: dict[str, Any] | None = None) -> Output:
    """A paper pod of sma_cross 2/4 on candles closing at `closes` (each opening at the close
    before it: the price point that fills the order decided at that close)."""
    clock = ManualClock(0)
    exchange = SimExchange(clock=clock, balances={"USDT": 10_000.0})
    output = Output()
    strategy = create_strategy("sma_cross", {"fastPeriod": 2, "slowPeriod": 4, **(settings or {})})
    pod = PaperPod("trader-1", strategy, exchange, SYMBOL, output)
    pod.open(fresh=True, start_key="1")
    previous = closes[0]
    for index, close in enumerate(closes):
        clock.set(index * DAY)
        exchange.on_price(SYMBOL, index * DAY, previous, previous, previous)
        pod.check_fills()
        clock.set(index * DAY + DAY - 1)
        exchange.on_price(SYMBOL, index * DAY + DAY - 1, close, close, close)
        pod.check_fills()
        pod.candle(Candle(index * DAY, previous, max(previous, close), min(previous, close), close, 1.0))
        previous = close
    return output


# Up: a cross above at 62000 (all-in buy of ~0.16 BTC). A collapse to 5 (a replay starting over):
# a cross below, whose sell of the position, worth ~0.8 USDT, is under the minimum cost. Back up:
# a cross above (already long), then a cross below at 40000 sells it.
CLOSES = [60_000.0, 59_000.0, 58_000.0, 57_000.0, 56_000.0, 62_000.0, 63_000.0, 5.0, 4.9, 4.8, 4.7,
          30_000.0, 50_000.0, 60_000.0, 45_000.0, 40_000.0, 39_000.0, 38_000.0]


def test_a_sell_worth_less_than_the_minimum_cost_is_skipped_with_a_warning_and_trading_goes_on() -> None:
    output = run(CLOSES)
    assert output.failures == []
    assert [trade["side"] for trade in output.trades] == ["buy", "sell"]
    bought, sold = output.trades
    assert sold["amount"] == bought["amount"] and sold["price"] >= 38_000.0
    warnings = [line.message for line in output.logs if line.severity == "warning"]
    assert len(warnings) == 1 and "minimum cost 5.0" in warnings[0] and warnings[0].startswith("sell of the whole"), \
        warnings


def context(balances: dict[str, float], price: float) -> EngineContext:
    exchange = SimExchange(clock=ManualClock(0), balances=balances)
    exchange.on_price(SYMBOL, 0, price, price, price)
    return EngineContext(exchange.engine, SYMBOL, "trader-1")


def test_an_all_in_buy_the_free_quote_can_not_make_at_the_minimums_is_skipped_with_a_warning() -> None:
    poor = context({"USDT": 0.84}, 60_000.0)
    assert resolve([buy()], poor) == []  # under the minimum cost
    assert resolve([buy(ALL, price=59_000.0)], poor) == []
    assert resolve([buy(ALL, trigger_price=61_000.0)], poor) == []
    assert [line.severity for line in poor.logs] == ["warning"] * 3
    assert all("0.84 USDT available" in line.message and "minimum" in line.message for line in poor.logs), poor.logs
    (enough,) = resolve([buy()], context({"USDT": 5.01}, 60_000.0))
    assert enough.cost is not None and enough.cost > 5.0
    tiny = context({"USDT": 1_000.0}, 1e9)  # less than one amount step at the limit
    assert resolve([buy(ALL, price=1e9)], tiny) == [] and "minimum amount" in tiny.logs[-1].message
    # explicit sizes are the strategy's own: the exchange's refusal still fails its trader
    (explicit,) = resolve([sell(0.1)], poor)
    assert explicit.amount == 0.1


def test_an_order_the_account_can_not_pay_for_is_dropped_with_a_warning_by_the_pod() -> None:
    output = run(CLOSES[:8], {"sizing": "Quote amount", "orderSize": 20_000.0})
    assert output.failures == [] and output.trades == []
    assert [line.severity for line in output.logs] == ["warning"]
    assert output.logs[0].message.startswith("buy order dropped: insufficient USDT"), output.logs

"""Live candles: closed candles from trades, tickers and watch_ohlcv streams, never the one still forming."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.candles import Candle, CandleBuilder, OhlcvCloser
from tests.engine.candle_support import MINUTE, START, walk

SECOND = 1000


def trade(at: int, price: float, amount: float = 1.0) -> dict:
    return {"timestamp": at, "price": price, "amount": amount, "symbol": "BTC/USDT", "side": "buy"}


def test_a_candle_is_handed_on_only_once_a_later_period_starts() -> None:
    builder = CandleBuilder("1m")
    assert builder.add_trade(trade(START + 5 * SECOND, 100, 2)) == []
    assert builder.add_trade(trade(START + 20 * SECOND, 103, 1)) == []
    assert builder.add_trade(trade(START + 40 * SECOND, 99, 1)) == []
    assert builder.add_trade(trade(START + 59 * SECOND, 101, 0.5)) == []
    assert builder.forming == Candle(START, 100, 103, 99, 101, 4.5)
    closed = builder.add_trade(trade(START + MINUTE + 1, 102, 1))
    assert closed == [Candle(START, 100, 103, 99, 101, 4.5)]
    assert builder.forming == Candle(START + MINUTE, 102, 102, 102, 102, 1)


def test_a_quiet_period_is_a_gap_not_an_invented_candle() -> None:
    builder = CandleBuilder("1m")
    builder.add_trade(trade(START + 1, 100))
    closed = builder.add_trade(trade(START + 5 * MINUTE + 1, 110))
    assert closed == [Candle(START, 100, 100, 100, 100, 1)]
    assert builder.close_until(START + 6 * MINUTE) == [Candle(START + 5 * MINUTE, 110, 110, 110, 110, 1)]
    assert builder.close_until(START + 60 * MINUTE) == []


def test_points_out_of_order_inside_a_period_count_and_late_ones_are_dropped() -> None:
    builder = CandleBuilder("1m")
    builder.add_trade(trade(START + 30 * SECOND, 100))
    builder.add_trade(trade(START + 10 * SECOND, 95))  # earlier: the open
    builder.add_trade(trade(START + 50 * SECOND, 105))
    builder.add_trade(trade(START + 40 * SECOND, 104))  # not the latest: not the close
    [closed] = builder.add_trade(trade(START + MINUTE, 106))
    assert closed == Candle(START, 95, 105, 95, 105, 4)
    assert builder.add_trade(trade(START + 59 * SECOND, 1)) == [] and builder.late == 1
    assert builder.forming == Candle(START + MINUTE, 106, 106, 106, 106, 1)


def test_ticker_points_make_candles_of_unknown_volume() -> None:
    builder = CandleBuilder("1m")
    builder.add_ticker({"symbol": "BTC/USDT", "timestamp": START, "last": 100, "baseVolume": 12345})
    builder.add_ticker({"symbol": "BTC/USDT", "timestamp": START + 30 * SECOND, "last": 101, "baseVolume": 12350})
    [closed] = builder.add_ticker({"symbol": "BTC/USDT", "timestamp": START + MINUTE, "last": 99})
    assert closed[:5] == (START, 100, 101, 100, 101) and math.isnan(closed.volume)
    assert builder.add_ticker({"timestamp": None, "last": 1}) == [] and builder.add(START, None) == []
    assert builder.dropped == 2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5 * 3600 * SECOND - 1), st.floats(1, 1000), st.floats(0.001, 10)),
                min_size=1, max_size=200))
def test_trades_in_time_order_build_what_resampling_them_builds(points: list[tuple[int, float, float]]) -> None:
    """Closed candles from a trade stream equal the OHLCV aggregation of the same trades per period."""
    points.sort(key=lambda point: point[0])
    builder = CandleBuilder("15m")
    closed = [candle for at, price, amount in points for candle in builder.add(START + at, price, amount)]
    periods: dict[int, list[tuple[int, float, float]]] = {}
    for at, price, amount in points:
        periods.setdefault((START + at) // (15 * MINUTE) * (15 * MINUTE), []).append((at, price, amount))
    expected = [Candle(opens, rows[0][1], max(r[1] for r in rows), min(r[1] for r in rows), rows[-1][1],
                       math.fsum(r[2] for r in rows)) for opens, rows in sorted(periods.items())][:-1]
    assert [candle[:5] for candle in closed] == [candle[:5] for candle in expected]  # the last one is still forming
    assert all(math.isclose(a.volume, b.volume) for a, b in zip(closed, expected, strict=True))


def test_watch_ohlcv_rows_are_handed_on_once_closed_each_once_in_order() -> None:
    closer = OhlcvCloser("1m")
    assert closer.add([[START, 1, 2, 0.5, 1.5, 10]]) == []  # forming
    assert closer.add([[START, 1, 3, 0.5, 2.5, 12]]) == []  # the same candle, updated
    assert closer.add([[START, 1, 3, 0.5, 2.6, 13], [START + MINUTE, 2.6, 2.7, 2.5, 2.6, 1]]) == [
        Candle(START, 1, 3, 0.5, 2.6, 13)]
    assert closer.add([[START, 9, 9, 9, 9, 9]]) == []  # already handed on: never again
    assert closer.forming == Candle(START + MINUTE, 2.6, 2.7, 2.5, 2.6, 1)
    assert closer.close_until(START + MINUTE + 59_999) == []
    assert closer.close_until(START + 2 * MINUTE) == [Candle(START + MINUTE, 2.6, 2.7, 2.5, 2.6, 1)]


def test_an_interrupted_watch_ohlcv_stream_forgets_the_candle_forming_at_the_drop() -> None:
    closer = OhlcvCloser("1m")
    assert closer.add([[START, 1, 2, 0.5, 1.5, 10], [START + MINUTE, 1.5, 1.6, 1.4, 1.5, 1]]) == [
        Candle(START, 1, 2, 0.5, 1.5, 10)]
    closer.interrupt()  # minute 1 was forming: its end was not seen
    assert closer.forming is None
    # after the reconnection: a row received before the drop (minute 1) and the first new one
    assert closer.add([[START + MINUTE, 1.5, 1.7, 1.4, 1.6, 2], [START + 3 * MINUTE, 2, 2, 2, 2, 1]]) == []
    assert closer.add([[START + 4 * MINUTE, 2, 2, 2, 2, 1]]) == [Candle(START + 3 * MINUTE, 2, 2, 2, 2, 1)]
    closer.interrupt()  # back within minute 4: the exchange's row holds the whole candle
    assert closer.add([[START + 4 * MINUTE, 2, 3, 1, 2.5, 7]]) == []
    assert closer.add([[START + 5 * MINUTE, 2.5, 2.5, 2.5, 2.5, 1]]) == [Candle(START + 4 * MINUTE, 2, 3, 1, 2.5, 7)]


def test_a_watch_ohlcv_stream_replayed_with_updates_yields_the_final_candles() -> None:
    candles = walk(50)
    closer = OhlcvCloser("1m", after=int(candles.timestamp[9]))  # ten already stored
    closed: list[Candle] = []
    for candle in candles:
        partial = [candle.timestamp, candle.open, candle.open, candle.open, candle.open, 0.0]
        closed += closer.add([partial])
        closed += closer.add([list(candle)])  # the final values, still forming
    assert closed == list(candles)[10:-1]

"""Feed drops and recoveries, as log lines and as app events a system-events service can publish.

A live stream that fails is logged at WARNING on every failed attempt (with the error and
the backoff) and at INFO when it is back. Only the transitions become app events, so a
long outage is one `feed-dropped` and one `feed-recovered`, never a flood:

    app.on(FEED_DROPPED, lambda incident: ...)     # FeedIncident(kind="feed-dropped", ...)
    app.on(FEED_RECOVERED, lambda incident: ...)

`FeedIncident.to_json()` is the record an `events` service would create:
`{"type": "feed_dropped" | "feed_recovered", "exchange", "symbol", "message", "error",
"attempts", "retryIn", "downMs", "createdAt"}`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptorobot import App
from engine.feeds import FeedDropped, FeedRecovered

__all__ = ["FEED_DROPPED", "FEED_RECOVERED", "FeedIncident", "report"]

log = logging.getLogger("cryptorobot.market_data")

FEED_DROPPED = "feed-dropped"
FEED_RECOVERED = "feed-recovered"


@dataclass(frozen=True)
class FeedIncident:
    """A live feed of (`exchange`, `symbol`) dropped (`kind` FEED_DROPPED) or recovered."""

    kind: str
    exchange: str
    symbol: str
    message: str
    error: str | None
    attempts: int
    retry_in: float | None
    down_ms: int | None
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind.replace("-", "_"), "exchange": self.exchange, "symbol": self.symbol,
                "message": self.message, "error": self.error, "attempts": self.attempts, "retryIn": self.retry_in,
                "downMs": self.down_ms, "createdAt": self.at}


def report(app: App, exchange: str, event: FeedDropped | FeedRecovered) -> None:
    """Log a feed's drop or recovery, and emit the app event of a transition."""
    if isinstance(event, FeedDropped):
        log.warning("%s %s feed: %s (attempt %d), retrying in %.3g s", exchange, event.symbol, event.error,
                    event.attempt, event.retry_in)
        if event.attempt == 1:
            app.emit(FEED_DROPPED, FeedIncident(
                FEED_DROPPED, exchange, event.symbol, f"The {exchange} {event.symbol} price feed dropped: {event.error}",
                event.error, 1, event.retry_in, None, app.clock.now()))
        return
    log.info("%s %s feed is back after %d failed attempts (%.3g s)", exchange, event.symbol, event.attempts,
             event.down_ms / 1000)
    app.emit(FEED_RECOVERED, FeedIncident(
        FEED_RECOVERED, exchange, event.symbol, f"The {exchange} {event.symbol} price feed is back",
        None, event.attempts, None, event.down_ms, app.clock.now()))

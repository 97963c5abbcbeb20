"""Who receives which market's tickers, without any subscription call.

Each market has a room, `tickers/<exchange>/<symbol>` (a channel, so a Socket.IO room). A
signed-in socket is in the room of every market that

* its user follows: a watchlist entry (reason `watchlist/<entry id>`), a running trader
  (reason `traders/<id>`, added by whoever runs traders with `follow` and dropped with
  `unfollow`), or any other reason server code gives; or
* the socket itself subscribed to (`subscribe`/`unsubscribe` on `exchanges/ticker`).

A user's reasons apply to all their sockets, now and when they log in later; a socket's
subscriptions to that socket only, until it logs out or disconnects. Rooms are joined and
left as reasons come and go, so `exchanges/ticker patched` (sent to the room) reaches
exactly those sockets. A market's feed is kept running while its room has a socket (a
reference on the hub); its tickers are coalesced before they are sent (`TickerCoalescer`).

Watchlists are loaded when a user's first socket logs in, kept up to date by the
`exchanges/watchlist` events of this process, and forgotten with the user's last socket.
Followed traders are kept whether the user is connected or not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from cryptorobot import App, Connection
from cryptorobot.hooks import HookContext
from services.market_data import MarketDataHub, MarketKey

from .coalescing import TickerCoalescer

__all__ = ["WATCHLIST_REASON", "TickerAudience", "WatchlistLoader", "ticker_room"]

WatchlistLoader = Callable[[Any], Awaitable[list[tuple[str, MarketKey]]]]

WATCHLIST_REASON = "watchlist/"
"""Prefix of the reasons of watchlist entries (`watchlist/<entry id>`)."""


def ticker_room(key: MarketKey) -> str:
    """The channel of a market's tickers."""
    return f"tickers/{key.exchange}/{key.symbol}"


class TickerAudience:
    """See the module documentation. `load_watchlist(user_id)` gives the `(reason, key)`
    pairs of a user's watchlist."""

    def __init__(self, app: App, hub: MarketDataHub, coalescer: TickerCoalescer[MarketKey], load_watchlist: WatchlistLoader,
                 max_subscriptions: int = 200) -> None:
        self.app = app
        self.hub = hub
        self.coalescer = coalescer
        self.load_watchlist = load_watchlist
        self.max_subscriptions = max_subscriptions
        self._follows: dict[Any, dict[MarketKey, set[str]]] = {}
        self._users: dict[Connection, Any] = {}
        self._sockets: dict[Any, set[Connection]] = {}
        self._loaded: set[Any] = set()
        self._subscribed: dict[Connection, set[MarketKey]] = {}
        self._joined: dict[Connection, set[MarketKey]] = {}
        self._members: dict[MarketKey, int] = {}
        hub.on_ticker = self.on_ticker
        app.on("login", self._on_login)
        app.on("logout", self._on_logout)
        app.on("disconnect", self._on_disconnect)

    # -- what server code calls ---------------------------------------------------------------

    async def follow(self, user_id: Any, exchange: str, symbol: str, reason: str) -> MarketKey:
        """The user's sockets receive the market's tickers (now, and after they log in) until
        `unfollow(user_id, reason)`. Validates the market like every call (`InvalidSymbol`, ...)."""
        key = await self.hub.key(exchange, symbol)
        self.add(user_id, key, reason)
        return key

    def unfollow(self, user_id: Any, reason: str) -> None:
        """Drop `reason` for every market the user follows by it."""
        self.remove(user_id, lambda given: given == reason)

    def add(self, user: Any, key: MarketKey, reason: str) -> None:
        """`follow` for a market already validated."""
        self._follows.setdefault(user, {}).setdefault(key, set()).add(reason)
        self._refresh_user(user)

    def remove(self, user: Any, matches: Callable[[str], bool]) -> None:
        """Drop the user's reasons for which `matches(reason)` is true."""
        follows = self._follows.get(user)
        if not follows:
            return
        for key in list(follows):
            follows[key] = {reason for reason in follows[key] if not matches(reason)}
            if not follows[key]:
                del follows[key]
        if not follows:
            del self._follows[user]
        self._refresh_user(user)

    def followed(self, user_id: Any) -> dict[MarketKey, set[str]]:
        """The markets the user follows, with the reasons."""
        return {key: set(reasons) for key, reasons in self._follows.get(user_id, {}).items()}

    def subscribe(self, connection: Connection, keys: Iterable[MarketKey]) -> set[MarketKey]:
        """Add markets to one socket's subscriptions; all of them. ValueError beyond
        `max_subscriptions`."""
        current = self._subscribed.get(connection, set())
        wanted = current | set(keys)
        if len(wanted) > self.max_subscriptions:
            raise ValueError(f"a socket may subscribe to {self.max_subscriptions} markets at most")
        if connection.closed:
            return wanted
        self._subscribed[connection] = wanted
        self._refresh(connection)
        return set(wanted)

    def unsubscribe(self, connection: Connection, keys: Iterable[MarketKey]) -> set[MarketKey]:
        """Drop markets from one socket's subscriptions; what is left."""
        left = self._subscribed.get(connection, set()) - set(keys)
        if left:
            self._subscribed[connection] = left
        else:
            self._subscribed.pop(connection, None)
        self._refresh(connection)
        return set(left)

    def subscriptions(self, connection: Connection) -> set[MarketKey]:
        return set(self._subscribed.get(connection, ()))

    def on_ticker(self, key: MarketKey, ticker: dict[str, Any]) -> None:
        """A new ticker from the hub: coalesced and sent when its room has sockets."""
        if key in self._members:
            self.coalescer.update(key, ticker)

    # -- rooms --------------------------------------------------------------------------------

    def _refresh_user(self, user: Any) -> None:
        for connection in list(self._sockets.get(user, ())):
            self._refresh(connection)

    def _refresh(self, connection: Connection) -> None:
        """Join and leave rooms until the socket is in exactly the rooms it should be."""
        wanted: set[MarketKey] = set()
        if not connection.closed:
            user = self._users.get(connection)
            if user is not None:
                wanted.update(self._follows.get(user, ()))
                wanted |= self._subscribed.get(connection, set())
        joined = self._joined.get(connection, set())
        for key in wanted - joined:
            self.app.channel(ticker_room(key)).join(connection)
            count = self._members[key] = self._members.get(key, 0) + 1
            if count == 1:
                self.hub.acquire(key)
        for key in joined - wanted:
            self.app.channel(ticker_room(key)).leave(connection)
            count = self._members[key] = self._members[key] - 1
            if count == 0:
                del self._members[key]
                self.coalescer.forget(key)
                self.hub.release(key)
        if wanted:
            self._joined[connection] = wanted
        else:
            self._joined.pop(connection, None)

    # -- app events -----------------------------------------------------------------------------

    async def _on_login(self, result: dict[str, Any], params: dict[str, Any], context: HookContext | None = None) -> None:
        connection = params.get("connection")
        if not isinstance(connection, Connection) or connection.closed:
            return
        user = result["user"]["_id"]
        previous = self._users.get(connection)
        if previous != user:
            self._forget(connection)
            self._users[connection] = user
            self._sockets.setdefault(user, set()).add(connection)
        if user in self._loaded:
            self._refresh(connection)
            return
        self._loaded.add(user)
        try:
            entries = await self.load_watchlist(user)
        except BaseException:
            self._loaded.discard(user)
            raise
        if user in self._sockets:  # not gone while the watchlist loaded
            for reason, key in entries:
                self._follows.setdefault(user, {}).setdefault(key, set()).add(reason)
            self._refresh_user(user)

    def _on_logout(self, result: Any, params: dict[str, Any], context: HookContext | None = None) -> None:
        connection = params.get("connection")
        if isinstance(connection, Connection):
            self._forget(connection)

    def _on_disconnect(self, connection: Connection) -> None:
        self._forget(connection)

    def _forget(self, connection: Connection) -> None:
        """The socket is nobody's any more: no subscriptions, no rooms; a user without
        sockets left has their watchlist forgotten (loaded again at their next login)."""
        user = self._users.pop(connection, None)
        self._subscribed.pop(connection, None)
        if connection in self._joined:
            self._refresh(connection)
        if user is None:
            return
        sockets = self._sockets.get(user)
        if sockets is not None:
            sockets.discard(connection)
            if not sockets:
                del self._sockets[user]
                self._loaded.discard(user)
                self.remove(user, lambda reason: reason.startswith(WATCHLIST_REASON))

"""Order intents: what a strategy's callbacks return, and the exchange requests they become.

A strategy never places orders itself. Its callbacks return intents::

    buy()                                   market buy, all-in (everything `ctx.available`)
    buy(0.5) / buy(cost=100)                market buy of 0.5 base / for 100 quote, fee included
    buy(0.5, price=59_000)                  limit buy
    sell()                                  market sell of the whole position
    sell(0.5, price=61_000, tag="tp")       limit sell, tagged
    sell(trigger_price=57_000, kind="stopLoss")   stop-market sell of the whole position
    sell(0.5, price=56_900, trigger_price=57_000, kind="stopLoss")   stop-limit
    cancel(order_id) / cancel(tag="tp") / cancel()   one order / every open order with a tag / all
    sell(0.5, price=61_000, reduce_only=True)          perpetuals: may only reduce the position

`resolve(intents, ctx)` turns them into `OrderRequest`s and `CancelRequest`s against the
strategy's state as its context reports it (the same function in a pod and in a backtest):

- `ALL` (the default amount) is, for a market buy, a quote budget of `ctx.available *
  ALL_IN` (backtesting.py's all-in: the matching engine sizes it at the fill price, in
  whole units when the account trades whole units); for a limit or stop buy,
  `ctx.available * ALL_IN / (price * (1 + ctx.fee_rate))` base at its limit (else trigger)
  price; for a sell, the whole position (`ctx.position` to the market's precision). With
  nothing to spend, or less than `ctx.min_amount` to sell (dust), or an order below the
  market's minimums (its amount under `ctx.min_amount` after the precision, its cost
  under `market.min_cost` at its limit, trigger or else `ctx.price`), the intent is
  dropped with a `warning` log line: the exchange would refuse it (`INVALID_ORDER`), and
  an account too poor to trade is not a strategy's error (backtesting.py cancels an order
  the cash can not buy one unit with, too).
- a `Cancel` becomes one request per matching open order of the strategy (`ctx.open_orders`;
  an id that is no longer open is dropped: it filled or was cancelled meanwhile).

An `OrderRequest` is a ccxt unified call: `create_order(*request.ccxt_args(params))`, with
`params` the executor's own (`clientOrderId`; on a paper account the engine's `owner`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple

from ..matching import ALL_IN

if TYPE_CHECKING:
    from .context import Context

__all__ = ["ALL", "Cancel", "CancelRequest", "Intent", "Intents", "OrderRequest", "Place", "Request", "buy", "cancel",
           "resolve", "sell"]

ALL: Final = "all"
"""The amount of an all-in buy or of a sell of the whole position."""

TRIGGER_KINDS = ("trigger", "stopLoss", "takeProfit")


class Place(NamedTuple):
    """Place an order: `side`; `amount` in base, or `ALL`; `cost` in quote (market buys, fee
    included) instead of an amount; `price` makes it a limit; `trigger_price` a stop of
    `kind` (`trigger`, `stopLoss`, `takeProfit`; the matching engine's rule 4); `tag` is the
    strategy's own label, seen again on its fills and open orders; `reduce_only` (perpetuals)
    makes it ccxt's `reduceOnly` order."""

    side: Literal["buy", "sell"]
    amount: float | Literal["all"] | None = ALL
    cost: float | None = None
    price: float | None = None
    trigger_price: float | None = None
    kind: str = "trigger"
    tag: str | None = None
    reduce_only: bool = False

    @property
    def type(self) -> str:
        return "market" if self.price is None else "limit"


class Cancel(NamedTuple):
    """Cancel the strategy's open order `order_id`, or those tagged `tag`, or (neither) all of them."""

    order_id: str | None = None
    tag: str | None = None


Intent = Place | Cancel
Intents = Iterable[Intent] | None
"""What a callback returns: intents in the order they are carried out (None: nothing)."""


def buy(amount: float | Literal["all"] | None = ALL, *, cost: float | None = None, price: float | None = None,
        trigger_price: float | None = None, kind: str = "trigger", tag: str | None = None,
        reduce_only: bool = False) -> Place:
    """A buy intent (see the module docstring); `cost` replaces the amount."""
    return Place("buy", None if cost is not None else amount, cost, price, trigger_price, kind, tag, reduce_only)


def sell(amount: float | Literal["all"] = ALL, *, price: float | None = None, trigger_price: float | None = None,
         kind: str = "trigger", tag: str | None = None, reduce_only: bool = False) -> Place:
    """A sell intent (see the module docstring)."""
    return Place("sell", amount, None, price, trigger_price, kind, tag, reduce_only)


def cancel(order_id: str | None = None, *, tag: str | None = None) -> Cancel:
    return Cancel(order_id, tag)


class OrderRequest(NamedTuple):
    """One order for the exchange, sized: `amount` in base (None when sized by `cost`)."""

    symbol: str
    type: str
    side: str
    amount: float | None
    price: float | None = None
    cost: float | None = None
    trigger_price: float | None = None
    kind: str = "trigger"
    tag: str | None = None
    reduce_only: bool = False

    def params(self) -> dict[str, Any]:
        """ccxt's unified params of the order: `cost`, `reduceOnly`, and `triggerPrice`,
        `stopLossPrice` or `takeProfitPrice` by its kind."""
        params: dict[str, Any] = {}
        if self.cost is not None:
            params["cost"] = self.cost
        if self.reduce_only:
            params["reduceOnly"] = True
        if self.trigger_price is not None:
            name = {"stopLoss": "stopLossPrice", "takeProfit": "takeProfitPrice"}.get(self.kind, "triggerPrice")
            params[name] = self.trigger_price
        return params

    def ccxt_args(self, params: dict[str, Any] | None = None) -> tuple[str, str, str, float | None, float | None,
                                                                        dict[str, Any]]:
        """`(symbol, type, side, amount, price, params)` for `create_order`, the executor's
        `params` (clientOrderId, owner) added to the order's own."""
        return self.symbol, self.type, self.side, self.amount, self.price, {**self.params(), **(params or {})}


class CancelRequest(NamedTuple):
    """Cancel the open order `order_id` on `symbol` (`cancel_order(order_id, symbol)`)."""

    symbol: str
    order_id: str


Request = OrderRequest | CancelRequest


def resolve(intents: Intents, ctx: Context) -> list[Request]:
    """The requests `intents` make for the strategy whose context is `ctx` (see the module
    docstring). `TypeError` for something that is not an intent, `ValueError` for an
    unknown stop kind."""
    requests: list[Request] = []
    if intents is None:
        return requests
    for intent in intents:
        if type(intent) is Place:
            request = _order(intent, ctx)
            if request is not None:
                requests.append(request)
        elif type(intent) is Cancel:
            requests.extend(CancelRequest(ctx.symbol, order.id) for order in ctx.open_orders
                            if (intent.order_id is None or order.id == intent.order_id)
                            and (intent.tag is None or order.tag == intent.tag))
        else:
            raise TypeError(f"a strategy returns order intents (buy, sell, cancel), not {intent!r}")
    return requests


def _order(intent: Place, ctx: Context) -> OrderRequest | None:
    side, amount, cost, price, trigger, kind, tag, reduce_only = intent
    if kind not in TRIGGER_KINDS:
        raise ValueError(f"a stop's kind is one of {TRIGGER_KINDS}, not {kind!r}")
    if type(amount) is str and amount == ALL:
        reference = price if price is not None else trigger if trigger is not None else ctx.price
        if side == "sell":
            amount = ctx.market.amount_to_precision(ctx.position)
            if not (amount > 0.0 and amount >= ctx.min_amount):
                ctx.log(f"sell of the whole position skipped: nothing to sell ({ctx.position!r} held)", "warning")
                return None
            short = _below_minimums(ctx, amount, reference)
            if short:
                ctx.log(f"sell of the whole position skipped: {short}", "warning")
                return None
        else:
            available = ctx.available
            if not available > 0.0:
                ctx.log("all-in buy skipped: nothing available to spend", "warning")
                return None
            if price is None and trigger is None:
                amount, cost = None, available * ALL_IN
            else:
                amount = available * ALL_IN / (reference * (1.0 + ctx.fee_rate))
            short = _below_minimums(ctx, amount, reference, cost)
            if short:
                ctx.log(f"all-in buy skipped: {available:.8g} {ctx.market.quote} available, {short}", "warning")
                return None
    # tuple.__new__ is what the NamedTuple's own constructor calls, without its Python frame
    return _new(OrderRequest, (ctx.symbol, "market" if price is None else "limit", side, amount, price, cost, trigger,
                               kind, tag, reduce_only))


def _below_minimums(ctx: Context, amount: float | None, price: float, cost: float | None = None) -> str | None:
    """Why an order of `amount` base at `price`, or for `cost` quote (amount None), is below
    the market's minimums, as the matching engine checks them at placement: the amount after
    the amount precision under `ctx.min_amount`, or the cost under `market.min_cost` (not
    checked while `price` is NaN: no price known yet). None when it is not below them."""
    market = ctx.market
    if amount is not None and not market.amount_to_precision(amount) >= ctx.min_amount:
        return f"{amount!r} {market.base} is below the minimum amount {ctx.min_amount!r}"
    value = cost if amount is None else amount * price
    if value is not None and value == value and value < market.min_cost:
        return f"worth {value:.8g} {market.quote}, below the minimum cost {market.min_cost!r}"
    return None


_new = tuple.__new__

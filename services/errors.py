"""The platform's machine error codes: one table, shown in the README and the OpenAPI document.

Every error leaving the platform is a Feathers error (the JS clients rebuild it from its
JSON) whose `data.code` is one of `CODES`, with details beside it in `data`::

    {"name": "BadRequest", "code": 400, "className": "bad-request",
     "message": "Unknown symbol BTC/USDX on sim",
     "data": {"code": "INVALID_SYMBOL", "symbol": "BTC/USDX", "suggestions": ["BTC/USDT"]}}

Where the code comes from:

* the raiser names it: `platform_error(code, message, **details)`; engine errors
  (`engine.errors`) carry theirs;
* otherwise `code_for(error)` derives a generic one from the Feathers class and what the
  framework says about the error (`GENERIC`): per-field `errors` are `VALIDATION_FAILED`,
  an ended token `TOKEN_REVOKED`, a spent budget `RATE_LIMIT_EXCEEDED`, ...

Two places attach them: `attach_codes`, an app error hook (service calls, so server code
calling services sees codes too), and `present_error`, the app's error presenter
(`App.present_error`), which every transport sends every error through: the refusals that
happen outside any hook (unknown paths, bodies that do not parse, 413, socket limits,
timeouts) get their code there. `install(app)` sets both up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cryptorobot import errors
from cryptorobot.hooks import HookContext
from cryptorobot.openapi import ErrorCode
from engine.errors import EngineError

if TYPE_CHECKING:
    from cryptorobot import App

__all__ = ["CODES", "GENERIC", "SOCKET_ONLY", "attach_codes", "code_for", "install", "platform_error", "present_error"]

CODES: dict[str, tuple[type[errors.FeathersError], str]] = {
    # -- raised by the engine and the platform's services ---------------------------------
    "INVALID_EXCHANGE": (errors.BadRequest, "No such exchange: a ccxt exchange id or `sim` (see `exchanges/catalogue`)."),
    "INVALID_SYMBOL": (errors.BadRequest, "The exchange lists no such market; `suggestions` holds near symbols."),
    "INVALID_TIMEFRAME": (errors.BadRequest, "A timeframe that is neither stored nor derivable from a finer one."),
    "INVALID_ORDER": (errors.BadRequest, "An order the market refuses: type, side, amount, price or limits."),
    "INSUFFICIENT_BALANCE": (errors.BadRequest, "Not enough free funds for the order."),
    "REDUCE_ONLY_REJECTED": (errors.BadRequest, "A reduceOnly order that would not reduce the position: none to "
                                                "reduce, the same side, or larger than the position (`contracts`)."),
    "INVALID_MARGIN_SETTINGS": (errors.BadRequest, "A leverage outside the market's range (`maxLeverage`), or a "
                                                   "margin mode that is not simulated (isolated only)."),
    "ORDER_NOT_FOUND": (errors.NotFound, "No such order on this account."),
    "INVALID_DATA": (errors.BadRequest, "Input that can not be read: a file layout, a column, a timestamp, a row."),
    "INVALID_SETTINGS": (errors.BadRequest, "A strategy type, strategy settings or backtest options refused; "
                         "`errors` holds a message per field."),
    "NO_CANDLES": (errors.BadRequest, "No stored candles for the exchange, symbol and timeframe in the range asked "
                                      "(`candles/series` lists what is stored; `cryptorobot candles` imports more)."),
    "ACCOUNT_INACTIVE": (errors.Conflict, "The exchange account is deactivated (`active: false`); patch it active "
                                          "to use it."),
    "CREDENTIALS_REFUSED": (errors.Unprocessable, "The exchange refused the account's credentials: wrong key or "
                                                  "secret, missing permission, or an IP not on the key's list."),
    "CREDENTIALS_UNREADABLE": (errors.Unprocessable, "The account's stored credentials can not be decrypted with the "
                                                     "server's key (was `exchanges.credentials_key` changed?); "
                                                     "patch them in again."),
    "EXCHANGE_NOT_AVAILABLE": (errors.Unavailable, "The exchange can not be reached right now: network, its 5xx "
                                                   "answers, maintenance, rate limits (`reason` says which). Try again later."),
    "EXCHANGE_ERROR": (errors.BadGateway, "The exchange refused the call for a reason of its own (`reason`: ccxt's "
                                          "error class)."),
    "TRADER_RUNNING": (errors.Conflict, "A running trader (`traderId`/`traderIds`) stands in the way: stop it before "
                                        "removing it, its strategy or its account, or changing its symbol."),
    "TRADER_FOLLOWS": (errors.Conflict, "A clone that follows its master's settings (`masterBotId`) can not be edited "
                                        "itself: change the master's."),
    "SIGNAL_TOKEN_UNKNOWN": (errors.NotFound, "No trader has this signal token (`signals/webhook`)."),
    "SIGNAL_STALE": (errors.BadRequest, "The signal is older than its `maxLag` seconds (`age`, `maxLag`): not acted on."),
    "SIGNAL_REPLAYED": (errors.Conflict, "This signal (same token, timestamp and action) was received already: not "
                                         "acted on again."),
    "SIGNAL_ACTION_UNSUPPORTED": (errors.Unprocessable, "A signal action this server can not carry out yet "
                                                        "(`enter_short`, `exit_short`: no futures accounts)."),
    "LIMIT_REACHED": (errors.BadRequest, "A per-user or per-socket limit is reached (`limit`): markets in a "
                                         "watchlist, ticker subscriptions of a socket, running traders."),
    # -- generic: any call may answer them -------------------------------------------------
    "BAD_REQUEST": (errors.BadRequest, "A request that can not be taken as sent: malformed JSON or query string, "
                                       "data of the wrong shape, a query beyond the `[query]` limits (`limit`, `max`)."),
    "VALIDATION_FAILED": (errors.BadRequest, "Data or query refused field by field; `errors` holds the messages."),
    "UNAUTHORIZED": (errors.NotAuthenticated, "Missing or invalid credentials: no token, a bad token, a wrong "
                                              "password or API key."),
    "TOKEN_EXPIRED": (errors.NotAuthenticated, "The access token has expired (`expiredAt`); log in again."),
    "TOKEN_REVOKED": (errors.NotAuthenticated, "The session was ended: a logout, a password change or a revoked "
                                               "API key (`reason`); log in again."),
    "PAYMENT_REQUIRED": (errors.PaymentError, "The account's plan does not include this."),
    "FORBIDDEN": (errors.Forbidden, "Authenticated, but not allowed to do this (e.g. an API key managing keys)."),
    "NOT_FOUND": (errors.NotFound, "No such record, service or path (another user's records do not exist for you)."),
    "METHOD_NOT_ALLOWED": (errors.MethodNotAllowed, "The method is not exposed here, or not for several records."),
    "NOT_ACCEPTABLE": (errors.NotAcceptable, "The response can not be given in an acceptable form."),
    "REQUEST_TIMEOUT": (errors.Timeout, "The request body did not arrive in time (`rest.request_timeout`)."),
    "CONFLICT": (errors.Conflict, "A unique value is already taken (e.g. the email of another account)."),
    "GONE": (errors.Gone, "It existed, and no longer does."),
    "LENGTH_REQUIRED": (errors.LengthRequired, "The request must say its length."),
    "PAYLOAD_TOO_LARGE": (errors.PayloadTooLarge, "A request body or socket message over its size limit (`max`)."),
    "UNPROCESSABLE": (errors.Unprocessable, "Well-formed data the service can not act on."),
    "RATE_LIMIT_EXCEEDED": (errors.TooManyRequests, "The calls of your tier (or of your address, unauthenticated) "
                                                    "for the window are spent; retry after `Retry-After` seconds."),
    "TOO_MANY_ATTEMPTS": (errors.TooManyRequests, "Too many failed passwords or API keys from your address or for "
                                                  "the account; retry after `Retry-After` seconds."),
    "TOO_MANY_CALLS_IN_FLIGHT": (errors.TooManyRequests, "This socket has too many calls running at once "
                                                         "(`socketio.max_calls_in_flight`)."),
    "CONNECTION_LIMIT_EXCEEDED": (errors.TooManyRequests, "Sent with `connection-closed` to a socket closed because a "
                                                          "newer one of its account went over the tier's connections."),
    "INTERNAL_ERROR": (errors.GeneralError, "Unexpected server error (no details are revealed)."),
    "NOT_IMPLEMENTED": (errors.NotImplementedError_, "Not available on this server."),
    "BAD_GATEWAY": (errors.BadGateway, "An upstream service answered wrongly."),
    "UNAVAILABLE": (errors.Unavailable, "A backing store or service is out of reach; retry later."),
}
"""code -> (Feathers error class, what it means)."""

_BY_CLASS: tuple[tuple[type[errors.FeathersError], str], ...] = (  # most specific first
    (errors.RateLimitExceeded, "RATE_LIMIT_EXCEEDED"),
    (errors.TooManyAttempts, "TOO_MANY_ATTEMPTS"),
    (errors.TooManyCallsInFlight, "TOO_MANY_CALLS_IN_FLIGHT"),
    (errors.ConnectionLimitExceeded, "CONNECTION_LIMIT_EXCEEDED"),
    (errors.BadRequest, "BAD_REQUEST"),
    (errors.NotAuthenticated, "UNAUTHORIZED"),
    (errors.PaymentError, "PAYMENT_REQUIRED"),
    (errors.Forbidden, "FORBIDDEN"),
    (errors.NotFound, "NOT_FOUND"),
    (errors.MethodNotAllowed, "METHOD_NOT_ALLOWED"),
    (errors.NotAcceptable, "NOT_ACCEPTABLE"),
    (errors.Timeout, "REQUEST_TIMEOUT"),
    (errors.Conflict, "CONFLICT"),
    (errors.Gone, "GONE"),
    (errors.LengthRequired, "LENGTH_REQUIRED"),
    (errors.PayloadTooLarge, "PAYLOAD_TOO_LARGE"),
    (errors.Unprocessable, "UNPROCESSABLE"),
    (errors.TooManyRequests, "RATE_LIMIT_EXCEEDED"),
    (errors.NotImplementedError_, "NOT_IMPLEMENTED"),
    (errors.BadGateway, "BAD_GATEWAY"),
    (errors.Unavailable, "UNAVAILABLE"),
)
_TOKEN_ERRORS = {"TokenExpiredError": "TOKEN_EXPIRED", "TokenRevokedError": "TOKEN_REVOKED"}
"""`data.name` of a NotAuthenticated (jsonwebtoken's error names, as Feathers sends them) -> code."""

GENERIC = frozenset(code for _, code in _BY_CLASS) | {"VALIDATION_FAILED", "INTERNAL_ERROR", *_TOKEN_ERRORS.values()}
"""Codes `code_for` derives: any call may answer them, whatever its service declares."""
SOCKET_ONLY = frozenset({"TOO_MANY_CALLS_IN_FLIGHT", "CONNECTION_LIMIT_EXCEEDED"})
"""Generic codes no REST operation answers (Socket.IO's own)."""


def code_for(error: errors.FeathersError) -> str:
    """The generic code of a Feathers error that names none (see `GENERIC`)."""
    if isinstance(error, errors.BadRequest) and errors.has_errors(error):
        return "VALIDATION_FAILED"
    name = error.data.get("name") if isinstance(error.data, dict) else None
    if isinstance(error, errors.NotAuthenticated) and isinstance(name, str) and name in _TOKEN_ERRORS:
        return _TOKEN_ERRORS[name]
    for cls, code in _BY_CLASS:
        if isinstance(error, cls):
            return code
    return "INTERNAL_ERROR"


def platform_error(code: str, message: str, **details: Any) -> errors.FeathersError:
    """The Feathers error for `code` (a key of `CODES`), with `details` in `data`."""
    cls, _ = CODES[code]
    return cls(message, {"code": code, **details})


def _with_code(error: errors.FeathersError) -> errors.FeathersError:
    """`error` with `data.code` (set in place when missing; data that is not an object
    moves under `data.details`)."""
    data = error.data
    if isinstance(data, dict):
        named = data.get("code")
        if not (isinstance(named, str) and named in CODES):  # e.g. a refused query's own `code` field
            data["code"] = code_for(error)
    elif errors.has_data(error):
        error.data = {"code": code_for(error), "details": data}
    else:
        error.data = {"code": code_for(error)}
    return error


def present_error(failure: BaseException) -> errors.FeathersError:
    """The app's error presenter: the Feathers error a client receives for `failure`, with a
    code (engine errors as their platform error; anything unexpected a bare 500)."""
    if isinstance(failure, EngineError):
        return platform_error(failure.code, failure.message, **failure.details)
    return _with_code(errors.convert(failure))


def attach_codes(context: HookContext) -> None:
    """An app error hook: the call's error leaves as `present_error` shows it."""
    if context.error is not None:
        context.error = present_error(context.error)


def _scope(code: str) -> str:
    if code in SOCKET_ONLY:
        return "socket"
    return "any" if code in GENERIC else "service"


def install(app: App) -> None:
    """Attach the codes to every error of `app` (the error hook and the presenter) and
    describe them to its OpenAPI document (`app.error_codes`)."""
    app.hooks({"error": {"all": [attach_codes]}})
    app.error_presenter = present_error
    app.error_codes = {code: ErrorCode(cls.code, meaning, _scope(code)) for code, (cls, meaning) in CODES.items()}

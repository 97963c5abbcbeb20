"""The `authentication` service: log in (`create`), log out (`remove`), connection state.

Follows Feathers v5 (feathers-wire section 7) so `@feathersjs/authentication-client` works
unchanged: the response shape, the error messages, socket connection state set before the
`login` app event, a logout timer at the token's expiry, and handshake logins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..channels import Connection
from ..clock import Timer
from ..errors import NotAuthenticated
from ..hooks import HookContext
from .passwords import DEFAULT_ROUNDS
from .strategies import Strategy
from .tokens import TokenIssuer

if TYPE_CHECKING:
    from ..app import App
    from ..service import ServiceProxy

__all__ = ["AuthenticationService"]


class AuthenticationService:
    """Registered at `authentication`; strategies are added with `register`."""

    def __init__(self, tokens: TokenIssuer, *, entity: str = "user", service: str = "users",
                 auth_strategies: Iterable[str] = ("jwt", "local"), password_rounds: int = DEFAULT_ROUNDS) -> None:
        self.tokens = tokens
        self.entity_name = entity
        self.entity_path = service
        self.auth_strategies = tuple(auth_strategies)
        self.password_rounds = password_rounds
        self.strategies: dict[str, Strategy] = {}
        self.app: App | None = None
        self.path = ""
        self._expiry_timers: dict[Connection, Timer] = {}

    def register(self, strategy: Strategy) -> AuthenticationService:
        strategy.bind(self)
        self.strategies[strategy.name] = strategy
        return self

    @property
    def entity_service(self) -> ServiceProxy:
        assert self.app is not None
        return self.app.service(self.entity_path)

    # -- service life cycle --------------------------------------------------------------------

    def setup(self, app: App, path: str) -> None:
        self.app = app
        self.path = path
        for name in self.auth_strategies:  # the headers they read, for /openapi.json
            strategy = self.strategies.get(name)
            declared = strategy.security_scheme() if strategy is not None else None
            if declared is not None:
                app.security_schemes[declared[0]] = declared[1]
        app.authentication_parsers.append(self.parse)
        app.connection_authenticator = self.authenticate_connection
        app.service(path).hooks({"after": {"create": [self._after_login], "remove": [self._after_logout]}})
        app.service(path).publish(lambda data, context: None)
        app.on("disconnect", self._forget_connection)

    def teardown(self) -> None:
        for timer in self._expiry_timers.values():
            timer.cancel()
        self._expiry_timers.clear()

    # -- authentication ------------------------------------------------------------------------

    def parse(self, headers: Mapping[str, str]) -> dict[str, Any] | None:
        """Authentication data from headers: the first strategy that understands them."""
        for name in self.auth_strategies:
            strategy = self.strategies.get(name)
            found = strategy.parse(headers) if strategy else None
            if found is not None:
                return found
        return None

    async def authenticate(self, data: Any, params: Mapping[str, Any], *allowed: str) -> dict[str, Any]:
        """Run the strategy named in `data` if it is among `allowed`."""
        if not allowed:
            raise NotAuthenticated("No authentication strategies allowed for creating a JWT (`authStrategies`)")
        name = data.get("strategy") if isinstance(data, Mapping) else None
        if not name:
            raise NotAuthenticated("Invalid authentication information (no `strategy` set)")
        if name not in allowed:
            raise NotAuthenticated("Invalid authentication information (strategy not allowed in authStrategies)")
        strategy = self.strategies.get(name)
        if strategy is None:
            raise NotAuthenticated("Invalid authentication information")
        return await strategy.authenticate(data, params)

    async def create(self, data: Any, params: Mapping[str, Any]) -> dict[str, Any]:
        """Log in: authenticate, then mint a token unless the strategy returned one."""
        allowed = params.get("auth_strategies") or self.auth_strategies
        result = await self.authenticate(data, params, *allowed)
        if "accessToken" in result:
            return result
        user = result[self.entity_name]
        subject = user.get(self.entity_service.id) if isinstance(user, Mapping) else None
        if subject is None:
            raise NotAuthenticated(f"Can not set subject from {self.entity_name}.{self.entity_service.id}")
        # `amr` (RFC 8176) records how the caller proved who they are, e.g. ["api-key"].
        token = self.tokens.create(str(subject), {"amr": [result["authentication"]["strategy"]]})
        authentication = {**result["authentication"], "payload": self.tokens.verify(token)}
        return {"accessToken": token, **result, "authentication": authentication}

    async def remove(self, id: Any, params: Mapping[str, Any]) -> dict[str, Any]:
        """Log out: answer with the current authentication, then forget the connection's."""
        authentication = params.get("authentication")
        if not authentication:
            raise NotAuthenticated("Invalid authentication information (no `strategy` set)")
        if id is not None and id != authentication.get("accessToken"):
            raise NotAuthenticated("Invalid access token")
        return await self.authenticate(authentication, params, *self.auth_strategies)

    async def authenticate_connection(self, connection: Connection) -> None:
        """Handshake login from `Authorization` headers; failures refuse the connection."""
        data = self.parse(connection["headers"])
        if data is None:
            return
        assert self.app is not None
        await self.app.service("authentication").create(data, {"provider": connection["provider"], "connection": connection})

    # -- connection state and app events -------------------------------------------------------

    async def _dispatch_external(self, context: HookContext) -> dict[str, Any]:
        """The result with the entity as its own service shows it to this caller (hidden
        fields removed); it becomes what the caller receives."""
        result, params = context.result, context.params
        user = result[self.entity_name]
        shown = await self.entity_service.run(
            "get", [user[self.entity_service.id]],
            {"provider": params.get("provider"), self.entity_name: user, "authenticated": True})
        context.dispatch = {**result, self.entity_name: shown.outgoing}
        return context.dispatch

    async def _after_login(self, context: HookContext) -> None:
        result, params = context.result, context.params
        if not params.get("provider"):
            return
        # The connection and the `login` event get the external form, as the client does:
        # the connection is spread into every call's params, listeners log what they get.
        external = await self._dispatch_external(context)
        connection = params.get("connection")
        if isinstance(connection, Connection) and not connection.closed:  # gone: keep nothing
            connection["authentication"] = {"strategy": "jwt", "accessToken": result["accessToken"]}
            connection[self.entity_name] = external[self.entity_name]
            self._schedule_expiry(connection, result["authentication"].get("payload") or {})
        assert self.app is not None
        self.app.emit("login", external, params, context)

    async def _after_logout(self, context: HookContext) -> None:
        result, params = context.result, context.params
        if not params.get("provider"):
            return
        external = await self._dispatch_external(context)
        connection = params.get("connection")
        if isinstance(connection, Connection):
            current = (connection.get("authentication") or {}).get("accessToken")
            if current and current == result.get("accessToken"):
                self._forget_connection(connection)
        assert self.app is not None
        self.app.emit("logout", external, params, context)

    def _schedule_expiry(self, connection: Connection, payload: Mapping[str, Any]) -> None:
        """When the token expires the connection is logged out by disconnecting it."""
        previous = self._expiry_timers.pop(connection, None)
        if previous is not None:
            previous.cancel()
        expires = payload.get("exp")
        if not isinstance(expires, (int, float)):
            return
        assert self.app is not None
        app = self.app
        self._expiry_timers[connection] = app.clock.call_later(
            expires - app.clock.time(), app.emit, "disconnect", connection)

    def _forget_connection(self, connection: Connection) -> None:
        timer = self._expiry_timers.pop(connection, None)
        if timer is not None:
            timer.cancel()
        connection.pop("authentication", None)
        connection.pop(self.entity_name, None)

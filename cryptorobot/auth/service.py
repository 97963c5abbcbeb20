"""The `authentication` service: log in (`create`), log out (`remove`), connection state.

Follows Feathers v5 (feathers-wire section 7) so `@feathersjs/authentication-client` works
unchanged: the response shape, the error messages, socket connection state set before the
`login` app event, a logout at the token's expiry, and handshake logins.

Beyond Feathers, sessions end (`revocation.py`): logging out ends the token it used, for
every later request and every socket logged in with it (`sessions.py`); the strategies
end tokens too (a revoked API key's, the other sessions of a changed password).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..channels import Connection
from ..errors import NotAuthenticated
from ..hooks import HookContext
from .passwords import DEFAULT_ROUNDS
from .revocation import Revocation, Revocations
from .revocation_stores import MemoryRevocationStore
from .sessions import DEFAULT_SWEEP_INTERVAL, SocketSessions
from .strategies import Strategy
from .throttle import FailureThrottle
from .tokens import TokenIssuer

if TYPE_CHECKING:
    from ..app import App
    from ..service import ServiceProxy

__all__ = ["AuthenticationService"]


class AuthenticationService:
    """Registered at `authentication`; strategies are added with `register`."""

    def __init__(self, tokens: TokenIssuer, *, entity: str = "user", service: str = "users",
                 auth_strategies: Iterable[str] = ("jwt", "local"), password_rounds: int = DEFAULT_ROUNDS,
                 revocations: Revocations | None = None, sweep_interval: float = DEFAULT_SWEEP_INTERVAL,
                 throttle: FailureThrottle | None = None) -> None:
        """`revocations`: where ended sessions are kept (default: this process's memory);
        `sweep_interval`: seconds between checks of this process's logged-in sockets
        against a store other processes write to (see `sessions.py`); `throttle`: what
        slows down password and API-key guessing by clients (`throttle.py`; None: nothing)."""
        self.tokens = tokens
        self.entity_name = entity
        self.entity_path = service
        self.auth_strategies = tuple(auth_strategies)
        self.password_rounds = password_rounds
        self.strategies: dict[str, Strategy] = {}
        self.app: App | None = None
        self.path = ""
        self.revocations = revocations or Revocations(MemoryRevocationStore(tokens.clock), tokens.clock, tokens.lifetime)
        self.sweep_interval = sweep_interval
        self.throttle = throttle
        self._sessions: SocketSessions | None = None

    def register(self, strategy: Strategy) -> AuthenticationService:
        strategy.bind(self)
        self.strategies[strategy.name] = strategy
        return self

    @property
    def entity_service(self) -> ServiceProxy:
        assert self.app is not None
        return self.app.service(self.entity_path)

    # -- service life cycle --------------------------------------------------------------------

    async def setup(self, app: App, path: str) -> None:
        self.app = app
        self.path = path
        store = self.revocations.store
        await store.setup()
        self._sessions = SocketSessions(app, self.revocations, self.sweep_interval)
        follow = getattr(store, "follow", None)
        if callable(follow):  # a store that keeps a copy of what other processes record
            app.supervise(f"{path}: ended sessions recorded elsewhere", follow)
        if store.shared:
            app.supervise(f"{path}: sockets of sessions ended elsewhere", self._sessions.sweep_forever)
        for registered in self.strategies.values():
            registered.setup(app)
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

    async def teardown(self) -> None:
        if self._sessions is not None:
            self._sessions.close()
        await self.revocations.store.close()

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
        # `amr` (RFC 8176) records how the caller proved who they are, e.g. ["api-key"];
        # `apiKey`, the key a token was obtained with: revoking the key ends the token.
        claims: dict[str, Any] = {"amr": [result["authentication"]["strategy"]]}
        if result["authentication"].get("keyId") is not None:
            claims["apiKey"] = result["authentication"]["keyId"]
        token = self.tokens.create(str(subject), claims)
        authentication = {**result["authentication"], "payload": self.tokens.verify(token)}
        return {"accessToken": token, **result, "authentication": authentication}

    async def remove(self, id: Any, params: Mapping[str, Any]) -> dict[str, Any]:
        """Log out: answer with the current authentication and end its token (for every
        later request, here and in every process sharing the revocation store)."""
        authentication = params.get("authentication")
        if not authentication:
            raise NotAuthenticated("Invalid authentication information (no `strategy` set)")
        if id is not None and id != authentication.get("accessToken"):
            raise NotAuthenticated("Invalid access token")
        result = await self.authenticate(authentication, params, *self.auth_strategies)
        payload = (result.get("authentication") or {}).get("payload")
        if payload:
            self.end_locally(await self.revocations.end_token(payload), spare=params.get("connection"))
        return result

    async def end_sessions(self, subject: Any, *, keep: str | None = None) -> None:
        """End every token of `subject` but the one with jti `keep` (a password change)."""
        self.end_locally(await self.revocations.end_subject(subject, keep=keep))

    def end_locally(self, revocation: Revocation, *, spare: Any = None) -> None:
        """Disconnect this process's sockets whose tokens `revocation` ended (but `spare`)."""
        if self._sessions is not None:
            self._sessions.end(revocation, spare=spare)

    async def authenticate_connection(self, connection: Connection) -> None:
        """Handshake login from `Authorization` headers; failures refuse the connection."""
        data = self.parse(connection["headers"])
        if data is None:
            return
        assert self.app is not None
        await self.app.service("authentication").create(
            data, {"provider": connection["provider"], "connection": connection, "ip": connection.get("ip")})

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
            assert self._sessions is not None
            self._sessions.track(connection, result["authentication"].get("payload") or {})
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

    def _forget_connection(self, connection: Connection) -> None:
        if self._sessions is not None:
            self._sessions.forget(connection)
        connection.pop("authentication", None)
        connection.pop(self.entity_name, None)

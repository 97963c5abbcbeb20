"""Authentication strategies: JWT (bearer tokens), local (email + password), API keys.

A strategy may `parse` request or handshake headers into authentication data, and
`authenticate` such data into `{"authentication": {...}, "<entity>": record}`; one that
reads headers declares how in `security_scheme()` (OpenAPI), which the authentication
service adds to `app.security_schemes`. The entity
is loaded with internal calls (no provider), so the record is complete; what leaves the
server is decided by the entity service's own hooks.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import NotAuthenticated, NotFound
from ..hooks import HookContext
from .password_change import CURRENT_PASSWORD_FIELD, password_change
from .passwords import hash_password, verify_password

if TYPE_CHECKING:
    from ..app import App
    from .service import AuthenticationService

__all__ = ["ApiKeyStrategy", "JwtStrategy", "LocalStrategy", "Strategy", "generate_api_key", "hash_api_key"]


class Strategy:
    """Base: subclasses set `name` and implement `authenticate`; `parse` is optional."""

    name = ""

    def __init__(self) -> None:
        self.service: AuthenticationService | None = None

    def bind(self, service: AuthenticationService) -> None:
        self.service = service

    def setup(self, app: App) -> None:
        """Called once the app starts (after `bind`): register what the strategy needs
        on other services."""

    def parse(self, headers: Mapping[str, str]) -> dict[str, Any] | None:
        return None

    def security_scheme(self) -> tuple[str, dict[str, Any]] | None:
        """`(name, OpenAPI Security Scheme Object)` for the headers `parse` reads; None: none."""
        return None

    async def authenticate(self, data: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    async def entity(self, id: Any) -> dict[str, Any]:
        """The complete entity record, or NotAuthenticated when it no longer exists."""
        assert self.service is not None
        try:
            return await self.service.entity_service.get(id)
        except NotFound:
            raise NotAuthenticated("Not authenticated") from None


class JwtStrategy(Strategy):
    """`Authorization: Bearer <token>`; verifies the token and loads its subject."""

    name = "jwt"

    def __init__(self, header: str = "authorization", schemes: tuple[str, ...] = ("Bearer", "JWT")) -> None:
        super().__init__()
        self.header = header.lower()
        self.schemes = tuple(scheme.lower() for scheme in schemes)

    def parse(self, headers: Mapping[str, str]) -> dict[str, Any] | None:
        value = headers.get(self.header)
        if not value:
            return None
        words = value.split()
        if len(words) == 1:
            return {"strategy": self.name, "accessToken": words[0]}
        if len(words) == 2 and any(scheme in words[0].lower() for scheme in self.schemes):
            return {"strategy": self.name, "accessToken": words[1]}
        return None

    def security_scheme(self) -> tuple[str, dict[str, Any]]:
        where = f"POST /{self.service.path}" if self.service is not None and self.service.path else "logging in"
        text = f"An access token from `{where}`."
        if self.header != "authorization":
            return "bearerAuth", {"type": "apiKey", "in": "header", "name": self.header, "description": text}
        return "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": text}

    async def authenticate(self, data: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        assert self.service is not None
        token = data.get("accessToken")
        payload = self.service.tokens.verify(token)
        await self.service.revocations.check(payload)  # logged out, password changed, key revoked
        user = await self.entity(payload["sub"])
        return {
            "accessToken": token,
            "authentication": {"strategy": self.name, "accessToken": token, "payload": payload},
            self.service.entity_name: user,
        }


class LocalStrategy(Strategy):
    """Username and password against the entity service's stored bcrypt hash."""

    name = "local"

    def __init__(self, username_field: str = "email", password_field: str = "password",
                 normalize: Callable[[str], str] = str.strip, error_message: str = "Invalid login",
                 current_password_field: str = CURRENT_PASSWORD_FIELD) -> None:
        super().__init__()
        self.username_field = username_field
        self.password_field = password_field
        self.current_password_field = current_password_field
        self.normalize = normalize
        self.error_message = error_message
        self._decoy: str | None = None

    def setup(self, app: App) -> None:
        """Changing the password on the entity service needs the current one, and ends the
        user's other sessions (`password_change.py`)."""
        assert self.service is not None
        if self.service.entity_path in app.services:
            hook = password_change(self.service, self.password_field, self.current_password_field, self.decoy_hash,
                                   self.username_field)
            app.service(self.service.entity_path).hooks({"around": {"patch": [hook], "update": [hook]}})

    async def decoy_hash(self) -> str:
        """A real hash at the configured cost: unknown users take as long as wrong passwords."""
        if self._decoy is None:
            assert self.service is not None
            self._decoy = await hash_password(secrets.token_urlsafe(16), self.service.password_rounds)
        return self._decoy

    async def authenticate(self, data: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        """The user whose stored hash the password matches; a client's failures are
        throttled (`throttle.py`: 429 before any comparison once locked)."""
        assert self.service is not None
        username, password = data.get(self.username_field), data.get(self.password_field)
        # Only plain strings: `{"$ne": ""}` and friends never reach a query.
        if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
            raise NotAuthenticated(self.error_message)
        account = self.normalize(username)
        throttle = self.service.throttle if params.get("provider") is not None else None
        if throttle is not None:
            await throttle.check(params.get("ip"), account)
        found = await self.service.entity_service.find({
            "query": {self.username_field: account, "$limit": 1}, "paginate": False})
        user = found[0] if found else None
        stored = user.get(self.password_field) if user else None
        matches = await verify_password(password, stored if isinstance(stored, str) else await self.decoy_hash())
        if not (user and matches):
            if throttle is not None:
                await throttle.failed(params.get("ip"), account)
            raise NotAuthenticated(self.error_message)
        if throttle is not None:
            await throttle.succeeded(params.get("ip"), account)
        return {"authentication": {"strategy": self.name}, self.service.entity_name: user}


def hash_api_key(key: str) -> str:
    """API keys carry 256 random bits, so a fast hash is enough and lookups stay indexed."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_api_key(prefix: str = "crk") -> tuple[str, str]:
    """A new key and its stored hash; the key itself is shown once and never kept."""
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    return key, hash_api_key(key)


class ApiKeyStrategy(Strategy):
    """`X-API-Key: <key>` for server-to-server calls; authenticates as the key's owner."""

    name = "api-key"

    def __init__(self, key_service: str = "api-keys", header: str = "X-API-Key", owner_field: str = "userId") -> None:
        super().__init__()
        self.key_service = key_service
        self.header_name = header  # as documented; matched case-insensitively
        self.header = header.lower()
        self.owner_field = owner_field

    def parse(self, headers: Mapping[str, str]) -> dict[str, Any] | None:
        value = headers.get(self.header)
        return {"strategy": self.name, "apiKey": value} if value else None

    def setup(self, app: App) -> None:
        """Removing a key (however it is removed) ends the tokens obtained with it."""
        if self.key_service in app.services:
            app.service(self.key_service).hooks({"after": {"remove": [self._end_key_tokens]}})

    async def _end_key_tokens(self, context: HookContext) -> None:
        assert self.service is not None
        id_field = context.service.id
        removed = context.result if isinstance(context.result, list) else [context.result]
        for key in removed:
            if isinstance(key, Mapping) and key.get(id_field) is not None:
                self.service.end_locally(await self.service.revocations.end_api_key(key[id_field]))

    def security_scheme(self) -> tuple[str, dict[str, Any]]:
        return "apiKey", {"type": "apiKey", "in": "header", "name": self.header_name, "description": "An API key."}

    async def authenticate(self, data: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        """The key's owner; a client's unknown keys count as failures of its address
        (`throttle.py`: 429 before any lookup once locked)."""
        assert self.service is not None
        key = data.get("apiKey")
        if not isinstance(key, str) or not key:
            raise NotAuthenticated("Invalid API key")
        assert self.service.app is not None
        throttle = self.service.throttle if params.get("provider") is not None else None
        if throttle is not None:
            await throttle.check(params.get("ip"))
        keys = self.service.app.service(self.key_service)
        found = await keys.find({"query": {"hash": hash_api_key(key), "$limit": 1}, "paginate": False})
        if not found:
            if throttle is not None:
                await throttle.failed(params.get("ip"))
            raise NotAuthenticated("Invalid API key")
        user = await self.entity(found[0][self.owner_field])
        return {"authentication": {"strategy": self.name, "keyId": found[0].get(keys.id)}, self.service.entity_name: user}

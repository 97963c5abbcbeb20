"""Building the authentication service from the `[authentication]` configuration section."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..ratelimit import counters_for
from .password_change import CURRENT_PASSWORD_FIELD
from .passwords import DEFAULT_ROUNDS
from .revocation import Revocations
from .revocation_stores import revocation_store
from .secret import resolve_secret
from .service import AuthenticationService
from .sessions import DEFAULT_SWEEP_INTERVAL
from .strategies import ApiKeyStrategy, JwtStrategy, LocalStrategy
from .throttle import FailureThrottle
from .tokens import TokenIssuer

if TYPE_CHECKING:
    from ..app import App

__all__ = ["configure_authentication"]


def _lower(text: str) -> str:
    return text.strip().lower()


def configure_authentication(app: App, path: str = "authentication") -> AuthenticationService:
    """Register the authentication service with every strategy the configuration names, and
    the throttle of failed password and API-key checks (`[authentication.throttle]`)."""
    config: dict[str, Any] = app.get("authentication") or {}
    jwt_options: dict[str, Any] = config.get("jwt_options") or {}
    configured = config.get("secret")  # an all-digit secret from the environment parses as a number
    secret = resolve_secret(str(configured) if configured not in (None, "") else None,
                            app.get("data_dir") or "./data", app.get("env") or "development")
    tokens = TokenIssuer(
        secret,
        algorithm=jwt_options.get("algorithm", "HS256"),
        audience=jwt_options.get("audience"),
        issuer=jwt_options.get("issuer"),
        expires_in=jwt_options.get("expires_in", "1d"),
        clock=app.clock,
    )
    strategies = tuple(config.get("auth_strategies") or ("jwt", "local"))
    revocation: dict[str, Any] = config.get("revocation") or {}
    service = AuthenticationService(
        tokens, entity=config.get("entity", "user"), service=config.get("service", "users"),
        auth_strategies=strategies, password_rounds=int(config.get("password_rounds", DEFAULT_ROUNDS)),
        revocations=Revocations(revocation_store(app), app.clock, tokens.lifetime),
        sweep_interval=float(revocation.get("sweep_interval", DEFAULT_SWEEP_INTERVAL)),
        throttle=FailureThrottle.from_section(config.get("throttle"), counters_for(app)))
    local: dict[str, Any] = config.get("local") or {}
    service.register(JwtStrategy())
    service.register(LocalStrategy(local.get("username_field", "email"), local.get("password_field", "password"),
                                   normalize=_lower if local.get("lowercase_username", True) else str.strip,
                                   current_password_field=local.get("current_password_field", CURRENT_PASSWORD_FIELD)))
    api_key: dict[str, Any] = config.get("api_key") or {}
    service.register(ApiKeyStrategy(api_key.get("service", "api-keys"), api_key.get("header", "X-API-Key")))
    app.use(path, service, {"methods": ["create", "remove"], "docs": {"codes": []}})  # no service-specific codes
    return service

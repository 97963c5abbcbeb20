"""Authentication: the `authentication` service, JWT/local/API-key strategies, the hook.

Set up from configuration with `configure_authentication(app)`.
"""

from .hook import authenticate
from .passwords import hash_password, verify_password
from .secret import resolve_secret
from .service import AuthenticationService
from .setup import configure_authentication
from .strategies import ApiKeyStrategy, JwtStrategy, LocalStrategy, Strategy, generate_api_key, hash_api_key
from .tokens import TokenIssuer

__all__ = [
    "AuthenticationService", "ApiKeyStrategy", "JwtStrategy", "LocalStrategy", "Strategy", "TokenIssuer",
    "authenticate", "configure_authentication", "generate_api_key", "hash_api_key", "hash_password",
    "resolve_secret", "verify_password",
]

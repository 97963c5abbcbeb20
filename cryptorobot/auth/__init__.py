"""Authentication: the `authentication` service, JWT/local/API-key strategies, the hook,
ended sessions (`Revocations` in a `RevocationStore`, see `revocation.py`), and the throttle
of password and API-key guessing (`FailureThrottle`, see `throttle.py`).

Set up from configuration with `configure_authentication(app)`.
"""

from .hook import authenticate
from .password_change import password_change
from .passwords import hash_password, verify_password
from .revocation import Revocation, Revocations, RevocationStore
from .revocation_stores import AdapterRevocationStore, MemoryRevocationStore, RedisRevocationStore, revocation_store
from .secret import resolve_secret
from .service import AuthenticationService
from .setup import configure_authentication
from .strategies import ApiKeyStrategy, JwtStrategy, LocalStrategy, Strategy, generate_api_key, hash_api_key
from .throttle import FailureThrottle, ThrottleSettings
from .tokens import TokenIssuer

__all__ = [
    "AdapterRevocationStore", "ApiKeyStrategy", "AuthenticationService", "FailureThrottle", "JwtStrategy",
    "LocalStrategy", "MemoryRevocationStore", "RedisRevocationStore", "Revocation", "RevocationStore", "Revocations",
    "Strategy", "ThrottleSettings", "TokenIssuer", "authenticate", "configure_authentication", "generate_api_key",
    "hash_api_key", "hash_password", "password_change", "resolve_secret", "revocation_store", "verify_password",
]

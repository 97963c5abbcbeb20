"""Reusable platform hooks. `authenticate` is the framework's (cryptorobot.auth).

Validation, timestamps and hidden fields are the framework's schemas
(`app.use(path, service, {"schemas": ...})`, see `cryptorobot.schemas`).
"""

from cryptorobot.auth import authenticate

from .owner import restrict_to_owner
from .scopes import deny_api_keys

__all__ = ["authenticate", "deny_api_keys", "restrict_to_owner"]

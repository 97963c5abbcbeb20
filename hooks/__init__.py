"""Reusable platform hooks. `authenticate` is the framework's (cryptorobot.auth), and so is
`limit_by` (cryptorobot.ratelimit: an extra budget per key, e.g. a webhook's signal token).

Validation, timestamps and hidden fields are the framework's schemas
(`app.use(path, service, {"schemas": ...})`, see `cryptorobot.schemas`).
"""

from cryptorobot.auth import authenticate
from cryptorobot.ratelimit import limit_by

from .admin import admins_only
from .owner import restrict_to_owner
from .scopes import deny_api_keys

__all__ = ["admins_only", "authenticate", "deny_api_keys", "limit_by", "restrict_to_owner"]

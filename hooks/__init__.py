"""Reusable platform hooks. `authenticate` is the framework's (cryptorobot.auth)."""

from cryptorobot.auth import authenticate

from .owner import restrict_to_owner
from .protect import protect, without
from .scopes import deny_api_keys
from .timestamps import timestamps
from .validate import validate_data

__all__ = ["authenticate", "deny_api_keys", "protect", "restrict_to_owner", "timestamps", "validate_data", "without"]

"""Exchange credentials at rest: sealed with Fernet, under a key that never sits in the database.

An account's credentials (ccxt's names: `apiKey`, `secret`, `password`, `uid`, ...) are
kept as one Fernet token (`cryptography`: AES-128-CBC with an HMAC-SHA256, a timestamp
and a random IV, so two seals of the same values differ) in the record's
`sealedCredentials`; the record also says which names are set and shows the API key's
first characters, neither of which is a secret.

The key comes from `exchanges.credentials_key` (`CRYPTOROBOT_EXCHANGES__CREDENTIALS_KEY`),
or outside production from `<data_dir>/credentials-key`, generated once (mode 0600).
Production refuses to start without a configured key, as for the JWT secret. Several
keys separated by commas rotate: the first seals, every one opens (Fernet's `MultiFernet`,
the reason to prefer Fernet over a bare AES-GCM here), and a patch of an account's
credentials re-seals them under the first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from cryptorobot.auth.secret import stored_secret

__all__ = ["CREDENTIAL_FIELDS", "KEY_FILE", "CredentialBox", "Unreadable", "api_key_hint", "credentials_box"]

CREDENTIAL_FIELDS = ("apiKey", "secret", "password", "uid", "login", "twofa", "privateKey", "walletAddress", "token",
                     "accountId")
"""ccxt's credential attributes (`Exchange.requiredCredentials`), in its order."""
KEY_FILE = "credentials-key"
SETTING = "exchanges.credentials_key (CRYPTOROBOT_EXCHANGES__CREDENTIALS_KEY)"


class Unreadable(Exception):
    """Sealed credentials that no configured key opens."""


class CredentialBox:
    """Seals and opens credential mappings (`{"apiKey": "...", "secret": "..."}`)."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("a credential box needs at least one key")
        try:
            self._fernet = MultiFernet([Fernet(key.strip().encode()) for key in keys])
        except (ValueError, TypeError):
            raise RuntimeError(f"{SETTING} must be Fernet keys (32 url-safe base64-encoded bytes), separated by "
                               "commas; make one with: python -c \"from cryptography.fernet import Fernet; "
                               "print(Fernet.generate_key().decode())\"") from None

    def seal(self, credentials: Mapping[str, str]) -> str:
        """A token holding `credentials` (only string values of known names)."""
        values = {name: credentials[name] for name in CREDENTIAL_FIELDS if credentials.get(name)}
        return self._fernet.encrypt(json.dumps(values, separators=(",", ":")).encode()).decode()

    def open(self, token: str | None) -> dict[str, str]:
        """The credentials in `token` (`{}` for None); `Unreadable` when no key opens it."""
        if not token:
            return {}
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except (InvalidToken, ValueError):
            raise Unreadable("the stored credentials can not be decrypted with the configured keys") from None


def api_key_hint(api_key: str | None) -> str | None:
    """What a response may show of an API key: its first 4 characters, for keys long enough
    (12+) that this leaves most of it unknown; None otherwise."""
    if not api_key or len(api_key) < 12:
        return None
    return f"{api_key[:4]}…"


def credentials_box(settings: Mapping[str, Any]) -> CredentialBox:
    """The box the configuration names (see the module docstring); RuntimeError in
    production without a key, or for a key that is not a Fernet key."""
    configured = str((settings.get("exchanges") or {}).get("credentials_key") or "").strip()
    if configured:
        return CredentialBox([key for key in configured.split(",") if key.strip()])
    if (settings.get("env") or "development") == "production":
        raise RuntimeError(f"production needs {SETTING}")
    path = Path(settings.get("data_dir") or "./data") / KEY_FILE
    return CredentialBox([stored_secret(path, lambda: Fernet.generate_key().decode())])

"""`users`: sign-up and one's own account. Passwords are stored only as bcrypt hashes.

Anyone may `create` (sign up); everything else needs a token or API key and touches only
the caller's own record. The hash never leaves the server: `protect` strips it from
every result and event, while internal callers (the local strategy) still read it.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from cryptorobot import App
from cryptorobot.adapters import Index
from cryptorobot.auth import hash_password
from cryptorobot.auth.passwords import MAX_PASSWORD_BYTES
from cryptorobot.hooks import HookContext
from cryptorobot.storage import persisted
from hooks import authenticate, deny_api_keys, protect, restrict_to_owner, timestamps, validate_data

__all__ = ["register", "UserCreateSchema", "UserPatchSchema", "MIN_PASSWORD_LENGTH"]

MIN_PASSWORD_LENGTH = 8


def _fits_bcrypt(password: str) -> None:
    """bcrypt reads 72 bytes; 72 characters can be more (é is 2 bytes), so count bytes."""
    try:
        encoded = password.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800") from a JSON body
        raise ValidationError("Not valid Unicode text.") from None
    if len(encoded) > MAX_PASSWORD_BYTES:
        raise ValidationError(f"Longer than {MAX_PASSWORD_BYTES} bytes in UTF-8.")


class UserCreateSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True,
                             validate=[validate.Length(min=MIN_PASSWORD_LENGTH), _fits_bcrypt])
    name = fields.String(validate=validate.Length(max=100))


class UserPatchSchema(UserCreateSchema):
    pass


def normalize_email(context: HookContext) -> None:
    """Emails are unique case-insensitively: stored lower-case, looked up lower-case."""
    if isinstance(context.data, dict) and isinstance(context.data.get("email"), str):
        context.data["email"] = context.data["email"].strip().lower()


def hash_new_password(rounds: int):
    async def hash_new_password_hook(context: HookContext) -> None:
        if isinstance(context.data, dict) and isinstance(context.data.get("password"), str):
            context.data["password"] = await hash_password(context.data["password"], rounds)

    return hash_new_password_hook


def register(app: App) -> None:
    auth_settings: dict[str, Any] = app.get("authentication") or {}
    rounds = int(auth_settings.get("password_rounds", 12))
    service = persisted(app, id="_id", paginate=app.get("paginate") or {"default": 25, "max": 100},
                        indexes=[Index(("email",), unique=True)])
    app.use("users", service, {"methods": ["find", "get", "create", "patch", "remove"]})
    app.service("users").hooks({
        "before": {
            "find": [authenticate("jwt", "api-key"), restrict_to_owner("_id")],
            "get": [authenticate("jwt", "api-key"), restrict_to_owner("_id")],
            # Normalised before validation: " Ann@Example.com " signs up (and logs in) as ann@example.com.
            "create": [normalize_email, validate_data(UserCreateSchema()), hash_new_password(rounds), timestamps()],
            # Account changes need a password login: a leaked API key can't take the account over.
            "patch": [authenticate("jwt", "api-key"), deny_api_keys, restrict_to_owner("_id"), normalize_email,
                      validate_data(UserPatchSchema(), partial=True), hash_new_password(rounds), timestamps()],
            "remove": [authenticate("jwt", "api-key"), deny_api_keys, restrict_to_owner("_id")],
            # Not exposed; internal callers replacing a record still never store a plain password.
            "update": [normalize_email, hash_new_password(rounds)],
        },
        "after": {"all": [protect("password")]},
    })
    app.service("users").publish(lambda user, context: app.channel(f"users/{user['_id']}"))

"""`api-keys`: named keys for server-to-server calls (`X-API-Key: <key>`).

The key is returned once, by `create`; only its SHA-256 is stored, so a leaked database
reveals no usable key. Revoking is `remove`. Keys are the owner's alone.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cryptorobot import App
from cryptorobot.adapters import AdapterService, Index
from cryptorobot.auth import generate_api_key
from cryptorobot.hooks import HookContext
from cryptorobot.storage import persisted
from hooks import authenticate, deny_api_keys, protect, restrict_to_owner, timestamps, validate_data, without

__all__ = ["register", "ApiKeyCreateSchema"]

SECRET_FIELDS = frozenset({"hash", "key"})


class ApiKeyCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


def issue_key(context: HookContext) -> None:
    """Generate the key before storing; the plain key rides along in params, not the record."""
    key, hashed = generate_api_key()
    context.data["hash"] = hashed
    context.data["prefix"] = key[:8]
    context.params["issued_key"] = key


def reveal_key_once(context: HookContext) -> None:
    """The creator's response carries the key; stored records and events never do."""
    context.dispatch = {**without(context.result, SECRET_FIELDS), "key": context.params["issued_key"]}


def register(app: App) -> None:
    service: AdapterService = persisted(
        app, id="_id", paginate=app.get("paginate") or {"default": 25, "max": 100},
        indexes=[Index(("hash",), unique=True), Index(("userId",))])
    app.use("api-keys", service, {"methods": ["find", "get", "create", "remove"]})
    signed_in, owner_only = authenticate("jwt", "api-key"), restrict_to_owner("userId")
    app.service("api-keys").hooks({
        "before": {
            "find": [signed_in, owner_only],
            "get": [signed_in, owner_only],
            # Issuing and revoking keys needs a password login: one key can't mint or revoke others.
            "create": [signed_in, deny_api_keys, validate_data(ApiKeyCreateSchema()), owner_only, issue_key,
                       timestamps()],
            "remove": [signed_in, deny_api_keys, owner_only],
        },
        "after": {"all": [protect("hash")], "create": [reveal_key_once]},
    })
    app.service("api-keys").publish(
        lambda key, context: app.channel(f"users/{key['userId']}").send(without(key, SECRET_FIELDS)))

"""`api-keys`: named keys for server-to-server calls (`X-API-Key: <key>`).

The key is returned once, by `create`; only its SHA-256 is stored, so a leaked database
reveals no usable key. Revoking is `remove`. Keys are the owner's alone. The result
schema leaves `hash` out of every response and event; the stored `hash` is queryable by
server code only (the API-key strategy's lookup).
"""

from __future__ import annotations

from collections.abc import Callable

from marshmallow import validate

from cryptorobot import App, Channel
from cryptorobot.adapters import AdapterService, Index
from cryptorobot.auth import generate_api_key
from cryptorobot.hooks import HookContext
from cryptorobot.schemas import QuerySchema, Schema, fields
from cryptorobot.storage import persisted
from hooks import authenticate, deny_api_keys, restrict_to_owner
from services.users import EQUALITY, SELECT_ONLY, RecordId

__all__ = ["register", "ApiKeyCreateSchema", "ApiKeyQuerySchema", "ApiKeyResultSchema"]


class ApiKeyCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class ApiKeyQuerySchema(QuerySchema):
    _id = RecordId(metadata={"operators": EQUALITY})
    name = fields.String()
    userId = RecordId(metadata={"operators": EQUALITY})
    createdAt = fields.DateTime()
    prefix = fields.String(metadata=SELECT_ONLY)
    updatedAt = fields.DateTime(metadata=SELECT_ONLY)
    # The API-key strategy finds a key by its hash; clients can neither filter, sort nor select it.
    hash = fields.String(metadata={"internal": True, "operators": ()})


class ApiKeyResultSchema(Schema):
    """What clients see of a key: never its hash."""

    _id = RecordId()
    name = fields.String()
    userId = RecordId()
    prefix = fields.String(metadata={"description": "The key's first 8 characters, to tell keys apart."})
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()
    key = fields.String(metadata={"description": "The key itself: only in the response to `create`, shown once."})


RESULT = ApiKeyResultSchema()


def issue_key(context: HookContext) -> None:
    """Generate the key before storing; the plain key rides along in params, not the record."""
    key, hashed = generate_api_key()
    context.data["hash"] = hashed
    context.data["prefix"] = key[:8]
    context.params["issued_key"] = key


def reveal_key_once(context: HookContext) -> None:
    """The creator's response carries the key (after the result schema has shaped it);
    stored records never do, and the `created` event is sent without it (see `register`)."""
    context.dispatch = {**context.outgoing, "key": context.params["issued_key"]}


def register(app: App) -> None:
    service: AdapterService = persisted(
        app, id="_id", paginate=app.get("paginate") or {"default": 25, "max": 100},
        indexes=[Index(("hash",), unique=True), Index(("userId",))])
    app.use("api-keys", service, {
        "methods": ["find", "get", "create", "remove"],
        "schemas": {"create": ApiKeyCreateSchema, "query": ApiKeyQuerySchema, "result": RESULT},
        "docs": {"description": "One's API keys. Creating and revoking keys needs a password login (a token "
                                "from the local strategy), not an API key.",
                 "security": [{"bearerAuth": []}, {"apiKey": []}], "codes": []},
    })
    signed_in, owner_only = authenticate("jwt", "api-key"), restrict_to_owner("userId")
    app.service("api-keys").hooks({
        # Around hooks run before the schema hooks: 401/403 before the data or query is looked at.
        "around": {
            "find": [signed_in],
            "get": [signed_in],
            # Issuing and revoking keys needs a password login: one key can't mint or revoke others.
            "create": [signed_in, deny_api_keys],
            "remove": [signed_in, deny_api_keys],
        },
        "before": {
            "find": [owner_only],
            "get": [owner_only],
            "create": [owner_only, issue_key],
            "remove": [owner_only],
        },
        "after": {"create": [reveal_key_once]},
    })
    app.service("api-keys").publish(publish_key(app))


def publish_key(app: App) -> Callable[[dict, HookContext], Channel | None]:
    """Events go to the owner's room and carry the record as the result schema shapes it,
    not create's dispatch (which holds the key). `$select` may leave `userId` out of the
    record; the owner is then the caller (clients only ever touch their own keys)."""

    def publisher(key: dict, context: HookContext) -> Channel | None:
        owner = key.get("userId", (context.params.get("user") or {}).get("_id"))
        return None if owner is None else app.channel(f"users/{owner}").send(RESULT.dump(key))

    return publisher

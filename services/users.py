"""`users`: sign-up and one's own account. Passwords are stored only as bcrypt hashes.

Anyone may `create` (sign up); everything else needs a token or API key and touches only
the caller's own record. The schemas (`cryptorobot.schemas`) validate what clients write,
type what they query and shape what leaves the server: the result schema has no
`password`, so the hash never reaches a response or an event, while internal callers
(the local strategy) still read the whole record.

Every user has a `tier` (`[ratelimit] default_tier`, "free", at sign-up), which sets their
rate limits (`cryptorobot.ratelimit`), and `roles`, which only server code writes (a client
sending `roles` gets 400). An administrator is a user whose `roles` hold `"admin"`
(`is_admin`); only administrators and server code change a tier: an administrator patches
`{"tier": "pro"}` on any user (that patch alone may name another user), anyone else gets
403. `cryptorobot users set-tier` and `set-roles` (`services/user_commands.py`) are the
server code for operators.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from marshmallow import pre_load, validate

from cryptorobot import App
from cryptorobot.adapters import Index
from cryptorobot.auth import hash_password
from cryptorobot.auth.passwords import MAX_PASSWORD_BYTES
from cryptorobot.errors import BadRequest, Forbidden
from cryptorobot.hooks import HookContext, Next
from cryptorobot.ratelimit import RateLimitSettings
from cryptorobot.schemas import SERVER_FIELDS, VALIDATION_FAILED, QuerySchema, Schema, ValidationError, fields
from cryptorobot.schemas.query import INT_MAX, INT_MIN
from cryptorobot.storage import persisted
from hooks import authenticate, deny_api_keys, restrict_to_owner

__all__ = ["register", "ADMIN", "RecordId", "EQUALITY", "SELECT_ONLY", "UserCreateSchema", "UserPatchSchema",
           "UserQuerySchema", "UserResultSchema", "MIN_PASSWORD_LENGTH", "is_admin"]

ADMIN = "admin"
"""The role of administrators (`roles` holds it)."""

MIN_PASSWORD_LENGTH = 8
EQUALITY = ("$ne", "$in", "$nin")
"""Operators for values that are matched, never ordered (ids, emails)."""
SELECT_ONLY = {"filterable": False, "sortable": False}
"""A result field clients may `$select` but not filter or sort on."""


class RecordId(fields.Field):
    """A record id as the storage makes it: a string (SQLite, MongoDB) or an integer
    (memory). Kept as given both ways; REST delivers every id as a string."""

    default_error_messages = {"invalid": "Not a valid id."}  # noqa: RUF012 - marshmallow types it as an instance attribute

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"oneOf": [{"type": "string"}, {"type": "integer"}], **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str) or type(value).__name__ == "ObjectId":  # bson, not imported here
            return value
        if type(value) is int and INT_MIN <= value <= INT_MAX:
            return value
        raise self.make_error("invalid")


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
                             validate=[validate.Length(min=MIN_PASSWORD_LENGTH), _fits_bcrypt],
                             metadata={"description": f"At most {MAX_PASSWORD_BYTES} bytes in UTF-8."})
    name = fields.String(validate=validate.Length(max=100))

    @pre_load
    def normalize_email(self, data: Any, **_: Any) -> Any:
        """Emails are unique case-insensitively: stored lower-case, looked up lower-case.
        Before validation, so " Ann@Example.com " signs up (and logs in) as ann@example.com."""
        if isinstance(data, dict) and isinstance(data.get("email"), str):
            return {**data, "email": data["email"].strip().lower()}
        return data


class UserPatchSchema(UserCreateSchema):
    """Loaded with partial=True: every field optional. `tier` is for administrators
    (checked by `tier_changes_need_an_admin`, which knows the configured tiers)."""

    tier = fields.String(validate=validate.Length(min=1, max=50))


class UserQuerySchema(QuerySchema):
    _id = RecordId(metadata={"operators": EQUALITY})
    # Server code must find by email (the local strategy's login lookup). Clients may too:
    # the owner restriction is ANDed with their query, so they only ever match themselves.
    email = fields.String(metadata={"operators": EQUALITY})
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()
    name = fields.String(metadata=SELECT_ONLY)
    tier = fields.String(metadata=SELECT_ONLY)
    roles = fields.List(fields.String(), metadata=SELECT_ONLY)


class UserResultSchema(Schema):
    """What clients see of a user: never the password hash."""

    _id = RecordId()
    email = fields.String()
    name = fields.String()
    tier = fields.String(metadata={"description": "The rate-limit tier: free, pro, enterprise (`[ratelimit.tiers]`)."})
    roles = fields.List(fields.String(), metadata={"description": "Set by the server; `admin` makes an administrator."})
    createdAt = fields.DateTime()
    updatedAt = fields.DateTime()


SCHEMAS = {"create": UserCreateSchema, "patch": UserPatchSchema, "query": UserQuerySchema,
           "result": UserResultSchema, "server_fields": (*SERVER_FIELDS, "roles")}


def is_admin(user: Any) -> bool:
    """Whether `user` (a record) is an administrator: its `roles` hold `ADMIN`."""
    roles = user.get("roles") if isinstance(user, dict) else None
    return isinstance(roles, list) and ADMIN in roles


_TIER_CHANGE = "tier_change_by_admin"
"""Set in params by `tier_changes_need_an_admin` for an administrator's patch of `tier` alone."""


def tier_changes_need_an_admin(tiers: RateLimitSettings) -> Callable[[HookContext, Next], Awaitable[None]]:
    """An around hook on `patch`, after `authenticate`, before the schema: a client's `tier`
    needs an administrator (403 otherwise) and one of the configured tiers (400)."""

    async def tier_changes_need_an_admin_hook(context: HookContext, next_step: Next) -> None:
        data = context.data
        if context.params.get("provider") is not None and isinstance(data, dict) and "tier" in data:
            if not is_admin(context.params.get("user")):
                raise Forbidden("Only an administrator can change a tier")
            if tiers.tiers and data["tier"] not in tiers.tiers:
                raise BadRequest(VALIDATION_FAILED, errors={"tier": [f"Must be one of: {', '.join(tiers.tiers)}."]})
            context.params[_TIER_CHANGE] = set(data) == {"tier"}
        await next_step()

    return tier_changes_need_an_admin_hook


def owner_unless_admin_sets_tier() -> Callable[[HookContext], Awaitable[None]]:
    """`restrict_to_owner` for `patch`, except an administrator's patch of `tier` alone,
    which may name any user."""
    owner_only = restrict_to_owner("_id")

    async def owner_unless_admin_sets_tier_hook(context: HookContext) -> None:
        if context.params.get(_TIER_CHANGE) is not True:
            await owner_only(context)

    return owner_unless_admin_sets_tier_hook


def starting_tier(tiers: RateLimitSettings) -> Callable[[HookContext], None]:
    """A before hook on `create`: a new user starts on the default tier, with no roles
    (server code may give others)."""

    def starting_tier_hook(context: HookContext) -> None:
        if isinstance(context.data, dict):
            context.data.setdefault("tier", tiers.default_tier)
            context.data.setdefault("roles", [])

    return starting_tier_hook


def hash_new_password(rounds: int) -> Callable[[HookContext], Awaitable[None]]:
    async def hash_new_password_hook(context: HookContext) -> None:
        if isinstance(context.data, dict) and isinstance(context.data.get("password"), str):
            context.data["password"] = await hash_password(context.data["password"], rounds)

    return hash_new_password_hook


def register(app: App) -> None:
    auth_settings: dict[str, Any] = app.get("authentication") or {}
    rounds = int(auth_settings.get("password_rounds", 12))
    service = persisted(app, id="_id", paginate=app.get("paginate") or {"default": 25, "max": 100},
                        indexes=[Index(("email",), unique=True)])
    tiers = RateLimitSettings.from_section(app.get("ratelimit"))
    app.use("users", service, {
        "methods": ["find", "get", "create", "patch", "remove"],
        "schemas": SCHEMAS,  # validation and typed queries run first among the before hooks
        "docs": {"description": "Sign up (no credentials needed), then read, change or delete one's own account. "
                                "Changing or deleting the account needs a password login, not an API key. "
                                "A new `password` must come with the current one as `currentPassword`; "
                                "the change ends every other session of the user. Only an administrator "
                                "changes a `tier` (of any user, with a patch of `tier` alone).",
                 "codes": []},
    })
    signed_in = authenticate("jwt", "api-key")
    app.service("users").hooks({
        # Around hooks run before the schema hooks: anonymous callers get 401, API-key callers
        # 403, before their data or query is looked at.
        "around": {
            "find": [signed_in],
            "get": [signed_in],
            # Account changes need a password login: a leaked API key can't take the account over.
            "patch": [signed_in, deny_api_keys, tier_changes_need_an_admin(tiers)],
            "remove": [signed_in, deny_api_keys],
        },
        "before": {
            "find": [restrict_to_owner("_id")],
            "get": [restrict_to_owner("_id")],
            "create": [hash_new_password(rounds), starting_tier(tiers)],
            "patch": [owner_unless_admin_sets_tier(), hash_new_password(rounds)],
            "remove": [restrict_to_owner("_id")],
            # Not exposed; internal callers replacing a record still never store a plain password.
            "update": [hash_new_password(rounds)],
        },
    })
    app.service("users").publish(lambda user, context: app.channel(f"users/{user['_id']}"))

"""Changing a password: prove the current one, and end the other sessions.

`password_change(service, ...)` is an around hook that the local strategy puts on the
entity service's `patch` and `update` (so every app with password logins has it):

* a client changing the password field must send the current password beside it
  (`currentPassword`, configurable): missing or wrong, the call fails with 400 and
  `errors: {"currentPassword": [...]}` before anything is validated or written. A stolen
  token alone can no longer lock the owner out. Wrong current passwords are throttled like
  wrong logins, on the same counters (`throttle.py`: the account is the caller's username).
* once the change is stored, every token of that user issued before it is ended, except
  the token of the call itself (`Revocations.end_subject`), and this process's sockets
  logged in with them are disconnected. Server code changing a password (no provider)
  ends every token of the user.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING

from ..errors import BadRequest
from ..hooks import HookContext, Next
from .passwords import verify_password

if TYPE_CHECKING:
    from .service import AuthenticationService

__all__ = ["CURRENT_PASSWORD_FIELD", "password_change"]

CURRENT_PASSWORD_FIELD = "currentPassword"
MISSING = "The current password is required to change the password."
WRONG = "Does not match the current password."


def password_change(service: AuthenticationService, password_field: str = "password",
                    current_field: str = CURRENT_PASSWORD_FIELD,
                    decoy: Callable[[], Awaitable[str]] | None = None,
                    username_field: str | None = None) -> Callable[[HookContext, Next], Awaitable[None]]:
    """The around hook; `decoy()` gives a hash to compare against when the caller has none
    (so a missing hash takes as long as a wrong password); `username_field` names the
    account for the throttle (None: the caller's id)."""

    async def check_current_password(context: HookContext) -> str | None:
        """The jti of the caller's token after checking `current_field`; strips it from data."""
        params, data = context.params, context.data
        current = data.get(current_field)
        context.data = {key: value for key, value in data.items() if key != current_field}
        if not isinstance(current, str) or not current:
            raise BadRequest("validation failed", errors={current_field: [MISSING]})
        caller = params.get(service.entity_name) or {}
        stored = caller.get(password_field) if isinstance(caller, Mapping) else None
        account = str(caller.get(username_field or service.entity_service.id)) if isinstance(caller, Mapping) else None
        if service.throttle is not None:
            await service.throttle.check(params.get("ip"), account)
        if not isinstance(stored, str):
            stored = await decoy() if decoy is not None else ""
        if not await verify_password(current, stored) or not caller:
            if service.throttle is not None:
                await service.throttle.failed(params.get("ip"), account)
            raise BadRequest("validation failed", errors={current_field: [WRONG]})
        payload = (params.get("authentication") or {}).get("payload") or {}
        return payload.get("jti")

    async def password_change_hook(context: HookContext, next_step: Next) -> None:
        changing = isinstance(context.data, Mapping) and password_field in context.data
        if not changing:
            return await next_step()
        external = context.params.get("provider") is not None
        kept = await check_current_password(context) if external else None
        await next_step()
        caller = context.params.get(service.entity_name) or {}
        id_field = service.entity_service.id
        changed = context.result if isinstance(context.result, list) else [context.result]
        for record in changed:
            if isinstance(record, Mapping) and record.get(id_field) is not None:
                subject = record[id_field]
                own = isinstance(caller, Mapping) and str(caller.get(id_field)) == str(subject)
                await service.end_sessions(subject, keep=kept if own else None)
        return None

    return password_change_hook

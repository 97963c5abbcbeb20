"""`validate_data`: marshmallow schemas guard what clients may write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError

from cryptorobot.errors import BadRequest
from cryptorobot.hooks import HookContext

__all__ = ["validate_data"]


def validate_data(schema: Schema, *, partial: bool = False, unknown: str = RAISE) -> Callable[[HookContext], None]:
    """A before hook: `context.data` becomes the schema's loaded data, or 400 with per-field
    messages in `errors` (`{"email": ["Not a valid email address."]}`); nothing is written."""

    def validate_data_hook(context: HookContext) -> None:
        items = context.data if isinstance(context.data, list) else [context.data]
        if not all(isinstance(item, dict) for item in items):
            raise BadRequest("Data must be an object")
        try:
            loaded: Any = [schema.load(item, partial=partial, unknown=unknown) for item in items]
        except ValidationError as invalid:
            raise BadRequest("validation failed", {"errors": invalid.messages}) from None
        context.data = loaded if isinstance(context.data, list) else loaded[0]

    return validate_data_hook


__all__ += ["EXCLUDE", "RAISE"]

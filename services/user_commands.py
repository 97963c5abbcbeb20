"""`cryptorobot users set-tier|set-roles`: what only server code may change on an account.

    cryptorobot users set-tier EMAIL TIER        # free, pro, enterprise ([ratelimit.tiers])
    cryptorobot users set-roles EMAIL [ROLE ...]  # e.g. admin; no roles: none

Both act on the configured storage (`--data-dir` as for every command) through the users
service as server code (no provider), print the account's email, tier and roles, and exit
with status 1 and one line on an unknown email or tier. A tier applies from the user's next
call (their record is read on every call) and connection cap from their next login; roles
at once. With `storage = "memory"` there is nothing to change: an error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

__all__ = ["add_user_commands", "change_user"]


def add_user_commands(commands: Any) -> None:
    """Add `users` and its subcommands to the `cryptorobot` command's subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="data directory (config: data_dir; default ./data)")
    common.add_argument("email", help="the account's email")
    users = commands.add_parser("users", help="change what only server code may change on an account")
    actions = users.add_subparsers(dest="users_command", required=True)
    tier = actions.add_parser("set-tier", parents=[common], help="set the account's rate-limit tier")
    tier.add_argument("tier", help="a tier of [ratelimit.tiers]: free, pro, enterprise")
    tier.set_defaults(run=_set_tier)
    roles = actions.add_parser("set-roles", parents=[common], help="set the account's roles (admin: an administrator)")
    roles.add_argument("roles", nargs="*", help="roles; none clears them")
    roles.set_defaults(run=_set_roles)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    from cryptorobot.config import load_config

    settings = load_config()
    if args.data_dir:
        settings["data_dir"] = args.data_dir
    return settings


def _set_tier(args: argparse.Namespace) -> None:
    _run(_settings(args), args.email, {"tier": args.tier})


def _set_roles(args: argparse.Namespace) -> None:
    _run(_settings(args), args.email, {"roles": sorted(set(args.roles))})


def _run(settings: dict[str, Any], email: str, change: dict[str, Any]) -> None:
    try:
        user = asyncio.run(change_user(settings, email, change))
    except ValueError as problem:
        print(f"error: {problem}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"{user['email']}: tier {user.get('tier')}, roles {', '.join(user.get('roles') or []) or '(none)'}")


async def change_user(settings: dict[str, Any], email: str, change: dict[str, Any]) -> dict[str, Any]:
    """Patch the account of `email` with `change` as server code; the stored record.
    ValueError for memory storage, an unknown email or an unknown tier."""
    from cryptorobot.platform import create_app
    from cryptorobot.ratelimit import RateLimitSettings

    if settings.get("storage") == "memory":
        raise ValueError("storage = \"memory\" keeps no accounts to change")
    tiers = RateLimitSettings.from_section(settings.get("ratelimit")).tiers
    if "tier" in change and change["tier"] not in tiers:
        raise ValueError(f"unknown tier {change['tier']!r}; tiers: {', '.join(tiers)}")
    app = create_app(settings)
    await app.setup()
    try:
        users = app.service("users")
        found = await users.find({"query": {"email": email.strip().lower(), "$limit": 1}, "paginate": False})
        if not found:
            raise ValueError(f"no account {email}")
        return await users.patch(found[0]["_id"], change)
    finally:
        await app.teardown()

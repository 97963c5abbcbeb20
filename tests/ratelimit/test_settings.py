"""The `[ratelimit]` settings and the tiers the platform ships with."""

from __future__ import annotations

import pytest

from cryptorobot.auth import ThrottleSettings
from cryptorobot.config import from_section, load_config
from cryptorobot.ratelimit import ANONYMOUS, RateLimitSettings


def test_the_shipped_tiers_are_the_products() -> None:
    """free 60 calls a minute and 1 realtime connection, pro 300 and 5, enterprise 1000 and
    25; 60 a minute per address for anonymous calls (config/default.toml)."""
    settings = RateLimitSettings.from_section(load_config("development", environ={})["ratelimit"])
    assert settings.enabled and settings.window == 60 and settings.default_tier == "free"
    assert {name: (tier.budget.amount, tier.budget.window, tier.connections) for name, tier in settings.tiers.items()} \
        == {"free": (60, 60, 1), "pro": (300, 60, 5), "enterprise": (1000, 60, 25)}
    assert settings.budget(ANONYMOUS).amount == 60
    assert settings.tiers["pro"].budget.name == "ratelimit.tiers.pro.requests"


def test_the_shipped_throttle() -> None:
    throttle = from_section(ThrottleSettings, load_config("development", environ={})["authentication"]["throttle"])
    assert throttle == ThrottleSettings(enabled=True, window=900, address=30, account_address=5, account=20,
                                        known_for=30 * 86400)


def test_the_environment_changes_a_tier() -> None:
    config = load_config("development", environ={"CRYPTOROBOT_RATELIMIT__TIERS__PRO__REQUESTS": "500"})
    assert RateLimitSettings.from_section(config["ratelimit"]).tiers["pro"].budget.amount == 500


def test_a_users_tier_is_their_field_or_the_default() -> None:
    settings = RateLimitSettings.from_section({"tiers": {"free": {"requests": 1}, "pro": {"requests": 2}}})
    assert [settings.tier_of(user).name for user in ({"tier": "pro"}, {"tier": "gold"}, {}, None)] == [  # type: ignore[union-attr]
        "pro", "free", "free", "free"]
    assert RateLimitSettings.from_section({}).tier_of({"tier": "pro"}) is None  # no tiers: nobody is limited by one


def test_bad_settings_are_refused_with_their_names() -> None:
    with pytest.raises(ValueError, match="default_tier 'gold'"):
        RateLimitSettings.from_section({"default_tier": "gold", "tiers": {"free": {"requests": 1}}})
    with pytest.raises(ValueError, match=r"ratelimit\.tiers\.free\.requests"):
        RateLimitSettings.from_section({"tiers": {"free": {"requests": 0}}})
    with pytest.raises(KeyError, match=r"set ratelimit\.budgets\.webhooks"):
        RateLimitSettings.from_section({}).budget("webhooks")

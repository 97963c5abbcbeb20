"""The counters behind rate limits: `limits`' moving window in memory and in Redis, one behaviour."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptorobot import App
from cryptorobot.ratelimit import EXPIRY_INTERVAL, Budget, MemoryCounters, RedisCounters, counters_for
from cryptorobot.ratelimit.counters import redis_client
from tests.conftest import LimitsTime
from tests.test_scale_out import REDIS_URL, redis_answers

KINDS = ["memory", pytest.param("redis", marks=pytest.mark.skipif(not redis_answers(), reason="no Redis on 6379"))]


@pytest.fixture(params=KINDS)
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    if request.param == "memory":
        made: Any = MemoryCounters()
    else:
        made = RedisCounters(redis_client(REDIS_URL), f"test-{uuid.uuid4().hex}")
    yield made
    await made.close()


async def test_a_budget_allows_its_amount_then_refuses(counters: Any) -> None:
    budget = Budget("test.calls", 3, 60)
    windows = [await counters.hit(budget, "ann") for _ in range(4)]
    assert [(w.allowed, w.remaining) for w in windows] == [(True, 2), (True, 1), (True, 0), (False, 0)]
    assert windows[0].budget is budget
    # The refusal says when the oldest call leaves the window: one window after it.
    assert windows[3].reset == pytest.approx(windows[0].reset, abs=1)
    assert 1 <= windows[3].retry_after() <= 60


async def test_keys_and_budgets_count_apart(counters: Any) -> None:
    small, other = Budget("test.small", 1, 60), Budget("test.other", 1, 60)
    assert (await counters.hit(small, "ann")).allowed
    assert not (await counters.hit(small, "ann")).allowed
    assert (await counters.hit(small, "bob")).allowed
    assert (await counters.hit(other, "ann")).allowed


async def test_peek_counts_nothing_and_clear_forgets(counters: Any) -> None:
    budget = Budget("test.peek", 2, 60)
    assert (await counters.peek(budget, "ann")).remaining == 2
    await counters.hit(budget, "ann")
    await counters.hit(budget, "ann")
    looked = await counters.peek(budget, "ann")
    assert (looked.allowed, looked.remaining) == (False, 0)
    await counters.clear(budget, "ann")
    assert (await counters.peek(budget, "ann")).remaining == 2


def test_the_headers_of_a_window() -> None:
    budget = Budget("test.headers", 60, 60)
    from cryptorobot.ratelimit import Window

    assert Window(budget, True, 59, 1_700_000_000.2).headers() == {
        "X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "59", "X-RateLimit-Reset": "1700000001"}
    refused = Window(budget, False, 0, 1_700_000_030.5).headers()
    assert refused["X-RateLimit-Remaining"] == "0" and int(refused["Retry-After"]) >= 1


def test_a_budget_needs_one_call_in_one_second() -> None:
    with pytest.raises(ValueError, match=r"test\.none"):
        Budget("test.none", 0, 60)


async def test_the_window_moves(limits_time: LimitsTime) -> None:
    """Exactly `amount` calls in any `window` seconds: a slot frees when the oldest call
    is a window old, not at a fixed boundary."""
    counters = MemoryCounters()
    budget = Budget("test.moving", 2, 60)
    assert (await counters.hit(budget, "ann")).allowed
    limits_time.advance(30)
    assert (await counters.hit(budget, "ann")).allowed
    refused = await counters.hit(budget, "ann")
    assert not refused.allowed and refused.retry_after() == 30
    limits_time.advance(30.5)
    assert (await counters.hit(budget, "ann")).allowed  # the first call left the window
    assert not (await counters.hit(budget, "ann")).allowed  # the second is still in it
    await counters.close()


@settings(max_examples=30, deadline=None)
@given(gaps=st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=40),
       amount=st.integers(min_value=1, max_value=5))
def test_never_more_than_the_amount_in_any_window(gaps: list[int], amount: int) -> None:
    """For any sequence of calls, the allowed ones never number more than `amount` within
    any span of `window` seconds, and a call is refused only when `amount` were allowed in
    the window before it (a call exactly `window` seconds old still counts)."""
    import asyncio

    import limits.storage.memory

    clock = LimitsTime()
    original = limits.storage.memory.time
    limits.storage.memory.time = clock  # type: ignore[assignment]
    try:
        counters = MemoryCounters()
        budget = Budget("test.property", amount, 60)
        allowed: list[float] = []
        for gap in gaps:
            clock.advance(gap)
            window = asyncio.run(counters.hit(budget, "ann"))
            recent = [at for at in allowed if at >= clock.now - 60]
            assert window.allowed == (len(recent) < amount)
            if window.allowed:
                allowed.append(clock.now)
        asyncio.run(counters.close())
    finally:
        limits.storage.memory.time = original


async def test_expired_entries_are_swept_every_interval_not_every_10_ms() -> None:
    """`limits`' MemoryStorage re-arms a 10 ms sweep over every key after each sweep that a
    hit follows; ours waits `EXPIRY_INTERVAL`. Fails if `limits` renames what is overridden."""
    counters = MemoryCounters()
    await counters.hit(Budget("test.sweep", 5, 60), "ann")
    counters.storage.timer.join(1)  # the one 10 ms timer the constructor starts
    await counters.hit(Budget("test.sweep", 5, 60), "ann")
    assert counters.storage.timer.interval == EXPIRY_INTERVAL and counters.storage.timer.daemon
    await counters.close()


@pytest.mark.skipif(not redis_answers(), reason="no Redis on 6379")
async def test_a_pipelined_redis_hit_is_limits_own_acquire_and_window() -> None:
    """`RedisCounters.hit` sends `limits`' two scripts in one round trip: it must count and
    read exactly as `limits`' own `acquire_entry` and `get_moving_window` do."""
    counters = RedisCounters(redis_client(REDIS_URL), f"test-{uuid.uuid4().hex}")
    budget = Budget("test.contract", 3, 60)
    stored = budget.item.key_for("ann")
    first = await counters.hit(budget, "ann")
    start, count = await counters.storage.get_moving_window(stored, 3, 60)
    assert count == 1 and (first.allowed, first.remaining) == (True, 2) and first.reset == pytest.approx(start + 60)
    assert await counters.storage.acquire_entry(stored, 3, 60)  # limits' own call counts in the same window
    third = await counters.hit(budget, "ann")
    assert (third.allowed, third.remaining) == (True, 0)
    assert not await counters.storage.acquire_entry(stored, 3, 60)  # limits sees it full
    assert not (await counters.hit(budget, "ann")).allowed
    await counters.clear(budget, "ann")
    await counters.close()


@pytest.mark.skipif(not redis_answers(), reason="no Redis on 6379")
async def test_scripts_redis_lost_are_loaded_again() -> None:
    counters = RedisCounters(redis_client(REDIS_URL), f"test-{uuid.uuid4().hex}")
    budget = Budget("test.reload", 3, 60)
    assert (await counters.hit(budget, "ann")).remaining == 2
    counters._scripts[0].sha = "0" * 40  # as after a Redis restart: NOSCRIPT
    assert (await counters.hit(budget, "ann")).remaining == 1  # counted once, not twice
    await counters.clear(budget, "ann")
    await counters.close()


async def test_redis_out_of_reach_allows_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "cryptorobot.ratelimit")
    counters = RedisCounters(redis_client("redis://127.0.0.1:1/0"), "nowhere")
    budget = Budget("test.lost", 1, 60)
    assert await counters.hit(budget, "ann") is None
    assert await counters.peek(budget, "ann") is None
    assert [record.getMessage() for record in caplog.records if "out of reach" in record.getMessage()] != []
    assert len(caplog.records) == 1  # once a minute, not once a call
    await counters.close()


@pytest.mark.skipif(not redis_answers(), reason="no Redis on 6379")
async def test_the_app_counts_in_redis_when_configured_and_closes_them() -> None:
    prefix = f"test-{uuid.uuid4().hex}"
    app = App({"ratelimit": {"redis_url": REDIS_URL, "key_prefix": prefix}})
    counters = counters_for(app)
    assert isinstance(counters, RedisCounters) and counters.prefix == prefix and counters_for(app) is counters
    await counters.hit(Budget("test.app", 1, 60), "ann")
    assert [key async for key in counters.client.scan_iter(match=f"{prefix}:*")] != []
    await app.setup()
    await app.teardown()
    assert counters_for(app) is not counters  # closed at teardown; a new app run builds new ones
    await counters_for(app).close()
    assert isinstance(counters_for(App()), MemoryCounters)

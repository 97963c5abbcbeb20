"""Revocation records (cryptorobot/auth/revocation.py) and every store they are kept in
(revocation_stores.py): memory, the storage adapters (memory, SQLite, MongoDB as nx-27017
serves it) and Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from cryptorobot import App, ManualClock
from cryptorobot.adapters import Index, MemoryService, MongoService, SqliteService
from cryptorobot.auth.revocation import Revocations, issued_ms, keys_of, token_id
from cryptorobot.auth.revocation_stores import (
    AdapterRevocationStore,
    MemoryRevocationStore,
    RedisRevocationStore,
    revocation_store,
)
from cryptorobot.errors import NotAuthenticated
from tests.conftest import WAIT

REDIS_URL = "redis://127.0.0.1:6379/0"
DAY = 86400


def redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def adapter_store(adapter: Any, clock: ManualClock, shared: bool = False) -> AdapterRevocationStore:
    return AdapterRevocationStore(adapter, clock, shared=shared)


def mongodb_adapter(tmp_path: Path) -> Any:
    from tests.adapters import nx_server

    return MongoService(url=nx_server.shared().url, database=f"revocations-{uuid.uuid4().hex[:8]}", id="_id",
                        multi=["remove"], indexes=[Index(("expiresAt",))])


STORES: dict[str, Callable[[Path, ManualClock], Any]] = {
    "memory": lambda tmp_path, clock: MemoryRevocationStore(clock),
    "memory adapter": lambda tmp_path, clock: adapter_store(MemoryService(id="_id", multi=["remove"]), clock),
    "sqlite": lambda tmp_path, clock: adapter_store(
        SqliteService(path=str(tmp_path / "db"), id="_id", multi=["remove"], indexes=[Index(("expiresAt",))]), clock),
    "mongodb": lambda tmp_path, clock: adapter_store(mongodb_adapter(tmp_path), clock, shared=True),
    "redis": lambda tmp_path, clock: RedisRevocationStore(REDIS_URL, clock, prefix=f"test-{uuid.uuid4().hex}:"),
    "redis followed": lambda tmp_path, clock: RedisRevocationStore(REDIS_URL, clock, prefix=f"test-{uuid.uuid4().hex}:"),
}


def redis_store(clock: ManualClock, prefix: str | None = None) -> RedisRevocationStore:
    return RedisRevocationStore(REDIS_URL, clock, prefix=prefix or f"test-{uuid.uuid4().hex}:")


@pytest.fixture(params=list(STORES))
async def store(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Any]:
    if request.param.startswith("redis") and not redis_answers():
        pytest.skip("no Redis on 127.0.0.1:6379")
    made = STORES[request.param](tmp_path, clock)
    await made.setup()
    following = asyncio.ensure_future(made.follow()) if request.param == "redis followed" else None
    if following is not None:
        await asyncio.wait_for(made.in_sync.wait(), WAIT)  # checks now read the copy
    yield made
    if following is not None:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
    await made.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


# -- stores ----------------------------------------------------------------------------------------

async def test_a_store_gives_back_what_was_put_in_key_order(store: Any, clock: ManualClock) -> None:
    await store.put("token:a", '{"reason": "logout"}', clock.time() + 60)
    await store.put("subject:1", '{"reason": "password"}', clock.time() + 60)
    assert await store.get_many(["subject:1", "missing", "token:a"]) == ['{"reason": "password"}', None, '{"reason": "logout"}']


async def test_a_later_put_replaces_the_value(store: Any, clock: ManualClock) -> None:
    await store.put("subject:1", "first", clock.time() + 60)
    await store.put("subject:1", "second", clock.time() + 120)
    assert await store.get_many(["subject:1"]) == ["second"]


async def test_expired_entries_are_gone(store: Any, clock: ManualClock) -> None:
    if isinstance(store, RedisRevocationStore):  # Redis keeps real time: check the TTL it was given
        await store.put("token:a", "x", clock.time() + 60)
        assert 59_000 < await store.client.pttl(store.prefix + "token:a") <= 60_000
        return
    await store.put("token:a", "x", clock.time() + 60)
    await store.put("token:b", "y", clock.time() + 120)
    clock.advance(60)
    assert await store.get_many(["token:a", "token:b"]) == [None, "y"]
    await store.put("token:c", "z", clock.time() + 60)  # recording purges what expired
    if isinstance(store, AdapterRevocationStore):
        assert sorted(record["_id"] for record in await store.adapter.find({"paginate": False})) == ["token:b", "token:c"]


async def test_a_sqlite_table_is_read_back_after_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    def table() -> AdapterRevocationStore:
        return adapter_store(SqliteService(path=str(tmp_path / "db"), id="_id", multi=["remove"]), clock)

    first = table()
    await first.setup()
    await first.put("token:a", "ended", clock.time() + 60)
    await first.close()
    second = table()
    await second.setup()
    assert await second.get_many(["token:a"]) == ["ended"]
    await second.close()


async def test_what_one_process_records_reaches_the_copy_of_another(clock: ManualClock) -> None:
    if not redis_answers():
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"test-{uuid.uuid4().hex}:"
    writer, reader = redis_store(clock, prefix), redis_store(clock, prefix)
    await writer.setup()
    await reader.setup()
    await writer.put("token:before", "ended earlier", clock.time() + 60)  # loaded when following starts
    following = asyncio.ensure_future(reader.follow())
    try:
        await asyncio.wait_for(reader.in_sync.wait(), WAIT)
        assert await reader.copy.get_many(["token:before"]) == ["ended earlier"]
        arrived = asyncio.Event()
        copy_put = reader.copy.put

        async def noting(key: str, value: str, expires_at: float) -> None:
            await copy_put(key, value, expires_at)
            arrived.set()

        reader.copy.put = noting  # type: ignore[method-assign]
        await writer.put("subject:7", "ended now", clock.time() + 60)
        await asyncio.wait_for(arrived.wait(), WAIT)
        assert await reader.get_many(["subject:7", "token:before"]) == ["ended now", "ended earlier"]
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        assert not reader.in_sync.is_set()  # not following: checks ask Redis again
        assert await reader.get_many(["subject:7"]) == ["ended now"]
        await writer.close()
        await reader.close()


def test_the_store_follows_the_settings(tmp_path: Path) -> None:
    def kind(**settings: Any) -> str:
        return type(revocation_store(App({"storage": "memory", "data_dir": str(tmp_path), **settings}))).__name__

    assert kind() == "AdapterRevocationStore"
    assert kind(socketio={"redis_url": REDIS_URL}) == "RedisRevocationStore"
    assert kind(authentication={"revocation": {"store": "memory"}}, socketio={"redis_url": REDIS_URL}) == "MemoryRevocationStore"
    with pytest.raises(ValueError, match="needs redis_url"):
        kind(authentication={"revocation": {"store": "redis"}})
    with pytest.raises(ValueError, match="must be one of"):
        kind(authentication={"revocation": {"store": "files"}})


# -- what an end concerns -------------------------------------------------------------------------

def payload(clock: ManualClock, sub: str = "1", **claims: Any) -> dict[str, Any]:
    now = int(clock.time())
    return {"sub": sub, "iat": now, "exp": now + DAY, "jti": token_id(clock.now_ms()), **claims}


@pytest.fixture
def revocations(clock: ManualClock) -> Revocations:
    return Revocations(MemoryRevocationStore(clock), clock, DAY)


async def ended(revocations: Revocations, token: dict[str, Any]) -> str | None:
    try:
        await revocations.check(token)
    except NotAuthenticated as refused:
        return refused.data["reason"]
    return None


async def test_ending_a_token_ends_only_that_token(revocations: Revocations, clock: ManualClock) -> None:
    mine, other = payload(clock), payload(clock)
    await revocations.end_token(mine)
    assert (await ended(revocations, mine), await ended(revocations, other)) == ("logout", None)


async def test_ending_a_subject_spares_the_kept_token_and_later_ones(revocations: Revocations, clock: ManualClock) -> None:
    older, current, someone_else = payload(clock), payload(clock), payload(clock, sub="2")
    clock.advance(5)
    await revocations.end_subject("1", keep=current["jti"])
    clock.advance(0.001)
    later = payload(clock)
    assert [await ended(revocations, token) for token in (older, current, someone_else, later)] == [
        "password", None, None, None]


async def test_a_token_issued_in_the_same_millisecond_as_the_end_is_ended(revocations: Revocations,
                                                                         clock: ManualClock) -> None:
    await revocations.end_subject("1")
    assert await ended(revocations, payload(clock)) == "password"


async def test_ending_an_api_key_ends_its_tokens_only(revocations: Revocations, clock: ManualClock) -> None:
    from_key, from_other_key, from_password = payload(clock, apiKey=7), payload(clock, apiKey=8), payload(clock)
    await revocations.end_api_key(7)
    assert [await ended(revocations, token) for token in (from_key, from_other_key, from_password)] == ["api-key", None, None]


async def test_ended_among_checks_many_tokens_at_once(revocations: Revocations, clock: ManualClock) -> None:
    tokens = [payload(clock, sub=str(n)) for n in range(5)] + [payload(clock, sub="9", apiKey=3)]
    await revocations.end_token(tokens[1])
    await revocations.end_subject("3")
    await revocations.end_api_key(3)
    assert await revocations.ended_among(tokens) == [1, 3, 5]
    assert await revocations.ended_among([]) == []


async def test_an_end_lasts_as_long_as_the_tokens_it_concerns(revocations: Revocations, clock: ManualClock) -> None:
    token = payload(clock)
    await revocations.end_token(token)
    await revocations.end_subject("2")
    clock.advance(DAY)
    store: MemoryRevocationStore = revocations.store  # type: ignore[assignment]
    assert await store.get_many([*keys_of(token), "subject:2"]) == [None, None, None]


@given(st.integers(min_value=0, max_value=2**48 - 1))
def test_a_token_id_is_a_uuid7_that_tells_its_time(ms: int) -> None:
    jti = token_id(ms)
    assert uuid.UUID(jti).version == 7 and uuid.UUID(jti).variant == uuid.RFC_4122
    assert issued_ms({"jti": jti, "iat": 0}) == ms


def test_a_token_without_a_uuid7_counts_from_iat() -> None:
    assert issued_ms({"jti": str(uuid.uuid4()), "iat": 1_700_000_000}) == 1_700_000_000_000
    assert issued_ms({"jti": "not a uuid", "iat": 5}) == 5000


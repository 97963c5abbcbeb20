"""Service events through `service.on`/`off` (Socket.IO), and the clear refusal over REST."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest


async def test_standard_and_custom_events(served, clients, inbox) -> None:
    client = clients(served.url)
    messages = client.service("messages")
    created, patched, updated, removed, status = inbox(), inbox(), inbox(), inbox(), inbox()
    messages.on("created", created)
    messages.on("patched", patched)
    messages.on("updated", updated)
    messages.on("removed", removed)
    messages.on("status", status)
    record = await messages.create({"text": "hi"})
    assert await created.next() == record
    changed = await messages.patch(record["id"], {"text": "there"})
    assert await patched.next() == changed
    replaced = await messages.update(record["id"], {"text": "new"})
    assert await updated.next() == replaced
    await messages.announce({"level": "green"})
    assert await status.next() == {"level": "green"}
    gone = await messages.remove(record["id"])
    assert await removed.next() == gone


async def test_events_of_other_clients_and_nested_paths(served, clients, inbox) -> None:
    listener, writer = clients(served.url), clients(served.url, transport="rest")
    events = inbox()
    listener.service("traders/pods/events").on("created", events)
    await listener.connect()
    sent = await writer.service("traders/pods/events").create({"type": "trade_executed", "podId": "pod-123",
                                                                  "message": "Bought 0.1 BTC @ 42400"})
    assert await events.next() == sent


async def test_events_arrive_in_order(served, clients, inbox) -> None:
    client = clients(served.url)
    events = inbox()
    client.service("messages").on("created", events)
    made = await client.service("messages").create([{"n": n} for n in range(50)])
    assert [await events.next() for _ in range(50)] == made


async def test_coroutine_handlers_and_decorators(served, clients, inbox) -> None:
    client = clients(served.url)
    messages = client.service("messages")
    seen = inbox()

    @messages.on("created")
    async def fetch_again(message: dict) -> None:
        seen(await messages.get(message["id"]))  # a handler may call the client

    assert fetch_again.__name__ == "fetch_again"  # the decorator returns the function
    record = await messages.create({"text": "x"})
    assert await seen.next() == record


async def test_handlers_may_take_fewer_arguments(served, clients, inbox) -> None:
    client = clients(served.url)
    called = inbox()
    client.service("messages").on("created", lambda: called("no arguments"))
    client.service("messages").on("created", lambda *args: called(args))
    await client.service("messages").create({"text": "x"})
    assert sorted(map(str, [await called.next(), await called.next()])) == sorted(
        ["no arguments", str(({"text": "x", "id": 0},))])


async def test_a_failing_handler_is_logged_and_the_others_run(served, clients, inbox, caplog) -> None:
    client = clients(served.url)
    after = inbox()

    def broken(message: dict) -> None:
        raise ValueError("broken handler")

    async def broken_too(message: dict) -> None:
        raise ValueError("broken coroutine handler")

    client.service("messages").on("created", broken)
    client.service("messages").on("created", broken_too)
    client.service("messages").on("created", after)
    with caplog.at_level(logging.ERROR, logger="cryptorobot.client"):
        await client.service("messages").create({"text": "x"})
        await after.next()
        await asyncio.sleep(0)  # the coroutine handler's task runs
    assert "broken handler" in caplog.text and "broken coroutine handler" in caplog.text


async def test_off(served, clients, inbox) -> None:
    client = clients(served.url)
    messages = client.service("messages")
    removed_one, removed_all, kept, barrier = inbox(), inbox(), inbox(), inbox()
    messages.on("created", removed_one)
    messages.on("created", kept)
    messages.on("patched", removed_all)
    messages.on("patched", removed_all)
    messages.on("removed", barrier)
    messages.off("created", removed_one)
    messages.off("patched")
    messages.off("created", lambda: None)  # never registered: nothing happens
    record = await messages.create({"text": "x"})
    await messages.patch(record["id"], {"text": "y"})
    await messages.remove(record["id"])
    await barrier.next()  # events come in order: the earlier ones were delivered before
    assert (kept.items, removed_one.items, removed_all.items) == ([record], [], [])


async def test_handlers_run_on_the_clients_loop(served, clients, inbox) -> None:
    client = clients(served.url)
    threads = inbox()
    client.service("messages").on("created", lambda message: threads(threading.current_thread()))
    await client.service("messages").create({"text": "x"})
    assert await threads.next() is threading.current_thread()


async def test_rest_clients_can_not_listen(served, clients) -> None:
    client = clients(served.url, transport="rest")
    with pytest.raises(RuntimeError, match=r"arrive only over Socket\.IO"):
        client.service("messages").on("created", print)
    with pytest.raises(RuntimeError, match=r"arrive only over Socket\.IO"):
        client.on("disconnect", print)
    client.on("login", print)  # client events of the login still exist

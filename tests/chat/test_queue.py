"""The prompt queue: priority order, one place per viewer, bounded, stale prompts expire."""

import asyncio

import pytest

from bot.chat.message import ChatMessage
from bot.chat.queue import Priority, PromptQueue


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def m(user, text="hi"):
    return ChatMessage(text, user)


def test_priority_then_arrival_order():
    q = PromptQueue(clock=Clock())
    q.offer(m("a"), "chat a", Priority.CHAT)
    q.offer(m("b"), "ask b", Priority.ASK)
    q.offer(m("c"), "paid c", Priority.EVENT)
    q.offer(m("d"), "ask d", Priority.ASK)
    assert [q.pop().text for _ in range(4)] == ["paid c", "ask b", "ask d", "chat a"]
    assert q.pop() is None


def test_one_place_per_viewer_and_paid_outranks():
    q = PromptQueue(clock=Clock())
    assert q.offer(m("a"), "first", Priority.ASK).accepted
    o = q.offer(m("a"), "second", Priority.ASK)
    assert not o.accepted and "already has" in o.reason
    o = q.offer(m("a"), "paid", Priority.EVENT)
    assert o.accepted and o.reason == "replaced"
    assert len(q) == 1 and q.pop().text == "paid"


def test_bounded_with_eviction_of_the_least_important():
    q = PromptQueue(max_size=2, clock=Clock())
    q.offer(m("a"), "chat", Priority.CHAT)
    q.offer(m("b"), "ask", Priority.ASK)
    o = q.offer(m("c"), "chat 2", Priority.CHAT)
    assert not o.accepted and "full" in o.reason
    o = q.offer(m("d"), "paid", Priority.EVENT)
    assert o.accepted and o.evicted.text == "chat"
    assert [p.text for p in q.snapshot()] == ["paid", "ask"]


def test_stale_prompts_expire():
    clock = Clock()
    q = PromptQueue(ttl_s={Priority.EVENT: 100, Priority.ASK: 10, Priority.CHAT: 5}, clock=clock)
    q.offer(m("a"), "chat", Priority.CHAT)
    q.offer(m("b"), "ask", Priority.ASK)
    clock.t = 6
    assert q.pop().text == "ask"
    assert q.pop() is None and q.expired == 1
    q.offer(m("c"), "x", Priority.ASK)
    clock.t = 20
    assert q.offer(m("c"), "y", Priority.ASK).accepted  # the old one expired: a new place


@pytest.mark.asyncio
async def test_get_waits_for_a_prompt_and_clear_empties():
    q = PromptQueue()
    waiter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    assert not waiter.done()
    q.offer(m("a"), "hello", Priority.ASK)
    assert (await asyncio.wait_for(waiter, 1)).text == "hello"
    q.offer(m("b"), "x", Priority.ASK)
    q.offer(m("c"), "y", Priority.CHAT)
    assert q.clear() == 2 and len(q) == 0 and q.pop() is None

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


def test_held_prompts_wait_in_place_until_approved_or_rejected():
    q = PromptQueue(clock=Clock())
    q.hold = lambda p: not p.approved and not p.verbatim
    q.offer(m("a"), "ask a", Priority.ASK)
    q.offer(m("b"), "paid b", Priority.EVENT)
    q.offer(m("alert"), "thanks for the raid!", Priority.EVENT, verbatim=True)
    assert q.pop().text == "thanks for the raid!"  # an alert's own line is never held
    assert q.pop() is None and len(q) == 2  # both wait, in their places
    assert q.find().text == "paid b"  # approve/reject act on the first held by default
    assert q.reject().text == "paid b" and q.rejected == 1
    a = q.find()
    assert q.approve(a.seq) is a and q.pop() is a
    assert q.approve() is None and q.reject(12345) is None  # nothing left / no such prompt


def test_held_prompts_still_expire_and_the_heap_stays_compact():
    clock = Clock()
    q = PromptQueue(max_size=5, clock=clock)
    q.hold = lambda p: True
    for i in range(200):  # a flood of viewers while everything is held
        q.offer(m(f"v{i}"), "hi", Priority.CHAT)
        clock.t += 1.0
    assert len(q) <= 5 and len(q._heap) <= 4 * 8
    assert q.expired > 0


async def test_get_wakes_when_a_prompt_is_approved():
    q = PromptQueue(clock=Clock())
    looked: list[str] = []
    q.hold = lambda p: looked.append(p.text) is None and not p.approved
    q.offer(m("a"), "ask a", Priority.ASK)
    waiter = asyncio.create_task(q.get())
    while not looked:  # until the waiter has seen the prompt (and held it), no blind sleep
        await asyncio.sleep(0)
    assert not waiter.done()
    q.approve()
    assert (await asyncio.wait_for(waiter, 1)).text == "ask a"

"""The prompt queue between chat and the brain.

Paid and event prompts go first, then questions addressed to the avatar (``!ask``,
@mentions, replies), then sampled chat. The queue is bounded, stale prompts expire
(nobody wants an answer to a question from ten minutes ago), and each viewer holds at
most one place, so a single viewer cannot crowd out the rest of chat.

A ``hold`` test keeps prompts in place without answering them: the streamer's manual
approval and the paused AI use it. Held prompts still expire and still count.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

from .message import ChatMessage


class Priority(IntEnum):
    EVENT = 0  # bits, subs with a message, redeems, donations
    ASK = 1  # !ask, @mentions, replies to the avatar
    CHAT = 2  # sampled chat


@dataclass(order=True, slots=True)
class Prompt:
    priority: Priority
    seq: int
    text: str = field(compare=False)  # what the brain reads (normalised, "!ask" removed)
    message: ChatMessage = field(compare=False)
    enqueued_at: float = field(compare=False, default=0.0)
    expires_at: float = field(compare=False, default=float("inf"))
    verbatim: bool = field(compare=False, default=False)  # an alert's fixed line: said as is
    done: asyncio.Future[str] | None = field(compare=False, default=None, repr=False)  # told when heard
    approved: bool = field(compare=False, default=False)  # by the streamer (manual approval)

    @property
    def viewer(self) -> str:
        return self.message.user_name or self.message.user_login


@dataclass(frozen=True, slots=True)
class Offer:
    accepted: bool
    reason: str  # queued, replaced, duplicate, full, evicted ...
    evicted: Prompt | None = None


class PromptQueue:
    def __init__(self, max_size: int = 30, ttl_s: dict[Priority, float] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.max_size = max_size
        self.ttl_s = ttl_s or {Priority.EVENT: 600.0, Priority.ASK: 120.0, Priority.CHAT: 30.0}
        self.clock = clock
        self._heap: list[Prompt] = []
        self._by_viewer: dict[str, Prompt] = {}
        self._seq = itertools.count()
        self._ready = asyncio.Event()
        self.expired = 0
        self.rejected = 0
        #: prompts for which this says True wait (approval, paused AI); call `wake` when it changes
        self.hold: Callable[[Prompt], bool] | None = None

    def __len__(self) -> int:
        return len(self._by_viewer)

    def snapshot(self) -> list[Prompt]:
        """Live prompts in the order they would be answered."""
        return sorted(p for p in self._heap if self._by_viewer.get(p.message.user_login) is p)

    def offer(self, message: ChatMessage, text: str, priority: Priority, *, verbatim: bool = False,
              done: asyncio.Future[str] | None = None) -> Offer:
        now = self.clock()
        self._expire(now)
        viewer = message.user_login
        held = self._by_viewer.get(viewer)
        if held is not None:
            if priority >= held.priority:
                return Offer(False, f"{viewer} already has a {held.priority.name.lower()} prompt waiting")
            self._remove(held)  # a paid message outranks the same viewer's question
        evicted = None
        if len(self._by_viewer) >= self.max_size:
            worst = max(self.snapshot())
            if priority >= worst.priority:
                return Offer(False, f"queue full ({self.max_size})")
            self._remove(worst)
            evicted = worst
        prompt = Prompt(priority, next(self._seq), text, message, now, now + self.ttl_s[priority], verbatim, done)
        heapq.heappush(self._heap, prompt)
        self._by_viewer[viewer] = prompt
        self._ready.set()
        return Offer(True, "replaced" if held is not None else "queued", evicted)

    def pop(self) -> Prompt | None:
        """The next live prompt that is not held, or None."""
        if self.hold is not None:
            return self._pop_unheld()
        now = self.clock()
        while self._heap:
            prompt = heapq.heappop(self._heap)
            if self._by_viewer.get(prompt.message.user_login) is not prompt:
                continue  # removed or replaced
            del self._by_viewer[prompt.message.user_login]
            if prompt.expires_at < now:
                self.expired += 1
                _tell(prompt, "expired")
                continue
            return prompt
        self._ready.clear()
        return None

    def _pop_unheld(self) -> Prompt | None:
        assert self.hold is not None
        self._expire(self.clock())
        for prompt in self.snapshot():  # small: bounded by max_size
            if not self.hold(prompt):
                self._forget(prompt)
                return prompt
        self._ready.clear()
        return None

    def wake(self) -> None:
        """What `hold` says changed: let a waiting `get` look again."""
        self._ready.set()

    def find(self, seq: int | None = None) -> Prompt | None:
        """The live prompt numbered ``seq``; None: the first held one, else the first."""
        live = self.snapshot()
        if seq is not None:
            return next((p for p in live if p.seq == seq), None)
        held = [p for p in live if self.hold is not None and self.hold(p)]
        return (held or live or [None])[0]

    def approve(self, seq: int | None = None) -> Prompt | None:
        """Let a held prompt be answered (manual approval); returns it, or None."""
        prompt = self.find(seq)
        if prompt is not None:
            prompt.approved = True
            self.wake()
        return prompt

    def reject(self, seq: int | None = None) -> Prompt | None:
        """Drop a prompt unanswered; whoever waits for it hears "rejected"."""
        prompt = self.find(seq)
        if prompt is not None:
            self._forget(prompt)
            _tell(prompt, "rejected")
            self.rejected += 1
        return prompt

    async def get(self) -> Prompt:
        """The next live prompt, waiting for one if need be."""
        while True:
            prompt = self.pop()
            if prompt is not None:
                return prompt
            self._ready.clear()
            await self._ready.wait()

    def clear(self) -> int:
        n = len(self._by_viewer)
        for prompt in self._by_viewer.values():
            _tell(prompt, "cleared")
        self._heap.clear()
        self._by_viewer.clear()
        self._ready.clear()
        return n

    def _remove(self, prompt: Prompt) -> None:
        if self._by_viewer.get(prompt.message.user_login) is prompt:
            _tell(prompt, "dropped")
        self._forget(prompt)

    def _forget(self, prompt: Prompt) -> None:
        if self._by_viewer.get(prompt.message.user_login) is prompt:
            del self._by_viewer[prompt.message.user_login]
        # the heap entry is skipped lazily on pop; compact when it grows stale
        if len(self._heap) > 4 * max(8, len(self._by_viewer)):
            self._heap = [p for p in self._heap if self._by_viewer.get(p.message.user_login) is p]
            heapq.heapify(self._heap)

    def _expire(self, now: float) -> None:
        for prompt in [p for p in self._by_viewer.values() if p.expires_at < now]:
            self._remove(prompt)
            self.expired += 1


def _tell(prompt: Prompt, what: str) -> None:
    """Whoever waits for this prompt to be heard learns it never will be."""
    if prompt.done is not None and not prompt.done.done():
        prompt.done.set_result(what)

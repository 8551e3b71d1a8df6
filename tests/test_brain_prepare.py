"""The brain reads the next prompt's stable start while the last answer is heard, so the
next viewer waits only for their own lookups and line to be read."""

from __future__ import annotations

import asyncio

from bot.brain import Brain, ChatMessage
from bot.brain.persona import viewer_turn
from bot.knowledge.context import HEADING, INSTRUCTION


class Lore:
    name = "knowledge"
    instruction = INSTRUCTION

    async def context(self, asker):
        return f"{HEADING}\n- (Pets > Biscuit the cat) Biscuit is an orange cat who sleeps on the keyboard."


class Recorder:
    """A backend that records what it is asked to read."""

    name = "recorder"

    def __init__(self, reuses_prefix: bool):
        self.reuses_prefix = reuses_prefix
        self.calls: list[list[ChatMessage]] = []

    async def stream(self, messages, params):
        self.calls.append(list(messages))
        yield "ok"

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1


class TokenCounter:
    """Counts the prompt tokens llama.cpp reads (not reuses) in each call to ``eval``."""

    def __init__(self, llm):
        self.read: list[int] = []
        inner = llm.eval

        def counted(tokens):
            self.read.append(len(tokens))
            return inner(tokens)

        llm.eval = counted
        self._llm, self._inner = llm, inner

    def prompt_tokens(self) -> int:
        return sum(n for n in self.read if n > 1)  # generation reads one token at a time

    def close(self) -> None:
        self._llm.eval = self._inner


def test_remember_reads_the_stable_start_ahead_on_a_caching_backend(defaults):
    async def go(reuses: bool) -> Recorder:
        backend = Recorder(reuses)
        brain = Brain(backend, defaults.config.persona, defaults.config.llm)
        brain.context = [Lore()]
        brain.remember("Ann", "hi", "hi Ann!")
        task = brain._preparing
        if task is not None:
            await task
        return backend

    cached = asyncio.run(go(True))
    assert len(cached.calls) == 1
    read = cached.calls[0]
    assert read[0].role == "system" and INSTRUCTION in read[0].content  # the lookups' instruction, once
    assert [m.content for m in read[1:3]] == [viewer_turn("Ann", "hi"), "hi Ann!"]  # the new exchange
    assert read[-1] == ChatMessage("user", "")  # and nothing of the next line, unknown yet
    assert asyncio.run(go(False)).calls == []  # a remote server is not asked twice


def test_the_lookup_heading_is_short_and_its_instruction_is_in_the_system_prompt(defaults):
    brain = Brain(Recorder(True), defaults.config.persona, defaults.config.llm)
    brain.context = [Lore()]
    msgs = brain.prompt("Ann", "who is Biscuit?", ["Your notes:\n- Biscuit is a cat."])
    assert INSTRUCTION in msgs[0].content
    assert INSTRUCTION not in msgs[-2].content
    assert len(HEADING) < 20


def test_next_answer_reads_only_its_lookups_and_line(defaults, llama_backend, session_loop):
    brain = Brain(llama_backend, defaults.config.persona, defaults.config.llm)
    brain.context = [Lore()]
    counter = TokenCounter(llama_backend._llm)

    async def answer(viewer: str, text: str) -> str:
        return "".join([d async for d in brain.reply(viewer, text, viewer.lower())])

    async def turn(viewer: str, text: str) -> None:
        spoken = await answer(viewer, text)
        brain.remember(viewer, text, spoken)  # schedules the read-ahead
        assert brain._preparing is not None
        await brain._preparing

    try:
        session_loop.run_until_complete(asyncio.wait_for(turn("Ann", "hi Mochi, how are you?"), 120))
        counter.read.clear()
        line = "Bob says: do you have a cat?"
        session_loop.run_until_complete(asyncio.wait_for(answer("Bob", "do you have a cat?"), 120))
    finally:
        counter.close()
    # what is left to read: the looked-up section, the line, and the chat template around them
    per_turn = llama_backend.count_tokens(session_loop.run_until_complete(Lore().context(None)) + line)
    assert counter.prompt_tokens() <= per_turn + 16


class HeldRecorder(Recorder):
    """A caching backend whose read does not end until the test lets it."""

    def __init__(self, release: asyncio.Event):
        super().__init__(reuses_prefix=True)
        self.started = asyncio.Event()
        self.release = release

    async def stream(self, messages, params):
        self.calls.append(list(messages))
        self.started.set()
        await self.release.wait()
        yield "ok"


def test_settled_waits_for_the_read_ahead(defaults):
    """A scripted run with nobody listening waits for the read-ahead before its next line."""
    async def go() -> bool:
        release = asyncio.Event()
        backend = HeldRecorder(release)
        brain = Brain(backend, defaults.config.persona, defaults.config.llm)
        brain.remember("Ann", "hi", "hi Ann!")
        await asyncio.wait_for(backend.started.wait(), 10)
        settled = asyncio.create_task(brain.settled())
        await asyncio.sleep(0)  # one turn: settled is now waiting on the read
        waiting = not settled.done()
        release.set()
        await asyncio.wait_for(settled, 10)
        return waiting and brain._preparing is not None and brain._preparing.done()

    assert asyncio.run(go())

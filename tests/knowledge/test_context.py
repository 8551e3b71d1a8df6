"""Lore and viewer notes in the prompt: where they go, and that a failing or slow lookup
never costs the answer (shown with a lookup that never answers, not by timing one)."""

from __future__ import annotations

import asyncio
import logging

from bot.brain import Brain
from bot.brain.context import Asker
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.context import HEADING, LoreContext
from bot.knowledge.encoder import SentenceEncoder
from bot.mind import SAMPLE_LORE
from bot.viewers.memory import ViewerMemory


class Broken:
    name = "broken"

    async def context(self, asker):
        raise RuntimeError("index on fire")


class Slow:
    """A lookup that never answers: cut by the brain's timeout however fast the machine."""

    name = "slow"

    async def context(self, asker):
        await asyncio.Event().wait()
        return "never"


def test_lore_and_notes_go_in_a_system_message_before_the_viewer(defaults, llama_backend, session_loop,
                                                                tmp_path, caplog):
    kb = KnowledgeBase(SAMPLE_LORE, tmp_path / "kb.sqlite3", SentenceEncoder())
    kb.sync()
    lore = LoreContext(kb, names=["Mochi"], top_k=3, min_score=0.25, max_chars=700)
    notes = ViewerMemory(tmp_path / "v.sqlite3")
    notes.observe("pixelpanda", "PixelPanda", "my cat is called Miso")
    brain = Brain(llama_backend, defaults.config.persona, defaults.config.llm)
    brain.context = [lore, Broken(), notes]
    brain.context_timeout_s = 60.0  # a safety net: the lookups' speed is not under test
    brain.remember("Bob", "hi", "hi Bob!")

    async def answer():
        return "".join([d async for d in brain.reply("PixelPanda", "Mochi who sleeps on your keyboard?", "pixelpanda")])

    with caplog.at_level(logging.WARNING):
        text = session_loop.run_until_complete(asyncio.wait_for(answer(), 60))
    assert text.strip()  # answered despite a broken lookup
    assert "context broken failed" in caplog.text
    lore_section, note_section = brain.last_context
    assert lore_section.startswith(HEADING) and "He sleeps on Mochi's keyboard" in lore_section
    assert note_section.startswith("About PixelPanda") and "has a cat named Miso" in note_section
    msgs = brain.prompt("PixelPanda", "Mochi who sleeps on your keyboard?", brain.last_context)
    assert [m.role for m in msgs] == ["system", "user", "assistant", "system", "user"]
    assert msgs[-1].content == "PixelPanda says: Mochi who sleeps on your keyboard?"  # the viewer's words alone
    assert msgs[0].content == brain.prompt("x", "y")[0].content  # the cached start is untouched
    # chatter brings no lore; the console (no login) brings no notes
    assert session_loop.run_until_complete(lore.context(Asker("a", "a", "lol gg"))) is None
    assert session_loop.run_until_complete(notes.context(Asker("streamer", None, "hi"))) is None
    kb.close()
    notes.close()


def test_a_lookup_that_never_answers_is_cut(defaults, llama_backend, session_loop, tmp_path, caplog):
    """Notes answer at once (no await); the slow lookup never does, so the cut is certain."""
    notes = ViewerMemory(tmp_path / "v.sqlite3")
    notes.observe("pixelpanda", "PixelPanda", "my cat is called Miso")
    brain = Brain(llama_backend, defaults.config.persona, defaults.config.llm)
    brain.context = [Slow(), notes]
    brain.context_timeout_s = 1.0

    async def answer():
        return "".join([d async for d in brain.reply("PixelPanda", "Mochi how are you?", "pixelpanda")])

    with caplog.at_level(logging.WARNING):
        text = session_loop.run_until_complete(asyncio.wait_for(answer(), 120))
    assert text.strip()  # answered without the slow lookup
    assert "context slow took over 1.0 s" in caplog.text
    [note_section] = brain.last_context
    assert note_section.startswith("About PixelPanda")
    notes.close()

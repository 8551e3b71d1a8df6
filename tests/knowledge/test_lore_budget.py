"""What the lore costs each answer: only passages close to the best one are quoted, under a
short heading (how to use them is said once, in the system prompt)."""

from __future__ import annotations

import asyncio

import pytest

from bot.brain.context import Asker
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.context import HEADING, INSTRUCTION, LoreContext
from bot.knowledge.encoder import SentenceEncoder
from bot.mind import SAMPLE_LORE


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    kb = KnowledgeBase(SAMPLE_LORE, tmp_path_factory.mktemp("kb") / "kb.sqlite3", SentenceEncoder(threads=1))
    kb.sync()
    yield kb
    kb.close()


def lore(kb: KnowledgeBase, margin: float) -> LoreContext:
    return LoreContext(kb, names=["Mochi"], top_k=3, min_score=0.25, max_chars=700, margin=margin)


def ask(ctx: LoreContext, text: str) -> str | None:
    return asyncio.run(ctx.context(Asker("pixelpanda", "pixelpanda", text)))


def test_passages_far_below_the_best_are_left_out(kb):
    question = "Mochi what is your cat called?"
    hits = kb.search("what is your cat called?", 3, 0.25)
    assert len(hits) >= 2 and hits[1].score < hits[0].score - 0.1  # the best stands out here
    quoted = ask(lore(kb, 0.1), question)
    assert quoted.startswith(HEADING) and "Biscuit" in quoted
    assert quoted.count("\n- ") == 1
    assert ask(lore(kb, 1.0), question).count("\n- ") == len(hits)  # no margin: every hit, as before


def test_close_passages_all_stay(kb):
    hits = kb.search("first time here, what is this stream about?", 3, 0.25)
    close = [h for h in hits if h.score >= hits[0].score - 0.1]
    quoted = ask(lore(kb, 0.1), "first time here, what is this stream about?")
    assert quoted.count("\n- ") == len(close) >= 2


def test_the_instruction_is_not_repeated_per_answer(kb):
    quoted = ask(lore(kb, 0.1), "what game should I play tonight?")
    assert INSTRUCTION not in quoted and lore(kb, 0.1).instruction == INSTRUCTION

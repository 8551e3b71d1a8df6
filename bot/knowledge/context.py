"""The knowledge base as a source of prompt context, and its folder watcher."""

from __future__ import annotations

import asyncio
import logging
import re

from bot.brain.context import Asker

from .base import KnowledgeBase, KnowledgeError

log = logging.getLogger(__name__)

# said once in the system prompt (read once, then cached), so the heading that comes with
# every answer's passages stays short: the model re-reads that one on every answer
INSTRUCTION = ("Some chat lines come with your notes: true facts about you and your world. "
               "Use them if they fit, never read them out.")
HEADING = "Your notes:"


def clean_query(text: str, names: list[str]) -> str:
    """The question without @mentions and the avatar's own name: "Mochi" in every
    question would pull Mochi's bio to the top whatever was asked."""
    out = re.sub(r"@\w+", " ", text)
    for name in names:
        out = re.sub(rf"\b{re.escape(name)}\b", " ", out, flags=re.I)
    return " ".join(out.split())


class LoreContext:
    name = "knowledge"
    instruction = INSTRUCTION

    def __init__(self, kb: KnowledgeBase, *, names: list[str], top_k: int, min_score: float, max_chars: int,
                 margin: float = 0.1):
        """``margin``: a passage scoring further than this below the best one is left out.
        It is more likely noise than help to a small model, and every passage costs the
        model ~40 tokens to read before it can say a word. On the sample lore's questions,
        0.1 quotes 1.1 passages a question instead of 1.7 and misses no answer that
        quoting all three would give (0.05 missed two)."""
        self.kb = kb
        self.names = names
        self.top_k = top_k
        self.min_score = min_score
        self.max_chars = max_chars
        self.margin = margin

    async def context(self, asker: Asker) -> str | None:
        query = clean_query(asker.text, self.names)
        if not query:
            return None
        hits = await self.kb.encoder.in_thread(self.kb.search, query, self.top_k, self.min_score)
        if not hits:
            return None
        close = [h for h in hits if h.score >= hits[0].score - self.margin]
        return "\n".join([HEADING, *self.kb.quote(close, self.max_chars)])


async def watch_folder(kb: KnowledgeBase, interval_s: float) -> None:
    """Re-index changed lore files every ``interval_s`` until cancelled. A broken file is
    reported once (by ``sync``) and skipped; a missing folder is reported once too."""
    last_error = ""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await kb.encoder.in_thread(kb.sync)
            last_error = ""
        except KnowledgeError as e:
            if str(e) != last_error:
                log.error("knowledge base: %s", e)
            last_error = str(e)

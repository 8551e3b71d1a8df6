"""What the avatar knows and feels, built from the config: the lore it can look up,
its notes on regulars, and the mood reader that drives its face.

All three share one embedding model (loaded once, ~0.3 s). Each is optional: a
missing lore folder or model is a clear error when the streamer asked for that part,
and only a warning (the part stays off) when it was a default.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

from bot.brain import Brain
from bot.config import LoadedConfig
from bot.config.paths import state_dir
from bot.emotion.reader import EmotionReader
from bot.emotion.tags import TAG_INSTRUCTION
from bot.knowledge.base import KnowledgeBase, KnowledgeError
from bot.knowledge.context import LoreContext, watch_folder
from bot.knowledge.encoder import EncoderUnavailable, SentenceEncoder
from bot.viewers.memory import ViewerMemory

log = logging.getLogger(__name__)

SAMPLE_LORE = Path(__file__).resolve().parents[1] / "configs" / "lore"


class MindSetupError(RuntimeError):
    """A part the config asks for cannot start; the message names the key and the fix."""


@dataclass
class Mind:
    encoder: SentenceEncoder | None = None
    knowledge: KnowledgeBase | None = None
    lore: LoreContext | None = None
    viewers: ViewerMemory | None = None
    mood: EmotionReader | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def attach(self, brain: Brain) -> None:
        """Give the brain its lookups (lore first, then the viewer's notes). Their instructions
        change the system prompt, so the brain reads it again now rather than on the first line."""
        brain.context = [p for p in (self.lore, self.viewers) if p is not None]
        brain.prepare_soon()

    def start(self, watch_s: float) -> None:
        """Re-index changed lore files while the bot runs."""
        if self.knowledge is not None and watch_s > 0:
            self.tasks.append(asyncio.get_running_loop().create_task(
                watch_folder(self.knowledge, watch_s), name="knowledge-watch"))

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        if self.knowledge is not None:
            self.knowledge.close()
        if self.viewers is not None:
            self.viewers.close()


def lore_folder(loaded: LoadedConfig, *, demo: bool) -> Path | None:
    k = loaded.config.knowledge
    if k.folder is not None:
        return Path(k.folder)
    return SAMPLE_LORE if demo and loaded.config.demo.lore else None


def index_path(loaded: LoadedConfig) -> Path:
    """The lore index: knowledge.index, else one in the state folder (the sample lore has its own)."""
    k = loaded.config.knowledge
    if k.index:
        return Path(k.index)
    return state_dir() / ("knowledge-demo.sqlite3" if k.folder is None else "knowledge.sqlite3")


def viewers_path(loaded: LoadedConfig, *, demo: bool = False) -> Path:
    """The viewer notes: viewers.db, else one in the state folder (the demo's viewers are made up)."""
    v = loaded.config.viewers
    if v.db:
        return Path(v.db)
    return state_dir() / ("viewers-demo.sqlite3" if demo else "viewers.sqlite3")


def build_mind(loaded: LoadedConfig, *, demo: bool = False) -> Mind:
    """Load the parts the config turns on (blocking: call it in a thread)."""
    cfg = loaded.config
    folder = lore_folder(loaded, demo=demo)
    mind = Mind()
    wants_encoder = folder is not None or cfg.emotion.enabled
    if wants_encoder:
        try:
            mind.encoder = SentenceEncoder(cfg.knowledge.model, threads=1)  # the LLM and voice keep their cores
        except EncoderUnavailable as e:
            if folder is not None or cfg.knowledge.model is not None:
                raise MindSetupError(f"knowledge.model: {e}") from None
            log.warning("emotions off: %s", e)
    if folder is not None and mind.encoder is not None:
        k = cfg.knowledge
        kb = KnowledgeBase(folder, index_path(loaded), mind.encoder, max_chunk_tokens=k.chunk_tokens)
        try:
            report = mind.encoder.on_thread(kb.sync)
        except KnowledgeError as e:
            raise MindSetupError(f"knowledge.folder: {e}") from None
        for err in report.errors:
            log.warning("knowledge base: %s", err)
        mind.knowledge = kb
        mind.lore = LoreContext(kb, names=[cfg.persona.name, *cfg.chat.names], top_k=k.top_k,
                                min_score=k.min_score, max_chars=k.max_prompt_chars)
    if cfg.viewers.enabled:
        v = cfg.viewers
        mind.viewers = ViewerMemory(viewers_path(loaded, demo=demo),
                                    max_facts=v.max_facts, max_topics=v.max_topics, max_viewers=v.max_viewers,
                                    max_prompt_chars=v.max_prompt_chars,
                                    exclude_words={cfg.persona.name, *cfg.chat.names})
    if cfg.emotion.enabled and mind.encoder is not None:
        mind.mood = mind.encoder.on_thread(lambda: EmotionReader(mind.encoder, min_score=cfg.emotion.min_score))
    return mind


def describe_mind(mind: Mind) -> list[str]:
    """One line per part that is on, for the start-up checklist."""
    out = []
    if mind.knowledge is not None:
        out.append(f"knowledge: {mind.knowledge.size} passages from {mind.knowledge.folder}")
    if mind.viewers is not None:
        out.append(f"viewer memory: {mind.viewers.count()} viewers in {mind.viewers.db_path}")
    if mind.mood is not None:
        out.append("emotions: read from each sentence")
    return out


def tag_prompt_lines(loaded: LoadedConfig) -> list[str]:
    return [TAG_INSTRUCTION] if loaded.config.emotion.enabled and loaded.config.emotion.ask_llm else []


__all__ = ["Mind", "MindSetupError", "build_mind", "describe_mind", "index_path", "lore_folder", "tag_prompt_lines",
           "viewers_path"]

"""Reads the mood of a sentence the avatar is about to say.

Two sources, in order: a tag the model wrote itself ("[happy] Yay!"), when the persona
asks for tags; otherwise a small classifier on the sentence embedding: the emotion
whose example lines are closest (mean of the three best cosine scores), or neutral
when none is close enough or two are nearly tied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.knowledge.encoder import SentenceEncoder

from .examples import EMOTIONS, EXAMPLES
from .tags import TAG_INSTRUCTION, mood_tag_filter, split_tag

__all__ = ["EmotionReader", "Mood", "TAG_INSTRUCTION", "mood_tag_filter", "split_tag"]


@dataclass(frozen=True, slots=True)
class Mood:
    name: str  # one of EMOTIONS, or "neutral"
    score: float  # the classifier's similarity, or 1.0 for a tag
    source: str  # "tag" | "classifier"


class EmotionReader:
    def __init__(self, encoder: SentenceEncoder, *, min_score: float = 0.3, margin: float = 0.02, top: int = 3):
        self.encoder = encoder
        self.min_score = min_score
        self.margin = margin
        self.top = top
        self._labels: list[str] = []
        vectors = []
        for name in EMOTIONS:
            for line in EXAMPLES[name]:
                self._labels.append(name)
                vectors.append(line)
        self._matrix = encoder.encode(vectors)
        self._index = {name: np.array([i for i, lab in enumerate(self._labels) if lab == name]) for name in EMOTIONS}

    def scores(self, text: str) -> dict[str, float]:
        sims = self._matrix @ self.encoder.encode(text)
        return {name: float(np.sort(sims[idx])[-self.top:].mean()) for name, idx in self._index.items()}

    async def read_async(self, text: str) -> Mood:
        """``read`` on the encoder's thread (the event loop never waits on numpy)."""
        return await self.encoder.in_thread(self.read, text)

    def read(self, text: str) -> Mood:
        tag, rest = split_tag(text)
        if tag is not None:
            return Mood(tag, 1.0, "tag")
        if not rest.strip():
            return Mood("neutral", 0.0, "classifier")
        ranked = sorted(self.scores(rest).items(), key=lambda kv: -kv[1])
        (best, s1), (_, s2) = ranked[0], ranked[1]
        if s1 < self.min_score or s1 - s2 < self.margin:
            return Mood("neutral", s1, "classifier")
        return Mood(best, s1, "classifier")


"""Which chat messages become prompts, and at what priority (``chat.policy``)."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .message import ChatMessage
from .queue import Priority


@dataclass(frozen=True, slots=True)
class Triage:
    priority: Priority
    text: str
    why: str  # cheer, ask, mention, reply, sampled


class Triager:
    def __init__(self, policy: str, names: Iterable[str], *, ask_command: str = "!ask",
                 sample_rate: float = 0.2, min_bits: int = 1, bot_login: str = "",
                 rng: random.Random | None = None):
        self.policy = policy
        self.ask = ask_command.lower()
        self.sample_rate = sample_rate
        self.min_bits = min_bits
        self.bot_login = bot_login.lower()
        self.rng = rng or random.Random()
        words = sorted({n.strip().lstrip("@").lower() for n in names if n.strip()}, key=len, reverse=True)
        self._names = re.compile(r"(?<![\w@])@?(?:" + "|".join(map(re.escape, words)) + r")\b", re.I) \
            if words else None

    def classify(self, msg: ChatMessage, text: str) -> Triage | None:
        """``text`` is the moderated (normalised) message text."""
        if msg.bits >= self.min_bits and text.strip():
            return Triage(Priority.EVENT, _strip_cheers(text), "cheer")
        lowered = text.lower()
        if lowered == self.ask or lowered.startswith(self.ask + " "):
            question = text[len(self.ask):].strip()
            return Triage(Priority.ASK, question, "ask") if question else None
        if self.policy == "ask":
            return None
        if self.bot_login and msg.reply_to_login == self.bot_login:
            return Triage(Priority.ASK, text, "reply")
        mentioned = self.bot_login and self.bot_login in msg.mentions
        if mentioned or (self._names is not None and self._names.search(text)):
            return Triage(Priority.ASK, text, "mention")
        if self.policy == "all" and not text.startswith(("!", "/")) and self.rng.random() < self.sample_rate:
            return Triage(Priority.CHAT, text, "sampled")
        return None


_CHEER = re.compile(r"\b(?:cheer|biblethump|cheerwhal|corgo|uni|showlove|party|seemsgood|pride|kappa|"
                    r"frankerz|heyguys|dansgame|elegiggle|trihard|kreygasm|4head|swiftrage|notlikethis|"
                    r"failfish|vohiyo|pjsalt|mrdestructoid|bday|ripcheer|shamrock)\d+\b", re.I)


def _strip_cheers(text: str) -> str:
    """"Cheer100 great stream" → "great stream": the avatar should not read cheermotes."""
    return " ".join(_CHEER.sub(" ", text).split()) or text

"""Rolling conversation memory bounded by a token budget.

The newest exchanges are kept whole; the oldest go first, so the prompt never
outgrows the context however long the stream runs. When the budget is exceeded,
memory is cut back to ``keep_fraction`` of it in one go rather than one exchange
at a time: every cut changes the start of the prompt, which costs the model a full
re-read (seconds on a CPU), so cuts should be rare.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .backend import ChatMessage


@dataclass(frozen=True, slots=True)
class Exchange:
    user: str
    assistant: str
    tokens: int


class ConversationMemory:
    def __init__(self, budget_tokens: int, count_tokens: Callable[[str], int],
                 keep_fraction: float = 0.5):
        self.budget = budget_tokens
        self.keep = int(budget_tokens * keep_fraction)
        self._count = count_tokens
        self._turns: deque[Exchange] = deque()
        self._total = 0

    def add(self, user: str, assistant: str) -> None:
        assistant = assistant.strip()
        if not assistant:
            return
        tokens = self._count(user) + self._count(assistant) + 8  # chat-template overhead
        self._turns.append(Exchange(user, assistant, tokens))
        self._total += tokens
        if self._total > self.budget:
            while self._turns and self._total > self.keep:
                self._total -= self._turns.popleft().tokens

    def messages(self) -> list[ChatMessage]:
        out: list[ChatMessage] = []
        for ex in self._turns:
            out.append(ChatMessage("user", ex.user))
            out.append(ChatMessage("assistant", ex.assistant))
        return out

    def forget(self, user_prefix: str) -> int:
        """Drop every exchange whose user turn starts with ``user_prefix`` (a viewer who
        asked to be forgotten); returns how many went."""
        kept = [ex for ex in self._turns if not ex.user.startswith(user_prefix)]
        gone = len(self._turns) - len(kept)
        self._turns = deque(kept)
        self._total = sum(ex.tokens for ex in kept)
        return gone

    def clear(self) -> None:
        self._turns.clear()
        self._total = 0

    @property
    def tokens(self) -> int:
        return self._total

    def __len__(self) -> int:
        return len(self._turns)

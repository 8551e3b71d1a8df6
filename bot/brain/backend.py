"""The one streaming interface every LLM backend implements."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True, slots=True)
class GenerationParams:
    max_tokens: int
    temperature: float
    top_p: float
    repeat_penalty: float = 1.1
    stop: tuple[str, ...] = ()


class BrainUnavailable(RuntimeError):
    """The backend cannot answer now; the message tells the streamer what to do.

    ``retryable`` says whether trying again later may help (a server that is down)
    or not (a model that is not installed).
    """

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


@runtime_checkable
class LLMBackend(Protocol):
    name: str

    async def load(self) -> None:
        """Load or check the model; raises BrainUnavailable with a fix."""

    def stream(self, messages: Sequence[ChatMessage], params: GenerationParams) -> AsyncIterator[str]:
        """Yield text deltas as the model produces them."""

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` costs in this backend's context (estimated where unknown)."""

    async def close(self) -> None: ...

    def describe(self) -> str:
        """One line for logs and `vtbot doctor`: which model, where."""


def estimate_tokens(text: str) -> int:
    """A tokenizer-free estimate (~4 characters per token for English BPEs)."""
    return max(1, (len(text) + 3) // 4)

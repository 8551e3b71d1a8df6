"""The brain: persona + memory + a backend, answering one viewer line at a time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from bot.config.models import LLMConfig, PersonaConfig

from .backend import BrainUnavailable, ChatMessage, GenerationParams, LLMBackend
from .context import Asker, ContextProvider, gather_context, with_context
from .memory import ConversationMemory
from .persona import system_prompt, viewer_turn

log = logging.getLogger(__name__)


class Brain:
    def __init__(self, backend: LLMBackend, persona: PersonaConfig, llm: LLMConfig):
        self.backend = backend
        self.persona = persona
        self.llm = llm
        self.memory = ConversationMemory(llm.memory_tokens, backend.count_tokens)
        self._system = system_prompt(persona)
        self.context: list[ContextProvider] = []  # lore, viewer notes: looked up per answer
        self.context_timeout_s = 1.5
        self.last_context: list[str] = []  # what the last answer was given (the dashboard, tests)

    def params(self) -> GenerationParams:
        return GenerationParams(
            max_tokens=self.persona.max_reply_tokens, temperature=self.llm.temperature,
            top_p=self.llm.top_p, repeat_penalty=self.llm.repeat_penalty,
            stop=("\nuser", "<|im_end|>", f"\n{self.persona.name}:"),
        )

    def set_system_extra(self, lines: list[str]) -> None:
        """Add fixed instructions to the system prompt (the emotion tags ask for one)."""
        self._system = "\n".join([system_prompt(self.persona), *lines])

    def prompt(self, viewer: str, text: str, context: list[str] | None = None) -> list[ChatMessage]:
        looked_up = [ChatMessage("system", with_context(context))] if context else []
        return [ChatMessage("system", self._system), *self.memory.messages(), *looked_up,
                ChatMessage("user", viewer_turn(viewer, text))]

    async def reply(self, viewer: str, text: str, login: str | None = None) -> AsyncIterator[str]:
        """Stream the answer to ``viewer``.

        A retryable failure before the first token is retried with backoff; after the
        first token the partial answer stands (the viewer already heard it). The
        caller calls ``remember`` with what was actually spoken.
        """
        context = (await gather_context(self.context, Asker(viewer, login, text), self.context_timeout_s)
                   if self.context else [])
        self.last_context = context
        messages = self.prompt(viewer, text, context)
        produced = False
        delay = 0.5
        for attempt in range(1, self.llm.retry_attempts + 1):
            try:
                async for delta in self.backend.stream(messages, self.params()):
                    produced = True
                    yield delta
                return
            except BrainUnavailable as e:
                if produced or not e.retryable or attempt == self.llm.retry_attempts:
                    raise
                log.warning("brain: %s (attempt %d/%d, retrying in %.1fs)",
                            e, attempt, self.llm.retry_attempts, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 8.0)

    async def warm_up(self) -> None:
        """Run the system prompt through the model once, so the first viewer does not
        pay for loading pages and filling the prompt cache."""
        params = GenerationParams(max_tokens=1, temperature=0.0, top_p=1.0)
        async for _ in self.backend.stream(self.prompt("viewer", "hi"), params):
            pass

    def remember(self, viewer: str, text: str, spoken: str) -> None:
        """Keep the exchange as the viewer heard it, for the next prompts."""
        self.memory.add(viewer_turn(viewer, text), spoken)

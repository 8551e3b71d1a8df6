"""The brain: persona + memory + a backend, answering one viewer line at a time.

A prompt is laid out stable-first: the system prompt, then the conversation, then the
lore and notes looked up for this line, then the line. A local model keeps the
tokens it read last time and re-reads only from the first difference; the looked-up
sections differ every time, so after each answer the brain reads the next prompt's
stable start (with the new exchange) while that answer is being heard, and the next
viewer waits only for their own lookups and line.
"""

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
        self._extra: list[str] = []
        self.context: list[ContextProvider] = []  # lore, viewer notes: looked up per answer
        self.context_timeout_s = 1.5
        self.last_context: list[str] = []  # what the last answer was given (the dashboard, tests)
        self._preparing: asyncio.Task[None] | None = None

    def params(self) -> GenerationParams:
        return GenerationParams(
            max_tokens=self.persona.max_reply_tokens, temperature=self.llm.temperature,
            top_p=self.llm.top_p, repeat_penalty=self.llm.repeat_penalty,
            stop=("\nuser", "<|im_end|>", f"\n{self.persona.name}:"),
        )

    def set_system_extra(self, lines: list[str]) -> None:
        """Add fixed instructions to the system prompt (the emotion tags ask for one)."""
        self._extra = list(lines)

    def system(self) -> str:
        """The system prompt: persona, fixed extras, and how to use each lookup. The lookups'
        instructions live here, read once and cached, not beside every looked-up section."""
        hints = [h for p in self.context if (h := getattr(p, "instruction", None))]
        return "\n".join([system_prompt(self.persona), *self._extra, *hints])

    def stable_messages(self) -> list[ChatMessage]:
        """The start every next prompt shares: the system prompt and the conversation."""
        return [ChatMessage("system", self.system()), *self.memory.messages()]

    def prompt(self, viewer: str, text: str, context: list[str] | None = None) -> list[ChatMessage]:
        looked_up = [ChatMessage("system", with_context(context))] if context else []
        return [*self.stable_messages(), *looked_up, ChatMessage("user", viewer_turn(viewer, text))]

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

    async def prepare(self) -> None:
        """Have the backend read the next prompt's stable start now, off the next viewer's
        wait. Only for backends that keep the last prompt's tokens (``reuses_prefix``);
        the one token sampled at the end is thrown away."""
        if not getattr(self.backend, "reuses_prefix", False):
            return
        params = GenerationParams(max_tokens=1, temperature=0.0, top_p=1.0)
        async for _ in self.backend.stream([*self.stable_messages(), ChatMessage("user", "")], params):
            pass

    def prepare_soon(self) -> asyncio.Task[None] | None:
        """Start ``prepare`` in the background and return its task, when called from the event
        loop (else None: the next answer reads its whole prompt, as without it)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        if self._preparing is not None and not self._preparing.done():
            self._preparing.cancel()  # its prefix is out of date; a running read ends at its next token
        self._preparing = loop.create_task(self._prepare_quietly(), name="brain-prepare")
        return self._preparing

    async def settled(self) -> None:
        """Wait for a read-ahead in progress. Live, the listener's time covers it; a
        scripted run with nobody to hear its lines waits here instead, so the next line
        starts as it would on stream, not racing the read-ahead for the cores."""
        task = self._preparing
        if task is not None and not task.done():
            await asyncio.wait({task})

    async def _prepare_quietly(self) -> None:
        try:
            await self.prepare()
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - a missed head start costs time, not the answer
            log.warning("brain: reading the next prompt ahead failed: %s", e)

    async def warm_up(self) -> None:
        """Run the system prompt through the model once, so the first viewer does not
        pay for loading pages and filling the prompt cache."""
        params = GenerationParams(max_tokens=1, temperature=0.0, top_p=1.0)
        async for _ in self.backend.stream(self.prompt("viewer", "hi"), params):
            pass

    def remember(self, viewer: str, text: str, spoken: str) -> None:
        """Keep the exchange as the viewer heard it, for the next prompts, and start reading
        the next prompt's stable start while this answer is being heard."""
        self.memory.add(viewer_turn(viewer, text), spoken)
        self.prepare_soon()

"""What the brain looks up before it answers: lore passages, notes on the viewer.

Each provider returns a short titled section (or None); the brain puts the sections
in a system message just before the viewer's turn, after the conversation, so the
cached start of the prompt (system prompt + memory) stays the same, the model
re-reads only the new part, and the viewer's own words stay apart from the notes
(small models copy a turn's layout into their answer).
A provider that fails or is slow is skipped for that answer, never the answer itself.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Asker:
    name: str  # display name, as the model sees it
    login: str | None  # the account (None: console, alerts)
    text: str


class ContextProvider(Protocol):
    name: str

    async def context(self, asker: Asker) -> str | None: ...


async def gather_context(providers: list[ContextProvider], asker: Asker, timeout_s: float) -> list[str]:
    """The sections of every provider that answered in time, in provider order."""

    async def one(p: ContextProvider) -> str | None:
        try:
            return await asyncio.wait_for(p.context(asker), timeout_s)
        except asyncio.TimeoutError:
            log.warning("context %s took over %.1f s; answering without it", p.name, timeout_s)
        except Exception:  # noqa: BLE001 - lore or notes are a bonus, the answer is not
            log.exception("context %s failed; answering without it", p.name)
        return None

    results = await asyncio.gather(*(one(p) for p in providers))
    return [r for r in results if r]


def with_context(sections: list[str]) -> str:
    """The looked-up sections as one message."""
    return "\n\n".join(sections)

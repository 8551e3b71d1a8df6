"""Where speech segments go: files, the speakers, later the overlay link."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from .segment import SpeechSegment, Utterance, UtteranceStats

log = logging.getLogger(__name__)


@runtime_checkable
class SpeechSink(Protocol):
    async def start(self, utterance: Utterance) -> None: ...

    async def segment(self, segment: SpeechSegment) -> None: ...

    async def finish(self, utterance: Utterance, stats: UtteranceStats) -> None: ...

    async def close(self) -> None: ...


class SinkFanout:
    """Sends every event to every sink; one failing sink is reported, not fatal."""

    def __init__(self, sinks: Sequence[SpeechSink]):
        self.sinks = list(sinks)

    async def _each(self, method: str, *args: object) -> None:
        results = await asyncio.gather(*(getattr(s, method)(*args) for s in self.sinks),
                                       return_exceptions=True)
        for sink, result in zip(self.sinks, results):
            if isinstance(result, Exception):
                log.error("speech sink %s failed in %s: %s", type(sink).__name__, method, result)

    async def start(self, utterance: Utterance) -> None:
        await self._each("start", utterance)

    async def segment(self, segment: SpeechSegment) -> None:
        await self._each("segment", segment)

    async def finish(self, utterance: Utterance, stats: UtteranceStats) -> None:
        await self._each("finish", utterance, stats)

    async def close(self) -> None:
        await self._each("close")

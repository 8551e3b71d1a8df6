"""chat line → brain → chunker → (piece filters) → TTS → timed segments → sinks.

The brain keeps generating the next piece while the voice speaks the current one;
a failure anywhere is reported on the utterance and the bot carries on.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.brain import Brain, BrainUnavailable
from bot.config.models import ChunkerConfig

from .chunker import Piece, chunk_stream
from .lipsync_link import TimelineBuilder
from .segment import SpeechSegment, Utterance, UtteranceStats
from .sink import SinkFanout, SpeechSink
from .tts.base import TTSEngine, TTSError

if TYPE_CHECKING:
    from bot.emotion.reader import Mood

log = logging.getLogger(__name__)

# A piece filter returns the piece to speak, a replacement, or None to drop it; it
# raises CutAnswer to end the answer (the output moderation gate does, on a bad piece).
PieceFilter = Callable[[Piece], Piece | None]


class CutAnswer(Exception):
    """Raised by a piece filter: speak ``replacement`` (if any) and end the answer here."""

    def __init__(self, reason: str, replacement: Piece | None = None):
        super().__init__(reason)
        self.reason = reason
        self.replacement = replacement

_END = object()


def voice_failed(stats: UtteranceStats, e: Exception) -> None:
    """Record why the voice stopped: a TTSError says it plainly; anything else is a bug,
    logged with its traceback."""
    if isinstance(e, TTSError):
        stats.error = f"voice: {e}"
        log.error("voice failed: %s", e)
    else:
        stats.error = f"voice: {type(e).__name__}: {e}"
        log.exception("voice failed")


@dataclass(slots=True)
class ChatLine:
    viewer: str
    text: str
    accepted_at: float = field(default_factory=time.perf_counter)
    login: str | None = None  # the viewer's account: their notes are looked up by it


class MoodReader(Protocol):
    async def read_async(self, text: str) -> Mood: ...


class Speaker:
    """Speaks fixed text: TTS → timelines → sinks (used by `say` and by the pipeline).

    With a mood reader, each piece's emotion rides on its first segment, so the overlay
    shows it when that sentence is heard; the reading runs in a thread while the voice
    makes the piece's first audio, so it adds no delay.
    """

    def __init__(self, tts: TTSEngine, sinks: Sequence[SpeechSink], mood: MoodReader | None = None,
                 mood_hold_s: float = 4.0):
        self.tts = tts
        self.sinks = SinkFanout(sinks)
        self.mood = mood
        self.mood_hold_s = mood_hold_s

    def _read_mood(self, piece: Piece) -> asyncio.Future[Mood] | None:
        if piece.emotion is not None or self.mood is None:
            return None
        return asyncio.ensure_future(self.mood.read_async(piece.text))

    async def _emotion(self, piece: Piece, reading: asyncio.Future[Mood] | None,
                       stats: UtteranceStats) -> dict[str, float | str] | None:
        if piece.emotion is not None:
            name, weight = piece.emotion, 1.0
        elif reading is not None:
            try:
                mood = await reading
            except Exception:  # noqa: BLE001 - no mood is a neutral face, not a lost answer
                log.exception("reading the mood failed")
                return None
            name, weight = mood.name, round(min(1.0, 0.5 + mood.score), 2)
        else:
            return None
        stats.moods.append(name)
        if name == "neutral":
            return None
        return {"name": name, "weight": weight, "hold_s": self.mood_hold_s}

    async def speak_pieces(self, utterance: Utterance, pieces: AsyncIterator[Piece],
                           stats: UtteranceStats, t0: float) -> None:
        builder = TimelineBuilder()
        # a voice without phoneme timing (XTTS) is lip-synced by following Piper reading
        # the same text: that reference is made while the voice makes the first audio
        timed = getattr(self.tts, "phoneme_timing", False)
        index = 0
        async for piece in pieces:
            reading = self._read_mood(piece)
            first = True
            if not timed:
                builder.prepare(piece.text)
            t_req = time.perf_counter()
            try:
                async for chunk in self.tts.stream(piece.text):
                    stats.tts_compute_s += time.perf_counter() - t_req
                    if stats.first_audio_s is None:
                        now = time.perf_counter()
                        stats.first_audio_s = now - t0
                        stats.tts_first_chunk_s = now - t_req
                    emotion = await self._emotion(piece, reading, stats) if first else None
                    first = False
                    # exact timing is cheap; aligning audio to text is not, and may wait
                    # for its reference: off the event loop
                    timeline = (builder.timeline(chunk) if chunk.phonemes
                                else await asyncio.to_thread(builder.timeline, chunk))
                    segment = SpeechSegment(utterance.id, index, piece.text, chunk.pcm, chunk.sample_rate,
                                            timeline, emotion)
                    index += 1
                    stats.audio_s += segment.duration_s
                    await self.sinks.segment(segment)
                    t_req = time.perf_counter()
            finally:
                if reading is not None and not reading.done():  # the voice failed first: nobody waits
                    reading.add_done_callback(lambda f: f.cancelled() or f.exception())

    async def begin(self, viewer: str | None, prompt: str) -> tuple[Utterance, UtteranceStats]:
        """Open an utterance on every sink. Fixed lines and answers both start here, so
        their stats carry the id an overlay reports heard, and the caller can wait for it."""
        utterance = Utterance(uuid.uuid4().hex[:12], viewer, prompt)
        await self.sinks.start(utterance)
        return utterance, UtteranceStats(utterance_id=utterance.id)

    async def say(self, text: str, *, viewer: str | None = None) -> UtteranceStats:
        """Speak fixed text; a leading mood tag in it ("[happy] Thanks!") sets the face."""
        from bot.emotion.tags import mood_tag_filter

        from .chunker import Chunker

        t0 = time.perf_counter()
        chunker = Chunker()
        pieces = [p for p in (mood_tag_filter(p) for p in [*chunker.feed(text), *chunker.flush()]) if p is not None]

        async def gen() -> AsyncIterator[Piece]:
            for p in pieces:
                yield p

        utterance, stats = await self.begin(viewer, text)
        stats.text, stats.pieces = " ".join(p.text for p in pieces), len(pieces)
        try:
            await self.speak_pieces(utterance, gen(), stats, t0)
        except Exception as e:  # noqa: BLE001 - a voice failure ends this line, not the bot
            voice_failed(stats, e)
        finally:
            stats.total_s = time.perf_counter() - t0
            await self.sinks.finish(utterance, stats)
        return stats


class SpeechPipeline:
    def __init__(self, brain: Brain, speaker: Speaker, chunker: ChunkerConfig,
                 piece_filters: Sequence[PieceFilter] = ()):
        self.brain = brain
        self.speaker = speaker
        self.chunker = chunker
        self.piece_filters = list(piece_filters)

    def _filter(self, piece: Piece) -> Piece | None:
        for f in self.piece_filters:
            result = f(piece)
            if result is None:
                log.info("piece dropped by %s: %r", getattr(f, "__name__", type(f).__name__), piece.text)
                return None
            piece = result
        return piece

    async def respond(self, line: ChatLine) -> UtteranceStats:
        """Answer one chat line aloud; never raises for backend or voice failures."""
        t0 = line.accepted_at
        utterance, stats = await self.speaker.begin(line.viewer, line.text)
        queue: asyncio.Queue[object] = asyncio.Queue()
        spoken: list[str] = []
        max_sentences = self.brain.persona.max_reply_sentences

        async def counted(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
            async for d in deltas:
                if stats.first_token_s is None:
                    stats.first_token_s = time.perf_counter() - t0
                stats.tokens += 1
                yield d

        async def produce() -> None:
            sentences = 0
            try:
                limit = self.brain.persona.max_reply_tokens
                async for piece in chunk_stream(counted(self.brain.reply(line.viewer, line.text, line.login)),
                                                self.chunker, truncated=lambda: stats.tokens >= limit):
                    try:
                        kept = self._filter(piece)
                    except CutAnswer as cut:
                        stats.cut = cut.reason
                        log.warning("answer cut: %s", cut.reason)
                        if cut.replacement is not None:
                            spoken.append(cut.replacement.text)
                            await queue.put(cut.replacement)
                        break
                    if kept is None:
                        continue
                    if stats.first_piece_s is None:
                        stats.first_piece_s = time.perf_counter() - t0
                    stats.pieces += 1
                    spoken.append(kept.text)
                    await queue.put(kept)
                    sentences += kept.ends_sentence
                    if sentences >= max_sentences:
                        break
            except BrainUnavailable as e:
                stats.error = f"brain: {e}"
                log.error("brain unavailable: %s", e)
            except Exception as e:  # noqa: BLE001 - the backend died mid-answer: say so, go on
                stats.error = f"brain: {type(e).__name__}: {e}"
                log.exception("brain failed mid-answer")
            finally:
                stats.generation_s = time.perf_counter() - t0
                await queue.put(_END)

        async def pieces() -> AsyncIterator[Piece]:
            while (item := await queue.get()) is not _END:
                yield item  # type: ignore[misc]

        producer = asyncio.create_task(produce(), name=f"brain-{utterance.id}")
        try:
            await self.speaker.speak_pieces(utterance, pieces(), stats, t0)
        except Exception as e:  # noqa: BLE001 - a voice failure ends this answer, not the bot
            voice_failed(stats, e)
        finally:
            if not producer.done():
                producer.cancel()
            await asyncio.gather(producer, return_exceptions=True)
            stats.text = " ".join(spoken)
            self.brain.remember(line.viewer, line.text, stats.text)
            stats.total_s = time.perf_counter() - t0
            await self.speaker.sinks.finish(utterance, stats)
        return stats

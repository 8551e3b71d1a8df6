"""What speech leaves the pipeline as: audio, its viseme timeline and its caption."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from avatar.lipsync.timeline import VisemeTimeline


@dataclass(slots=True)
class Utterance:
    """One answer to one chat line; segments belong to it in order."""

    id: str
    viewer: str | None
    prompt: str
    started_at: float = field(default_factory=time.time)


@dataclass(slots=True)
class SpeechSegment:
    """A stretch of audio with the visemes that move the mouth across it exactly."""

    utterance_id: str
    index: int
    caption: str
    pcm: np.ndarray
    sample_rate: int
    timeline: VisemeTimeline
    emotion: dict[str, float | str] | None = None  # {"name", "weight", "hold_s"}: shown when this segment plays

    def __post_init__(self) -> None:
        if self.timeline.n_samples != len(self.pcm) or self.timeline.sample_rate != self.sample_rate:
            raise ValueError("viseme timeline does not cover the segment's audio exactly")

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / self.sample_rate


@dataclass(slots=True)
class UtteranceStats:
    """Timings of one answer, in seconds from the moment the chat line was accepted."""

    first_token_s: float | None = None
    first_piece_s: float | None = None
    first_audio_s: float | None = None
    tts_first_chunk_s: float | None = None  # the first piece's request → its first audio
    tokens: int = 0
    generation_s: float = 0.0
    audio_s: float = 0.0
    tts_compute_s: float = 0.0
    pieces: int = 0
    total_s: float = 0.0
    text: str = ""
    error: str | None = None
    cut: str | None = None  # why the answer was ended early (output moderation)
    moods: list[str] = field(default_factory=list)  # each spoken piece's emotion, in order
    utterance_id: str = ""

    @property
    def tokens_per_s(self) -> float | None:
        if self.tokens < 2 or self.first_token_s is None or self.generation_s <= self.first_token_s:
            return None
        return (self.tokens - 1) / (self.generation_s - self.first_token_s)

    @property
    def tts_rtf(self) -> float | None:
        return self.tts_compute_s / self.audio_s if self.audio_s > 0 else None

    def as_dict(self) -> dict[str, object]:
        return {
            "first_token_s": self.first_token_s, "first_piece_s": self.first_piece_s,
            "first_audio_s": self.first_audio_s,
            "tts_first_chunk_s": self.tts_first_chunk_s, "tokens": self.tokens,
            "tokens_per_s": self.tokens_per_s, "generation_s": self.generation_s,
            "audio_s": self.audio_s, "tts_compute_s": self.tts_compute_s, "tts_rtf": self.tts_rtf,
            "pieces": self.pieces, "total_s": self.total_s, "text": self.text, "error": self.error,
        }

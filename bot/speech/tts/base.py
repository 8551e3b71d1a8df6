"""The one streaming TTS interface every engine implements.

An engine turns a piece of text into a stream of audio chunks; each chunk carries
its own timed phonemes when the engine knows them (Piper), or ``None`` (XTTS), in
which case lip sync estimates visemes from the audio itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from avatar.lipsync.timing import TimedPhoneme


class TTSError(RuntimeError):
    """A TTS engine could not load or speak; the message says what to do."""


@dataclass(slots=True)
class AudioChunk:
    """Mono PCM audio (int16) with optional phoneme timing relative to this chunk."""

    pcm: np.ndarray
    sample_rate: int
    phonemes: list[TimedPhoneme] | None = None
    text: str = ""
    meta: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.pcm.dtype != np.int16 or self.pcm.ndim != 1:
            raise ValueError("AudioChunk.pcm must be a 1-D int16 array")

    @property
    def n_samples(self) -> int:
        return int(self.pcm.shape[0])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sample_rate


@runtime_checkable
class TTSEngine(Protocol):
    """Streaming text to speech.

    ``load`` is slow (model files) and is called once before the first ``stream``;
    ``stream`` yields chunks as soon as each is ready so the first sound starts early.
    """

    name: str
    # True when every chunk carries timed phonemes; engines without it are lip-synced
    # by aligning their audio to the text (read with getattr: a plain engine has none)

    @property
    def sample_rate(self) -> int: ...

    async def load(self) -> None: ...

    def stream(self, text: str) -> AsyncIterator[AudioChunk]: ...

    async def close(self) -> None: ...


def float_to_int16(audio: np.ndarray) -> np.ndarray:
    """Clip float audio in [-1, 1] to int16 PCM."""
    return (np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0) * 32767.0).astype(np.int16)


def describe_voice(tts: TTSEngine) -> str:
    """What to call a voice on screen: its own description when it has one, else its name."""
    describe = getattr(tts, "describe", None)
    return describe() if callable(describe) else tts.name

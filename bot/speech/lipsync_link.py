"""Gives every audio chunk its viseme timeline: exact from phonemes, else estimated."""

from __future__ import annotations

from typing import TYPE_CHECKING

from avatar.lipsync.timeline import VisemeTimeline

if TYPE_CHECKING:
    from avatar.lipsync.audio import StreamingVisemeEstimator

from .tts.base import AudioChunk


class TimelineBuilder:
    """One per utterance: the audio estimator keeps its statistics across chunks."""

    def __init__(self) -> None:
        self._estimator: StreamingVisemeEstimator | None = None

    def timeline(self, chunk: AudioChunk) -> VisemeTimeline:
        if chunk.phonemes:
            return VisemeTimeline.from_phonemes(chunk.phonemes, chunk.sample_rate, chunk.n_samples)
        if self._estimator is None:
            from avatar.lipsync.audio import StreamingVisemeEstimator

            self._estimator = StreamingVisemeEstimator()
        return self._estimator.push(chunk.pcm, chunk.sample_rate)

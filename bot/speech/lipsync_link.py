"""Gives every audio chunk its viseme timeline: exact from phonemes; else aligned
to the chunk's text (XTTS and any voice that knows what it says but not when);
else estimated from the audio alone."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from avatar.lipsync.timeline import VisemeTimeline

if TYPE_CHECKING:
    from avatar.lipsync.audio import StreamingVisemeEstimator
    from avatar.lipsync.text_align import TextVisemeAligner

from .tts.base import AudioChunk

log = logging.getLogger(__name__)


class TimelineBuilder:
    """One per utterance: the audio estimator keeps its statistics across chunks,
    and a text aligner follows each piece of text across its chunks."""

    def __init__(self, use_text: bool = True) -> None:
        self._estimator: StreamingVisemeEstimator | None = None
        self._aligner: TextVisemeAligner | None = None
        self._use_text = use_text

    @property
    def aligning_text(self) -> bool:
        """Whether the last chunk without phonemes was aligned to its text."""
        return self._aligner is not None

    def timeline(self, chunk: AudioChunk) -> VisemeTimeline:
        if chunk.phonemes:
            return VisemeTimeline.from_phonemes(chunk.phonemes, chunk.sample_rate, chunk.n_samples)
        estimator = self._audio_estimator()
        aligner = self._text_aligner(chunk, estimator)
        if aligner is not None:
            try:
                return aligner.push(chunk.pcm, chunk.sample_rate)
            except Exception:  # noqa: BLE001 - a bad alignment must not cost the audio
                log.exception("aligning the chunk to its text failed; estimating from audio")
                self._aligner = None
        return estimator.push(chunk.pcm, chunk.sample_rate)

    def _audio_estimator(self) -> StreamingVisemeEstimator:
        if self._estimator is None:
            from avatar.lipsync.audio import StreamingVisemeEstimator

            self._estimator = StreamingVisemeEstimator()
        return self._estimator

    def _text_aligner(self, chunk: AudioChunk,
                      estimator: StreamingVisemeEstimator) -> TextVisemeAligner | None:
        """The aligner for this chunk's piece: the current one while the text goes
        on, a new one when a new piece (another text, or chunk 0) starts."""
        text = chunk.text.strip()
        if not self._use_text or not text:
            self._aligner = None
            return None
        current = self._aligner
        if current is not None and current.text == text and chunk.meta.get("chunk") != 0:
            return current
        from avatar.lipsync.text_align import TextVisemeAligner
        from avatar.lipsync.text_units import PhonemizerMissing

        try:
            self._aligner = TextVisemeAligner(text, estimator)
        except PhonemizerMissing as e:
            log.warning("%s; lip sync follows the audio alone", e)
            self._use_text = False
            self._aligner = None
        return self._aligner

"""Gives every audio chunk its viseme timeline: exact from phonemes; else aligned
to the chunk's text (XTTS and any voice that knows what it says but not when:
matched to Piper reading the same text, see avatar/lipsync/live_align.py); else
estimated from the audio alone."""

from __future__ import annotations

import logging
from concurrent.futures import Future
from typing import TYPE_CHECKING

from avatar.lipsync.timeline import VisemeTimeline

if TYPE_CHECKING:
    from avatar.lipsync.audio import StreamingVisemeEstimator
    from avatar.lipsync.live_align import LiveTextAligner

from .tts.base import AudioChunk

log = logging.getLogger(__name__)


class TimelineBuilder:
    """One per utterance: the audio estimator keeps its statistics across chunks,
    and a text aligner follows each piece of text across its chunks."""

    def __init__(self, use_text: bool = True, use_reference: bool = True) -> None:
        self._estimator: StreamingVisemeEstimator | None = None
        self._aligner: LiveTextAligner | None = None
        self._use_text = use_text
        self._use_reference = use_reference
        self._prepared: dict[str, Future] = {}

    def prepare(self, text: str) -> None:
        """Start Piper's lip-sync reference for a piece about to be spoken by a voice
        without phoneme timing, so it is made while the voice makes the piece's
        first audio rather than after it (the first chunk waits for it). Optional:
        without it the reference starts when the piece's first chunk arrives."""
        text = text.strip()
        if self._use_text and self._reference_wanted() and text and text not in self._prepared:
            self._prepared[text] = self._start_reference(text)

    def _reference_wanted(self) -> bool:
        """Whether to ask Piper for references; no, once it has been found missing."""
        if self._aligner is not None and self._aligner.reference_unavailable:
            self._use_reference = False
            self._prepared.clear()
        return self._use_reference

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

    @staticmethod
    def _start_reference(text: str) -> Future:
        from avatar.lipsync.live_align import start_reference
        from avatar.lipsync.reference_align import PiperReference, ReferenceAlignSettings

        settings = ReferenceAlignSettings()
        return start_reference(text, lambda t: PiperReference.of_text(t, settings))

    def _audio_estimator(self) -> StreamingVisemeEstimator:
        if self._estimator is None:
            from avatar.lipsync.audio import StreamingVisemeEstimator

            self._estimator = StreamingVisemeEstimator()
        return self._estimator

    def _text_aligner(self, chunk: AudioChunk,
                      estimator: StreamingVisemeEstimator) -> LiveTextAligner | None:
        """The aligner for this chunk's piece: the current one while the text goes
        on, a new one when a new piece (another text, or chunk 0) starts."""
        text = chunk.text.strip()
        if not self._use_text or not text:
            self._aligner = None
            return None
        current = self._aligner
        if current is not None and current.text == text and chunk.meta.get("chunk") != 0:
            return current
        from avatar.lipsync.live_align import LiveTextAligner
        from avatar.lipsync.text_units import PhonemizerMissing

        reference = self._prepared.pop(text, None)
        if reference is None and self._reference_wanted():
            reference = self._start_reference(text)
        try:
            self._aligner = LiveTextAligner(text, estimator, reference)
        except PhonemizerMissing as e:
            log.warning("%s; lip sync follows the audio alone", e)
            self._use_text = False
            self._aligner = None
        return self._aligner

"""Lip sync from the known text by following Piper saying it, chunk by chunk.

Piper speaks the piece's text without its random variation, which gives reference
audio with every phoneme timed exactly. The live voice's frames are matched to the
reference's as they arrive (``stream_dtw``), each audible frame takes the viseme
of the reference frame it matched, and ``fuse`` lets the estimator's loudness gate
decide closed or open. The features are the speaker-normalised cepstra and deltas
plus the viseme classifier's log posteriors (which differ less between voices than
raw spectra do).

Silence is handled so that a chunk can be answered without knowing what follows:
silence before the first sound is left out of the warping, and of every later
silent run only the first few frames take part, on both sides. A stop's short
closure is then matched with the reference's, while a long pause in only one of
the two does not drag the path. The reference is made once per piece, in the
background (``live_align``); a voice that reads the text differently from Piper
(other words, numbers said in full) just gets a poorer match, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from avatar.lipsync import features as F
from avatar.lipsync.audio import FrameEstimate, StreamingVisemeEstimator, label_chunk
from avatar.lipsync.fuse import FuseSettings, fuse
from avatar.lipsync.stream_dtw import StreamingDTW
from avatar.lipsync.timeline import VisemeTimeline
from avatar.lipsync.visemes import SILENCE


class ReferenceUnavailable(RuntimeError):
    """Piper (or its bundled voice) cannot speak the reference here."""


@dataclass(frozen=True)
class ReferenceAlignSettings:
    """Checked on Piper tuning speech (augmented voices, random timing; the sweep
    is ``scripts/eval_lipsync.py --tune``), where the weight and run length are
    flat around these values."""

    #: weight of the classifier's log posteriors against the cepstra
    posterior_weight: float = 0.5
    #: frames of each silent run (after the first sound) that take part in warping:
    #: about a stop's closure
    silent_frames_warped: int = 8
    #: the gate decides closed or open. Showing the text's vowel in the gate's
    #: silent frames (``vowels_under_gate``) scored higher on the Piper tuning set,
    #: whose added noise hides soft vowel ends under the gate, but closed the mouth
    #: less well on the human evaluation speech (one look, reported with the
    #: figures), where those frames are pauses and breaths: off
    fuse: FuseSettings = field(default_factory=FuseSettings)


@dataclass(frozen=True)
class PiperReference:
    """The reference's warping features, and the viseme of each of its frames."""

    features: np.ndarray
    visemes: list[str]

    @classmethod
    def of_text(cls, text: str, settings: ReferenceAlignSettings) -> PiperReference | None:
        """Piper's steady reading of ``text``; None when it says nothing."""
        from avatar.lipsync import piper_speech

        try:
            utterances = piper_speech.synthesize(text, piper_speech.steady_config())
        except (ImportError, OSError) as e:
            raise ReferenceUnavailable(f"Piper cannot speak the lip-sync reference: {e}") from e
        if not utterances:
            return None
        ref = piper_speech.join(utterances)
        estimator = StreamingVisemeEstimator()
        est = estimator.frames(ref.audio, ref.sample_rate)
        labels = VisemeTimeline.from_phonemes(ref.phonemes, ref.sample_rate,
                                              len(ref.audio)).frame_visemes()
        labels = (labels + [SILENCE] * len(est.visemes))[: len(est.visemes)]
        keep = _SilenceRuns(settings.silent_frames_warped).keep(_audible(est))
        if not keep.any():
            return None
        log_post = np.log(est.posteriors + 1e-4)
        feats = warp_features(est, estimator.model.offsets, log_post - log_post.mean(axis=0),
                              settings.posterior_weight)
        return cls(feats[keep], [v for v, k in zip(labels, keep) if k])


def warp_features(est: FrameEstimate, offsets: tuple[int, ...], centred_log_post: np.ndarray,
                  weight: float) -> np.ndarray:
    """Cepstra c1..c12 and their deltas (c0 and loudness differ between recordings
    more than between sounds) beside the weighted, centred log posteriors;
    ``offsets``: the classifier's context frames, stacked in ``est.inputs``."""
    width = est.inputs.shape[1] // len(offsets)
    centre = offsets.index(0) * width
    ceps = est.inputs[:, centre + 1 : centre + 2 * F.N_MFCC]
    return np.concatenate([ceps, weight * centred_log_post], axis=1)


class ReferenceAligner:
    """Timelines for consecutive chunks of one piece of text, as they arrive.

    ``reference``: Piper's reading of the text (``PiperReference.of_text``); without
    one the estimator's visemes pass through. ``estimator`` supplies features and
    the loudness gate; pass the utterance's own so its speaker statistics carry
    from piece to piece.
    """

    def __init__(self, text: str, reference: PiperReference | None,
                 estimator: StreamingVisemeEstimator | None = None,
                 settings: ReferenceAlignSettings | None = None) -> None:
        self.text = text
        self.estimator = estimator or StreamingVisemeEstimator()
        self.settings = settings or ReferenceAlignSettings()
        self.reference = reference
        self._dtw = StreamingDTW(self.reference.features) if self.reference else None
        self._runs = _SilenceRuns(self.settings.silent_frames_warped)
        self._post_sum: np.ndarray | None = None
        self._post_count = 0

    def push(self, pcm: np.ndarray, sample_rate: int, last: bool = False) -> VisemeTimeline:
        """The timeline of the next chunk of this piece's audio (``last``: the final one)."""
        return label_chunk(self.estimator, pcm, sample_rate, lambda est: self.labels(est, last))

    def labels(self, est: FrameEstimate, last: bool = False) -> list[str]:
        """Per-frame visemes of one chunk's estimate (updates the warping state)."""
        keep = self._runs.keep(_audible(est))
        aligned = [SILENCE] * len(est.visemes)
        if self._dtw is not None and keep.any():
            log_post = np.log(est.posteriors + 1e-4)
            feats = warp_features(est, self.estimator.model.offsets,
                                  log_post - self._running_mean(log_post[keep]),
                                  self.settings.posterior_weight)
            match = self._dtw.push(feats[keep], last)
            for i, j in zip(np.flatnonzero(keep), match):
                aligned[i] = self.reference.visemes[j]
        return fuse(aligned, est.visemes, self.settings.fuse)

    def _running_mean(self, rows: np.ndarray) -> np.ndarray:
        """Mean log posteriors of the piece's warped frames so far, these included."""
        total = rows.sum(axis=0)
        self._post_sum = total if self._post_sum is None else self._post_sum + total
        self._post_count += len(rows)
        return self._post_sum / self._post_count


def align_with_reference(pcm: np.ndarray, sample_rate: int, text: str,
                         settings: ReferenceAlignSettings | None = None) -> VisemeTimeline:
    """The timeline of one whole recording of ``text``."""
    audio = F.to_float_mono(pcm)
    if len(audio) == 0:
        return VisemeTimeline.silent(0, sample_rate)
    settings = settings or ReferenceAlignSettings()
    reference = PiperReference.of_text(text, settings)
    return ReferenceAligner(text, reference, settings=settings).push(audio, sample_rate, last=True)


class _SilenceRuns:
    """Which frames take part in warping, across chunks: none before the first
    sound, then every audible frame and the first ``limit`` of each silent run."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._started = False
        self._run = 0

    def keep(self, audible: np.ndarray) -> np.ndarray:
        out = np.zeros(len(audible), dtype=bool)
        for i, heard in enumerate(audible):
            if heard:
                self._started, self._run = True, 0
                out[i] = True
            elif self._started:
                out[i] = self._run < self._limit
                self._run += 1
        return out


def _audible(est: FrameEstimate) -> np.ndarray:
    return np.array([v != SILENCE for v in est.visemes], dtype=bool)


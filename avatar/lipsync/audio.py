"""Visemes from audio alone, for TTS engines that give no phonemes (XTTS).

Per 10 ms frame: loudness decides silence, and a small classifier (see
``classifier.py``) reads speaker-normalised cepstra to tell visemes apart. Its
posteriors are summed per vowel class and decoded with a switch penalty, so the
mouth holds a shape instead of flickering. Streaming keeps the speaker's cepstral
statistics and loudness reference from chunk to chunk; every chunk still gets a
timeline of its own that covers it exactly.
"""

from __future__ import annotations

from collections.abc import Callable

from dataclasses import dataclass, field

import numpy as np

from avatar.lipsync import features as F
from avatar.lipsync.classifier import VisemeMLP
from avatar.lipsync.timeline import VisemeTimeline
from avatar.lipsync.visemes import CLOSED, SILENCE, VOWEL_CLASSES, vowel_class


@dataclass(frozen=True)
class EstimatorSettings:
    """Gate and decoding knobs. The switch penalty was chosen on held-out Piper
    speech (scripts/train_lipsync.py prints the sweep); the loudness limits are
    set by hand."""

    #: Frames quieter than the loudness reference by this much are silence.
    silence_below_ref_db: float = 40.0
    #: Frames less than this much above the noise floor are silence.
    silence_above_floor_db: float = 3.0
    #: Frames quieter than this are silence whatever the reference.
    silence_floor_db: float = -65.0
    #: Log-probability cost of changing vowel class between two frames.
    switch_penalty: float = 2.0
    #: Weight (in frames) of the prior cepstral statistics against the speaker's.
    prior_frames: float = 50.0
    #: How fast the loudness reference may fall, dB per second (it rises at once).
    reference_decay_db_s: float = 3.0
    #: How fast the noise floor may rise, dB per second (it falls at once).
    floor_rise_db_s: float = 1.0


@dataclass
class _Normaliser:
    """Running speaker statistics of cepstra over speech frames."""

    prior_mean: np.ndarray
    prior_std: np.ndarray
    prior_frames: float
    count: float = 0.0
    total: np.ndarray = field(default=None)  # type: ignore[assignment]
    total_sq: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.total = np.zeros_like(self.prior_mean)
        self.total_sq = np.zeros_like(self.prior_mean)

    def update(self, rows: np.ndarray) -> None:
        self.count += len(rows)
        self.total += rows.sum(axis=0)
        self.total_sq += (rows**2).sum(axis=0)

    def apply(self, rows: np.ndarray) -> np.ndarray:
        n0 = self.prior_frames
        mean = (n0 * self.prior_mean + self.total) / (n0 + self.count)
        second = (n0 * (self.prior_std**2 + self.prior_mean**2) + self.total_sq) / (n0 + self.count)
        std = np.sqrt(np.maximum(second - mean**2, 1e-6))
        return (rows - mean) / std


@dataclass(frozen=True)
class Analysis:
    """One chunk's frames: raw cepstra, loudness in dB, and the loudness gate."""

    cepstra: np.ndarray
    energy_db: np.ndarray
    reference_db: float
    floor_db: float
    audible: np.ndarray


class FrontEnd:
    """Audio chunks in, normalised frame features out, state carried across chunks:
    the high-pass filter, the last samples (left context), the loudness reference
    and noise floor, and the speaker's cepstral statistics."""

    def __init__(self, model: VisemeMLP, settings: EstimatorSettings) -> None:
        self._model = model
        self._settings = settings
        self._filter_state: np.ndarray | None = None
        self._tail = np.zeros(0, dtype=np.float32)
        self._reference_db: float | None = None
        self._floor_db: float | None = None
        n_ceps = F.N_MFCC
        self._cepstra = _Normaliser(model.feature_mean[:n_ceps], model.feature_std[:n_ceps],
                                    settings.prior_frames)
        self._delta_std = model.feature_std[n_ceps:]

    @property
    def heard_frames(self) -> float:
        return self._cepstra.count

    def analyse(self, audio: np.ndarray, sample_rate: int) -> Analysis:
        """Frame a chunk and gate it by loudness (updates the carried state)."""
        audio16, self._filter_state = F.highpass(F.resample(audio, sample_rate), self._filter_state)
        count = F.n_frames(len(audio), sample_rate)
        framed = F.frames(audio16, count, left=self._tail)
        self._tail = np.concatenate([self._tail, audio16])[-F.WINDOW :]
        energy = F.log_energy_db(framed)
        self._track_levels(energy, len(audio) / sample_rate)
        s = self._settings
        audible = ((energy > self._reference_db - s.silence_below_ref_db)
                   & (energy > self._floor_db + s.silence_above_floor_db)
                   & (energy > s.silence_floor_db))
        return Analysis(F.mfcc(F.log_mel(framed)), energy, self._reference_db, self._floor_db,
                        audible)

    def process(self, audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
        """Stacked classifier inputs and the loudness gate, one row per 10 ms frame."""
        a = self.analyse(audio, sample_rate)
        if a.audible.any():
            self._cepstra.update(a.cepstra[a.audible])
        normalised = self._cepstra.apply(a.cepstra)
        delta = F.deltas(a.cepstra) / self._delta_std
        above_ref = np.clip((a.energy_db - a.reference_db) / 20.0, -3.0, 1.0)
        above_floor = np.clip((a.energy_db - a.floor_db) / 20.0, 0.0, 4.0)
        rows = np.concatenate([normalised, delta, above_ref[:, None], above_floor[:, None]], axis=1)
        return F.stack_context(rows, self._model.offsets), a.audible

    def _track_levels(self, energy: np.ndarray, duration_s: float) -> None:
        loud = float(np.percentile(energy, 95))
        quiet = float(np.percentile(energy, 5))
        s = self._settings
        if self._reference_db is None or self._floor_db is None:
            self._reference_db, self._floor_db = loud, quiet
            return
        self._reference_db = max(loud, self._reference_db - s.reference_decay_db_s * duration_s)
        self._floor_db = min(quiet, self._floor_db + s.floor_rise_db_s * duration_s)


@dataclass(frozen=True)
class FrameEstimate:
    """Per 10 ms frame: classifier inputs, viseme posteriors, and decoded visemes."""

    inputs: np.ndarray
    posteriors: np.ndarray
    visemes: list[str]


class StreamingVisemeEstimator:
    """Estimate one timeline per audio chunk, in order, for one speaker's stream.

    Call ``reset`` between unrelated utterances or speakers.
    """

    def __init__(self, model: VisemeMLP | None = None,
                 settings: EstimatorSettings | None = None) -> None:
        self.model = model or _default_model()
        self.settings = settings or EstimatorSettings()
        self._class_of = np.array([VOWEL_CLASSES.index(vowel_class(v)) for v in self.model.classes])
        self.reset()

    def reset(self) -> None:
        self._front = FrontEnd(self.model, self.settings)
        self._last_class: int | None = None

    @property
    def heard_frames(self) -> int:
        """Audible frames in the speaker statistics so far (0 after ``reset``)."""
        return int(self._front.heard_frames)

    def push(self, pcm: np.ndarray, sample_rate: int) -> VisemeTimeline:
        """The timeline of this chunk (int16 or float PCM, mono or multi-channel)."""
        return label_chunk(self, pcm, sample_rate, lambda est: est.visemes)

    def frames(self, pcm: np.ndarray, sample_rate: int) -> FrameEstimate:
        """The per-frame work behind ``push``, for callers that want the details
        (the chunk must not be empty)."""
        stacked, audible = self._front.process(F.to_float_mono(pcm), sample_rate)
        posteriors = self.model.posteriors(stacked)
        return FrameEstimate(stacked, posteriors, self.decode(posteriors, audible))

    def decode(self, posteriors: np.ndarray, audible: np.ndarray) -> list[str]:
        """Pick a viseme per frame: best vowel-class path, then best viseme within it."""
        n_classes = len(VOWEL_CLASSES)
        class_post = np.zeros((len(posteriors), n_classes))
        np.add.at(class_post.T, self._class_of, posteriors.T)
        closed = VOWEL_CLASSES.index(CLOSED)
        class_post[~audible] = 0.0
        class_post[~audible, closed] = 1.0
        path = _viterbi(np.log(class_post + 1e-6), self.settings.switch_penalty, self._last_class)
        self._last_class = int(path[-1])
        masked = np.where(self._class_of[None, :] == path[:, None], posteriors, -1.0)
        chosen = [self.model.classes[i] for i in masked.argmax(axis=1)]
        return [viseme if heard else SILENCE for viseme, heard in zip(chosen, audible)]


def estimate_timeline(pcm: np.ndarray, sample_rate: int) -> VisemeTimeline:
    """Visemes for one whole utterance (normalised on the utterance itself)."""
    return StreamingVisemeEstimator().push(pcm, sample_rate)


def label_chunk(estimator: StreamingVisemeEstimator, pcm: np.ndarray, sample_rate: int,
                labels: Callable[[FrameEstimate], list[str]]) -> VisemeTimeline:
    """A chunk's timeline from the per-frame labels ``labels`` reads off its estimate:
    the one shape of every streaming lip-sync ``push``."""
    audio = F.to_float_mono(pcm)
    if len(audio) == 0:
        return VisemeTimeline.silent(0, sample_rate)
    return frames_to_timeline(labels(estimator.frames(audio, sample_rate)), sample_rate, len(audio))


def frames_to_timeline(labels: list[str], sample_rate: int, n_samples: int) -> VisemeTimeline:
    """Per-10 ms-frame visemes as a timeline over exactly ``n_samples`` samples."""
    bounds = [min(round(i * sample_rate * F.HOP / F.RATE), n_samples) for i in range(len(labels))]
    bounds.append(n_samples)
    spans = [(bounds[i + 1] - bounds[i], label) for i, label in enumerate(labels)]
    return VisemeTimeline.from_spans(spans, sample_rate, n_samples)


def _viterbi(log_post: np.ndarray, penalty: float, start: int | None) -> np.ndarray:
    """Most likely class path when each change of class costs ``penalty``."""
    n, k = log_post.shape
    score = log_post[0].copy()
    if start is not None:
        score -= penalty * (np.arange(k) != start)
    back = np.zeros((n, k), dtype=np.int64)
    for t in range(1, n):
        best_prev = int(score.argmax())
        stay = score
        switch = score[best_prev] - penalty
        back[t] = np.where(stay >= switch, np.arange(k), best_prev)
        score = np.maximum(stay, switch) + log_post[t]
    path = np.empty(n, dtype=np.int64)
    path[-1] = int(score.argmax())
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


_MODEL: VisemeMLP | None = None


def _default_model() -> VisemeMLP:
    global _MODEL
    if _MODEL is None:
        _MODEL = VisemeMLP.load()
    return _MODEL

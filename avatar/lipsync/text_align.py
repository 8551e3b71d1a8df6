"""Lip sync for speech whose text is known but whose timing is not (XTTS, a
recording with its transcript): the text's sounds are force-aligned to the audio.

The text gives the order of mouth shapes, which the audio alone cannot tell
apart reliably; the audio only has to say when each one happens. Frames are
scored by the audio estimator's classifier (its viseme posteriors, divided by how
often it says each viseme anyway) and by the loudness gate, and ``forced.py``
finds the best timing. Audio arrives chunk by chunk and each chunk gets its
timeline at once; a piece's speaker statistics carry over from earlier pieces.
The estimator's loudness gate has the last word on closed or open (``fuse.py``).
Live, this aligner covers a piece until Piper's reference for it is ready
(``live_align.py``), and installs without Piper.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from avatar.lipsync import features as F
from avatar.lipsync.audio import FrameEstimate, StreamingVisemeEstimator, label_chunk
from avatar.lipsync.forced import ChainSettings, ChunkedViterbi, build_graph
from avatar.lipsync.fuse import FuseSettings, fuse
from avatar.lipsync.text_units import Unit, UnitKind, text_units
from avatar.lipsync.timeline import VisemeTimeline
from avatar.lipsync.visemes import SILENCE

#: Visemes whose sound can be (near) silent: stop closures and weak fricatives.
_QUIET_VISEMES = frozenset({"PP", "DD", "kk", "TH", "FF"})


@dataclass(frozen=True)
class TextAlignSettings:
    """Emission weights; chosen on Piper speech (scripts/eval_lipsync.py --tune)."""

    #: weight of the classifier's log posteriors
    posterior_weight: float = 1.0
    #: how much the classifier's typical output is divided out (0: not at all)
    prior_weight: float = 0.5
    #: cost of a frame the loudness gate calls silent inside a sound that is never silent
    quiet_cost: float = 1.0
    #: cost of a frame the loudness gate calls audible inside a pause
    loud_pause_cost: float = 1.0
    #: weight of the loudness model: each kind of unit has a typical level below
    #: the loudest speech (mean, spread in dB, measured on augmented Piper speech),
    #: so a breath or room noise in a pause does not pass for a vowel
    level_weight: float = 1.0
    vowel_level_db: tuple[float, float] = (-9.0, 10.0)
    consonant_level_db: tuple[float, float] = (-18.0, 12.0)
    pause_level_db: tuple[float, float] = (-32.0, 15.0)
    fuse: FuseSettings = field(default_factory=FuseSettings)
    chain: ChainSettings = field(default_factory=ChainSettings)


class TextVisemeAligner:
    """Timelines for consecutive chunks of one piece of text, as they arrive.

    ``estimator`` supplies features and posteriors; pass the utterance's own to keep
    its speaker statistics from piece to piece.
    """

    def __init__(self, text: str, estimator: StreamingVisemeEstimator | None = None,
                 settings: TextAlignSettings | None = None,
                 units: list[Unit] | None = None) -> None:
        self.text = text
        self.estimator = estimator or StreamingVisemeEstimator()
        self.settings = settings or TextAlignSettings()
        self.units = units if units is not None else text_units(text)
        self._graph = build_graph(self.units, self.settings.chain)
        self._viterbi = ChunkedViterbi(self._graph)
        model = self.estimator.model
        self._column = _unit_columns(self.units, model.classes)[self._graph.unit_of]
        self._log_prior = np.log(_class_prior(model.classes))
        self._quiet = np.array([u.kind is not UnitKind.PAUSE and u.viseme not in _QUIET_VISEMES
                                for u in self.units])[self._graph.unit_of]
        self._pause = np.array([u.kind is UnitKind.PAUSE for u in self.units])[self._graph.unit_of]
        levels = {UnitKind.VOWEL: self.settings.vowel_level_db,
                  UnitKind.CONSONANT: self.settings.consonant_level_db,
                  UnitKind.PAUSE: self.settings.pause_level_db}
        mean_sd = np.array([levels[u.kind] for u in self.units])[self._graph.unit_of]
        self._level_mean, self._level_sd = mean_sd[:, 0], mean_sd[:, 1]
        offsets = self.estimator.model.offsets
        width = F.N_MFCC * 2 + 2
        self._level_column = offsets.index(0) * width + 2 * F.N_MFCC

    def push(self, pcm: np.ndarray, sample_rate: int, last: bool = False) -> VisemeTimeline:
        """The timeline of the next chunk of this piece's audio (``last``: the final one)."""
        return label_chunk(self.estimator, pcm, sample_rate, lambda est: self.labels(est, last))

    def labels(self, est: FrameEstimate, last: bool = False) -> list[str]:
        """Per-frame visemes of one chunk's estimate (advances the alignment).

        The loudness gate decides closed or open (``fuse``); speech the text does
        not account for (an audible frame placed in a pause, such as a voice that
        runs on past the text) keeps the estimator's shape.
        """
        audible = np.array([v != SILENCE for v in est.visemes])
        level = 20.0 * est.inputs[:, self._level_column]
        path = self._viterbi.push(self.emissions(est.posteriors, audible, level), last)
        aligned = [self.units[u].viseme for u in self._graph.unit_of[path]]
        return fuse(aligned, est.visemes, self.settings.fuse)

    def emissions(self, posteriors: np.ndarray, audible: np.ndarray,
                  level_db: np.ndarray) -> np.ndarray:
        """Log score of every state for every frame, ``(frames, states)``; ``level_db``
        is each frame's loudness against the loudest speech so far."""
        s = self.settings
        scaled = s.posterior_weight * (np.log(posteriors + 1e-6) - s.prior_weight * self._log_prior)
        out = scaled[:, self._column]
        out -= s.quiet_cost * (~audible)[:, None] * self._quiet[None, :]
        out -= s.loud_pause_cost * audible[:, None] * self._pause[None, :]
        z = (level_db[:, None] - self._level_mean[None, :]) / self._level_sd[None, :]
        out -= s.level_weight * (0.5 * z**2 + np.log(self._level_sd)[None, :])
        return out


def align_text(pcm: np.ndarray, sample_rate: int, text: str,
               settings: TextAlignSettings | None = None) -> VisemeTimeline:
    """The timeline of one whole recording of ``text``."""
    audio = F.to_float_mono(pcm)
    if len(audio) == 0:
        return VisemeTimeline.silent(0, sample_rate)
    return TextVisemeAligner(text, settings=settings).push(audio, sample_rate, last=True)


def _unit_columns(units: list[Unit], classes: tuple[str, ...]) -> np.ndarray:
    return np.array([classes.index(u.viseme) for u in units])


def _class_prior(classes: tuple[str, ...]) -> np.ndarray:
    """How often each viseme is said in English speech, roughly (share of frames
    in Piper's reading of the training sentences), floored so none is zero."""
    share = {"sil": 0.18, "PP": 0.05, "FF": 0.04, "TH": 0.03, "DD": 0.10, "kk": 0.06,
             "CH": 0.02, "SS": 0.07, "nn": 0.07, "RR": 0.05, "aa": 0.11, "E": 0.06,
             "ih": 0.08, "oh": 0.03, "ou": 0.04}
    prior = np.array([share.get(c, 0.02) for c in classes])
    return prior / prior.sum()

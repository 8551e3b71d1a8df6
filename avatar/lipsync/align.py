"""Text-guided lip sync: when the transcript is known, borrow Piper's timing.

Piper speaks the transcript without its random variation (so the result is
repeatable), which gives reference audio whose phonemes are timed exactly. Dynamic time warping then matches the reference's frames to the input's
(speaker-normalised cepstra plus the viseme classifier's posteriors, which differ
less between voices than raw spectra do), and each input frame takes the viseme
of the reference frame it matched. Pauses are cut from both sides before warping
and are silence, so a pause in only one of the two does not drag the alignment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avatar.lipsync import features as F
from avatar.lipsync import piper_speech
from avatar.lipsync.audio import StreamingVisemeEstimator, frames_to_timeline
from avatar.lipsync.fuse import FuseSettings, fuse
from avatar.lipsync.stream_dtw import dtw_row, median_matches, step_back
from avatar.lipsync.timeline import VisemeTimeline
from avatar.lipsync.visemes import SILENCE


@dataclass(frozen=True)
class AlignSettings:
    #: Silent runs at least this long (10 ms frames) are pauses, cut before warping.
    min_pause_frames: int = 25
    #: Weight of the classifier posteriors against the cepstra in the frame distance.
    posterior_weight: float = 0.5


def align_transcript(pcm: np.ndarray, sample_rate: int, text: str,
                     settings: AlignSettings | None = None,
                     gate: FuseSettings | None = None) -> VisemeTimeline:
    """A timeline for ``pcm`` that follows the phonemes of ``text`` as Piper says them.

    ``gate``: let the audio estimator's loudness gate decide closed or open
    (``fuse``), as ``vtbot lipsync --text`` does; without it the warping's pauses do.
    """
    settings = settings or AlignSettings()
    audio = F.to_float_mono(pcm)
    if len(audio) == 0:
        return VisemeTimeline.silent(0, sample_rate)
    utterances = piper_speech.synthesize(text, piper_speech.steady_config())
    if not utterances:
        return VisemeTimeline.silent(len(audio), sample_rate)
    ref = piper_speech.join(utterances)
    ref_timeline = VisemeTimeline.from_phonemes(ref.phonemes, ref.sample_rate, len(ref.audio))
    ref_feats, ref_visemes = _frame_features(ref.audio, ref.sample_rate, settings)
    in_feats, in_visemes = _frame_features(audio, sample_rate, settings)
    ref_silent = np.array([v == SILENCE for v in ref_visemes], dtype=bool)
    in_silent = np.array([v == SILENCE for v in in_visemes], dtype=bool)
    ref_labels = _pad(ref_timeline.frame_visemes(), len(ref_feats))

    ref_keep = ~_pauses(ref_silent, settings.min_pause_frames)
    in_keep = ~_pauses(in_silent, settings.min_pause_frames)
    labels = [SILENCE] * len(in_feats)
    if ref_keep.any() and in_keep.any():
        ref_index = np.flatnonzero(ref_keep)
        in_index = np.flatnonzero(in_keep)
        match = dtw_match(in_feats[in_index], ref_feats[ref_index])
        for i, j in zip(in_index, match):
            labels[i] = ref_labels[ref_index[j]]
    if gate is not None:
        labels = fuse(labels, in_visemes, gate)
    return frames_to_timeline(labels, sample_rate, len(audio))


def _frame_features(audio: np.ndarray, sample_rate: int,
                    settings: AlignSettings) -> tuple[np.ndarray, list[str]]:
    """Normalised cepstra and deltas, weighted log posteriors, and the audio
    estimator's visemes (``sil`` where its gate hears silence)."""
    estimator = StreamingVisemeEstimator()
    est = estimator.frames(audio, sample_rate)
    offsets = estimator.model.offsets
    width = est.inputs.shape[1] // len(offsets)
    centre = offsets.index(0) * width
    # cepstra c1..c12 and their deltas: c0 and the loudness columns differ between
    # recordings more than between sounds
    ceps = est.inputs[:, centre + 1 : centre + 2 * F.N_MFCC]
    post = np.log(est.posteriors + 1e-4)
    post = (post - post.mean(axis=0)) * settings.posterior_weight
    return np.concatenate([ceps, post], axis=1), est.visemes


def _pauses(silent: np.ndarray, min_frames: int) -> np.ndarray:
    """Silent runs of at least ``min_frames``, and silence at either end."""
    pause = np.zeros(len(silent), dtype=bool)
    start = None
    for i, quiet in enumerate(np.append(silent, False)):
        if quiet and start is None:
            start = i
        elif not quiet and start is not None:
            if i - start >= min_frames or start == 0 or i == len(silent):
                pause[start:i] = True
            start = None
    return pause


def _pad(labels: list[str], count: int) -> list[str]:
    return (labels + [SILENCE] * count)[:count]


def dtw_match(query: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """For each query frame, the reference frame DTW matches it with.

    Symmetric steps (diagonal counted twice) from first to last frame of both.
    Each row of the cost table is filled at once: a run of horizontal steps is a
    prefix sum, so its minimum over start points is a running minimum.
    """
    cost = _distances(query, reference)
    n, m = cost.shape
    total = np.empty((n, m))
    total[0] = np.cumsum(cost[0])
    for i in range(1, n):
        total[i] = dtw_row(total[i - 1], cost[i])
    return _backtrack(total, cost)


def _backtrack(total: np.ndarray, cost: np.ndarray) -> np.ndarray:
    n, m = total.shape
    i, j = n - 1, m - 1
    matched: list[list[int]] = [[] for _ in range(n)]
    matched[i].append(j)
    while i > 0 or j > 0:
        i, j = step_back(i, j, total[i - 1], total[i], cost[i, j])
        matched[i].append(j)
    return median_matches(matched)


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance between every row of ``a`` and every row of ``b``."""
    sq = (a**2).sum(axis=1)[:, None] + (b**2).sum(axis=1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(sq, 0.0))

"""Viseme timelines: which mouth shape when, for exactly one piece of audio.

A timeline is built in the bot (from TTS phonemes or from the audio), sent to the
overlay as JSON next to the audio it belongs to, and sampled there against the
audio clock. Keys are in samples so they line up with the audio exactly; the
sampler blends them so the mouth moves smoothly instead of snapping.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from avatar.lipsync.timing import TimedPhoneme
from avatar.lipsync.visemes import (
    SILENCE,
    VISEMES,
    VRM_SHAPES,
    Merge,
    Sound,
    classify_symbol,
    vowel_class,
    vrm_weights,
)

#: Width of the blending window. Keys shorter than this never reach full
#: strength, so a quick consonant between two vowels only half-closes the mouth,
#: and every change of shape is spread over this much time (no popping).
DEFAULT_SMOOTHING_S = 0.06

#: Phoneme spans that miss the audio length by at most this much are trimmed or
#: padded with silence at the end; larger misses are scaled proportionally.
MAX_END_FIX_S = 0.05

#: Share of a two-viseme phone (``aj``, ARPAbet ``OW``) given to its first viseme.
DIPHTHONG_NUCLEUS = 0.6

JSON_FORMAT = "vtbot.visemes/1"

_VRM_MATRIX = np.array([[vrm_weights(v)[s] for s in VRM_SHAPES] for v in VISEMES])
_VISEME_INDEX = {v: i for i, v in enumerate(VISEMES)}


@dataclass(frozen=True, slots=True)
class VisemeKey:
    """One viseme held over ``[start, end)`` samples."""

    start: int
    end: int
    viseme: str


@dataclass(frozen=True)
class VisemeTimeline:
    """Keys that cover ``[0, n_samples)`` of one audio chunk without gaps or overlaps."""

    sample_rate: int
    n_samples: int
    keys: tuple[VisemeKey, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", tuple(self.keys))
        if self.sample_rate <= 0 or self.n_samples < 0:
            raise ValueError(f"bad timeline size {self.n_samples} @ {self.sample_rate} Hz")
        position = 0
        for key in self.keys:
            if key.start != position or key.end <= key.start:
                raise ValueError(f"key {key} does not continue the timeline at sample {position}")
            if key.viseme not in _VISEME_INDEX:
                raise ValueError(f"unknown viseme {key.viseme!r}")
            position = key.end
        if position != self.n_samples:
            raise ValueError(f"keys cover {position} samples, audio has {self.n_samples}")

    # ------------------------------------------------------------ constructors

    @classmethod
    def silent(cls, n_samples: int, sample_rate: int) -> VisemeTimeline:
        """A closed mouth for the whole chunk."""
        keys = (VisemeKey(0, n_samples, SILENCE),) if n_samples else ()
        return cls(sample_rate, n_samples, keys)

    @classmethod
    def from_spans(
        cls, spans: Iterable[tuple[int, str]], sample_rate: int, n_samples: int
    ) -> VisemeTimeline:
        """From ``(length_in_samples, viseme)`` runs that add up to ``n_samples``.

        Empty runs are dropped and neighbouring runs of one viseme are joined.
        """
        keys: list[VisemeKey] = []
        position = 0
        for length, viseme in spans:
            if length <= 0:
                continue
            if keys and keys[-1].viseme == viseme:
                keys[-1] = VisemeKey(keys[-1].start, position + length, viseme)
            else:
                keys.append(VisemeKey(position, position + length, viseme))
            position += length
        return cls(sample_rate, n_samples, tuple(keys))

    @classmethod
    def from_phonemes(
        cls, phonemes: Sequence[TimedPhoneme], sample_rate: int, n_samples: int
    ) -> VisemeTimeline:
        """Turn timed phone symbols into a timeline that covers the audio exactly.

        Stress marks give their time to the next sound, length marks and
        diacritics to the previous one, word gaps half to each; gaps between
        phonemes are silence. Spans that end a little early or late are padded
        with silence or trimmed at the end; ones far off (more than
        ``MAX_END_FIX_S``) are scaled to the audio length.
        """
        runs = _resolve_merges(_contiguous(phonemes))
        total = sum(length for length, _ in runs)
        if total != n_samples and total > 0 and abs(total - n_samples) > MAX_END_FIX_S * sample_rate:
            runs = _scale(runs, n_samples)
        elif total < n_samples:
            runs.append((n_samples - total, SILENCE))
        elif total > n_samples:
            runs = _truncate(runs, n_samples)
        return cls.from_spans(runs, sample_rate, n_samples)

    @classmethod
    def concat(cls, timelines: Sequence[VisemeTimeline]) -> VisemeTimeline:
        """Join the timelines of consecutive chunks into one (same sample rate)."""
        if not timelines:
            raise ValueError("nothing to concatenate")
        rates = {t.sample_rate for t in timelines}
        if len(rates) != 1:
            raise ValueError(f"cannot join timelines at different sample rates {sorted(rates)}")
        spans = [(k.end - k.start, k.viseme) for t in timelines for k in t.keys]
        return cls.from_spans(spans, rates.pop(), sum(t.n_samples for t in timelines))

    # ---------------------------------------------------------------- sampling

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sample_rate

    def viseme_at(self, t_seconds: float) -> str:
        """The key's viseme at a time (no blending); silence outside the chunk."""
        sample = t_seconds * self.sample_rate
        if not self.keys or sample < 0 or sample >= self.n_samples:
            return SILENCE
        index = bisect.bisect_right(self._starts, sample) - 1
        return self.keys[index].viseme

    def weights_at(
        self, t_seconds: float, smoothing_s: float = DEFAULT_SMOOTHING_S
    ) -> dict[str, float]:
        """Blended VRM mouth weights (``aa ih ou ee oh``) at a time in the chunk.

        The key sequence is smoothed with a raised-cosine window ``smoothing_s``
        wide: weights change continuously, and short keys blend with their
        neighbours (co-articulation). Before and after the chunk the mouth closes.
        """
        half = 0.5 * smoothing_s * self.sample_rate
        centre = t_seconds * self.sample_rate
        first = max(bisect.bisect_right(self._starts, centre - half) - 1, 0)
        last = bisect.bisect_right(self._starts, centre + half)
        total = np.zeros(len(VRM_SHAPES))
        for key in self.keys[first:last]:
            share = _window_cdf(centre - key.start, half) - _window_cdf(centre - key.end, half)
            total += share * _VRM_MATRIX[_VISEME_INDEX[key.viseme]]
        return {shape: float(w) for shape, w in zip(VRM_SHAPES, total)}

    def weights_track(
        self, times_s: np.ndarray, smoothing_s: float = DEFAULT_SMOOTHING_S
    ) -> np.ndarray:
        """``weights_at`` for many times at once: an array ``(len(times), 5)``."""
        times = np.asarray(times_s, dtype=np.float64) * self.sample_rate
        half = 0.5 * smoothing_s * self.sample_rate
        out = np.zeros((len(times), len(VRM_SHAPES)))
        order = np.argsort(times)
        sorted_times = times[order]
        for key in self.keys:
            lo = np.searchsorted(sorted_times, key.start - half, side="left")
            hi = np.searchsorted(sorted_times, key.end + half, side="right")
            if lo == hi:
                continue
            at = sorted_times[lo:hi]
            share = _window_cdf_array(at - key.start, half) - _window_cdf_array(at - key.end, half)
            out[order[lo:hi]] += share[:, None] * _VRM_MATRIX[_VISEME_INDEX[key.viseme]]
        return out

    def frame_visemes(self, hop_s: float = 0.01) -> list[str]:
        """The viseme of the key under the centre of each whole ``hop_s`` frame."""
        n_frames = int(self.n_samples / (hop_s * self.sample_rate) + 1e-9)
        centres = (np.arange(n_frames) + 0.5) * hop_s * self.sample_rate
        index = np.searchsorted(np.asarray(self._starts), centres, side="right") - 1
        return [self.keys[i].viseme for i in index]

    def frame_labels(self, hop_s: float = 0.01) -> list[str]:
        """The vowel class (closed, aa, ih, ou, ee, oh) of each ``hop_s`` frame."""
        return [vowel_class(v) for v in self.frame_visemes(hop_s)]

    @property
    def _starts(self) -> list[int]:
        cached = self.__dict__.get("_starts_cache")
        if cached is None:
            cached = [k.start for k in self.keys]
            object.__setattr__(self, "_starts_cache", cached)
        return cached

    # -------------------------------------------------------------------- JSON

    def to_dict(self) -> dict[str, object]:
        """Compact JSON form.

        ``format``: ``"vtbot.visemes/1"``; ``sample_rate``: Hz of the audio;
        ``n_samples``: its length; ``keys``: ``[start_sample, viseme]`` pairs in
        order, each key lasting until the next one's start (the last one until
        ``n_samples``). Visemes are Oculus names (``sil PP FF ... oh ou``).
        """
        return {
            "format": JSON_FORMAT,
            "sample_rate": self.sample_rate,
            "n_samples": self.n_samples,
            "keys": [[k.start, k.viseme] for k in self.keys],
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> VisemeTimeline:
        """Read ``to_dict``'s form back, validating it."""
        if data.get("format") != JSON_FORMAT:
            raise ValueError(f"not a {JSON_FORMAT} timeline: {data.get('format')!r}")
        sample_rate = int(data["sample_rate"])  # type: ignore[arg-type]
        n_samples = int(data["n_samples"])  # type: ignore[arg-type]
        pairs = [(int(start), str(viseme)) for start, viseme in data["keys"]]  # type: ignore[union-attr]
        ends = [start for start, _ in pairs[1:]] + [n_samples]
        keys = tuple(VisemeKey(start, end, viseme) for (start, viseme), end in zip(pairs, ends))
        return cls(sample_rate, n_samples, keys)


# ------------------------------------------------------------------- helpers


def _window_cdf(x: float, half: float) -> float:
    """Share of a raised-cosine window of half-width ``half`` that lies left of ``x``."""
    if half <= 0:
        return 1.0 if x >= 0 else 0.0
    if x <= -half:
        return 0.0
    if x >= half:
        return 1.0
    return (x + half) / (2 * half) + math.sin(math.pi * x / half) / (2 * math.pi)


def _window_cdf_array(x: np.ndarray, half: float) -> np.ndarray:
    if half <= 0:
        return (x >= 0).astype(np.float64)
    clipped = np.clip(x, -half, half)
    return (clipped + half) / (2 * half) + np.sin(np.pi * clipped / half) / (2 * np.pi)


def _contiguous(phonemes: Sequence[TimedPhoneme]) -> list[TimedPhoneme]:
    """Sort, clip overlaps and fill gaps (and the lead-in) with silence."""
    out: list[TimedPhoneme] = []
    position = 0
    for ph in sorted(phonemes, key=lambda p: p.start):
        start = max(ph.start, position)
        if start > position:
            out.append(TimedPhoneme("", position, start))
        if ph.end > start:
            out.append(TimedPhoneme(ph.phoneme, start, ph.end))
            position = ph.end
    return out


def _resolve_merges(phonemes: list[TimedPhoneme]) -> list[tuple[int, str]]:
    """Give marks' time to neighbouring sounds; split diphthongs into visemes."""
    sounds: list[list] = []  # [length, visemes]
    pending = 0  # samples waiting for the next sound
    for ph in phonemes:
        length = ph.end - ph.start
        kind = classify_symbol(ph.phoneme)
        if isinstance(kind, Sound):
            sounds.append([length + pending, kind.visemes])
            pending = 0
        elif kind is Merge.PREV and sounds:
            sounds[-1][0] += length
        elif kind is Merge.SPLIT and sounds:
            sounds[-1][0] += length // 2
            pending += length - length // 2
        else:  # NEXT, or nothing before it to take the time
            pending += length
    if pending:
        if sounds:
            sounds[-1][0] += pending
        else:
            sounds.append([pending, (SILENCE,)])
    runs: list[tuple[int, str]] = []
    for length, visemes in sounds:
        if len(visemes) == 1:
            runs.append((length, visemes[0]))
            continue
        first = int(round(length * DIPHTHONG_NUCLEUS))
        rest = visemes[1:]
        shares = [first] + _split_evenly(length - first, len(rest))
        runs.extend(zip(shares, visemes))
    return runs


def _split_evenly(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _scale(runs: list[tuple[int, str]], n_samples: int) -> list[tuple[int, str]]:
    """Stretch runs to ``n_samples``, rounding boundaries (not lengths) to keep the sum."""
    total = sum(length for length, _ in runs)
    out: list[tuple[int, str]] = []
    position, scaled_position = 0, 0
    for length, viseme in runs:
        position += length
        boundary = int(round(position * n_samples / total))
        out.append((boundary - scaled_position, viseme))
        scaled_position = boundary
    return out


def _truncate(runs: list[tuple[int, str]], n_samples: int) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    left = n_samples
    for length, viseme in runs:
        if left <= 0:
            break
        out.append((min(length, left), viseme))
        left -= length
    return out

"""How well one viseme timeline agrees with another, frame by frame at 10 ms.

Scored on what a viewer sees of a VRM mouth: whether it is closed or open, and
which vowel shape leads (``vowel_class``). The "vowel frames" figure looks only
at frames where the reference is a vowel, where the shape matters most.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from avatar.lipsync.timeline import VisemeTimeline
from avatar.lipsync.visemes import CLOSED, VOWEL_CLASSES, vowel_class

_VOWEL_VISEMES = frozenset({"aa", "E", "ih", "oh", "ou"})


@dataclass(frozen=True)
class ClassScore:
    """Per vowel class: precision and recall of the hypothesis, and frame counts."""

    precision: float
    recall: float
    f1: float
    reference_frames: int
    hypothesis_frames: int


@dataclass(frozen=True)
class Agreement:
    frames: int
    open_closed_accuracy: float
    vowel_class_accuracy: float
    vowel_frames: int
    vowel_frames_accuracy: float
    per_class: dict[str, ClassScore]
    confusion: dict[str, dict[str, int]]  # reference class -> hypothesis class -> frames

    def to_dict(self) -> dict[str, object]:
        return {
            "frames": self.frames,
            "open_closed_accuracy": round(self.open_closed_accuracy, 4),
            "vowel_class_accuracy": round(self.vowel_class_accuracy, 4),
            "vowel_frames": self.vowel_frames,
            "vowel_frames_accuracy": round(self.vowel_frames_accuracy, 4),
            "per_class": {
                c: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(s).items()}
                for c, s in self.per_class.items()
            },
            "confusion": self.confusion,
        }


def compare(reference: VisemeTimeline, hypothesis: VisemeTimeline,
            hop_s: float = 0.01) -> Agreement:
    """Frame agreement of two timelines of the same audio (extra frames are ignored)."""
    return compare_frames(reference.frame_visemes(hop_s), hypothesis.frame_visemes(hop_s))


def compare_frames(reference: Sequence[str], hypothesis: Sequence[str]) -> Agreement:
    """Agreement of per-frame viseme sequences; pool clips by concatenating them."""
    n = min(len(reference), len(hypothesis))
    ref_visemes = list(reference[:n])
    ref = [vowel_class(v) for v in ref_visemes]
    hyp = [vowel_class(v) for v in hypothesis[:n]]
    confusion = {r: {h: 0 for h in VOWEL_CLASSES} for r in VOWEL_CLASSES}
    for r, h in zip(ref, hyp):
        confusion[r][h] += 1
    same = sum(confusion[c][c] for c in VOWEL_CLASSES)
    open_closed = sum((r == CLOSED) == (h == CLOSED) for r, h in zip(ref, hyp))
    vowel_idx = [i for i, v in enumerate(ref_visemes) if v in _VOWEL_VISEMES]
    vowel_hits = sum(ref[i] == hyp[i] for i in vowel_idx)
    per_class = {}
    for c in VOWEL_CLASSES:
        ref_n = sum(confusion[c].values())
        hyp_n = sum(confusion[r][c] for r in VOWEL_CLASSES)
        hits = confusion[c][c]
        precision = hits / hyp_n if hyp_n else 0.0
        recall = hits / ref_n if ref_n else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[c] = ClassScore(precision, recall, f1, ref_n, hyp_n)
    return Agreement(
        frames=n,
        open_closed_accuracy=open_closed / n if n else 0.0,
        vowel_class_accuracy=same / n if n else 0.0,
        vowel_frames=len(vowel_idx),
        vowel_frames_accuracy=vowel_hits / len(vowel_idx) if vowel_idx else 0.0,
        per_class=per_class,
        confusion=confusion,
    )

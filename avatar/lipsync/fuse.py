"""One mouth from two opinions: the text alignment's and the audio estimator's.

Each is good at something different. The estimator's loudness gate says well when
the mouth is open (a frame with no sound is a closed mouth, whatever the text
says), but the audio alone cannot tell vowels apart; the alignment knows which
sound comes next, but its timing drifts by a few frames and it may stretch words
over breaths and noise. So the gate decides closed or open, and the alignment
picks the shape inside the open frames. Where the alignment has no sound to offer
(it places a pause over audible frames) the estimator's own shape stands in,
since the text is then no better than a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from avatar.lipsync.visemes import SILENCE

#: Visemes that close the lips while sound goes on (m, b, p).
_LIP_CLOSURES = frozenset({"PP"})
_VOWELS = frozenset({"aa", "E", "ih", "oh", "ou"})


@dataclass(frozen=True)
class FuseSettings:
    """Chosen on Piper tuning speech (scripts/eval_lipsync.py prints the choices)."""

    #: keep the text's lip closures (m, b, p) in frames the gate calls audible:
    #: a hummed m is loud, yet the lips are shut
    lip_closures_from_text: bool = True
    #: an audible frame the alignment calls a pause: ``audio`` shows the estimator's
    #: shape there, ``closed`` trusts the text and shuts the mouth
    audible_pause: str = "audio"
    #: a frame the gate calls silent but the alignment puts inside a vowel: show the
    #: vowel (soft vowel ends and weak onsets fall under the gate). Only for an
    #: aligner that never offers a vowel deep inside a pause (the reference aligner
    #: matches just the first few frames of a silent run)
    vowels_under_gate: bool = False


def fuse(aligned: Sequence[str], estimated: Sequence[str],
         settings: FuseSettings | None = None) -> list[str]:
    """Per-frame visemes: closed where the estimator hears silence, else the
    alignment's viseme (with the exceptions above). Both lists are per 10 ms
    frame of the same audio; the estimator's ``sil`` marks its gate."""
    s = settings or FuseSettings()
    out: list[str] = []
    for text_viseme, audio_viseme in zip(aligned, estimated):
        if audio_viseme == SILENCE:
            keep = s.vowels_under_gate and text_viseme in _VOWELS
            out.append(text_viseme if keep else SILENCE)
        elif text_viseme == SILENCE:
            out.append(SILENCE if s.audible_pause == "closed" else audio_viseme)
        elif text_viseme in _LIP_CLOSURES and not s.lip_closures_from_text:
            out.append(audio_viseme)
        else:
            out.append(text_viseme)
    return out

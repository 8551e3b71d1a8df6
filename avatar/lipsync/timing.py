"""Timed phonemes: the unit every TTS engine hands to lip sync.

Sample offsets (not seconds) are the contract, so that a timeline built from them
lines up with the audio sample for sample.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TimedPhoneme:
    """One phoneme spoken over ``[start, end)`` samples of the audio it belongs to.

    ``phoneme`` is an IPA symbol as the engine names it (espeak-ng IPA for Piper,
    MFA's IPA for aligned corpora); ``""`` marks silence or a pause.
    """

    phoneme: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"bad phoneme span [{self.start}, {self.end}) for {self.phoneme!r}")

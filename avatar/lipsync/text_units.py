"""What the mouth must do for a piece of text, in order: the units a forced
alignment places in time.

The text is turned into espeak-ng IPA (the phonemizer Piper ships, so no Piper
voice is loaded and no audio is made) and each spoken symbol becomes one unit
with its viseme. Between words and at punctuation the speaker may pause or not,
so optional pause units go there; a pause is far likelier at punctuation, which
the unit records.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

from avatar.lipsync.visemes import SILENCE, Merge, Sound, classify_symbol

VOICE = "en-us"

_VOWEL_VISEMES = frozenset({"aa", "E", "ih", "oh", "ou", "RR"})
_VOWEL_SYMBOLS = frozenset("aɑɐʌæɶəeɛɘɞiɪɨᵻyʏoɔɒɤøœɵuʊʉɯɚɝɜ")
_CLAUSE_MARKS = frozenset(".,!?;:…—–")


class UnitKind(Enum):
    VOWEL = "vowel"
    CONSONANT = "consonant"
    PAUSE = "pause"


@dataclass(frozen=True, slots=True)
class Unit:
    """One sound (or optional pause) of the text, with the viseme it shows."""

    viseme: str
    kind: UnitKind
    #: a long vowel (espeak's length mark follows it)
    long: bool = False
    #: a pause at punctuation rather than between two words
    clause: bool = False

    @property
    def optional(self) -> bool:
        return self.kind is UnitKind.PAUSE


class PhonemizerMissing(RuntimeError):
    """No espeak-ng phonemizer here (Piper is not installed in this environment)."""


@lru_cache(maxsize=1)
def _espeak() -> Any:
    try:
        from piper.phonemize_espeak import EspeakPhonemizer
    except ImportError as e:  # e.g. the torch-only environment
        raise PhonemizerMissing("text-aware lip sync needs piper-tts's espeak-ng phonemizer") from e
    return EspeakPhonemizer()


def phonemize(text: str) -> list[str]:
    """espeak-ng IPA for ``text`` as single symbols; sentences are joined with ``.``."""
    symbols: list[str] = []
    for sentence in _espeak().phonemize(VOICE, text):
        if symbols:
            symbols.append(".")
        symbols.extend(sentence)
    return symbols


def text_units(text: str) -> list[Unit]:
    """The units of ``text``, an optional pause first, between words and last."""
    return symbol_units(phonemize(text))


def symbol_units(symbols: list[str]) -> list[Unit]:
    """Units from IPA symbols (one character each, as espeak-ng's come)."""
    units: list[Unit] = [Unit(SILENCE, UnitKind.PAUSE, clause=True)]
    for symbol in symbols:
        if symbol in _CLAUSE_MARKS:
            _pause(units, clause=True)
            continue
        try:
            kind = classify_symbol(symbol)
        except KeyError:
            continue  # a symbol no mouth shape is known for: time goes to its neighbours
        if isinstance(kind, Sound):
            for viseme in kind.visemes:
                if viseme == SILENCE:
                    _pause(units, clause=True)
                else:
                    units.append(Unit(viseme, _kind(symbol, viseme)))
        elif kind is Merge.SPLIT:
            _pause(units, clause=False)
        elif kind is Merge.PREV and symbol in "ːˑ" and units[-1].kind is UnitKind.VOWEL:
            last = units[-1]
            units[-1] = Unit(last.viseme, last.kind, long=True)
    _pause(units, clause=True)
    return units


def _kind(symbol: str, viseme: str) -> UnitKind:
    base = unicodedata.normalize("NFD", symbol)[:1]
    if base in _VOWEL_SYMBOLS or (viseme in _VOWEL_VISEMES and base not in "jwɹrɥʍ"):
        return UnitKind.VOWEL
    return UnitKind.CONSONANT


def _pause(units: list[Unit], clause: bool) -> None:
    """Add an optional pause, or make the one just added a clause pause."""
    if units[-1].kind is UnitKind.PAUSE:
        if clause and not units[-1].clause:
            units[-1] = Unit(SILENCE, UnitKind.PAUSE, clause=True)
        return
    units.append(Unit(SILENCE, UnitKind.PAUSE, clause=clause))

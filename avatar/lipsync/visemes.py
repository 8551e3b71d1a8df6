"""Visemes: what the mouth looks like, and which speech sounds produce each look.

Three vocabularies meet here:

* phone symbols as engines and aligners name them: espeak-ng IPA one character at a
  time (Piper), MFA's IPA phone set (``tʲ``, ``aj``, ``spn``) and CMU ARPAbet
  (``IH0``), which MFA's older English models write;
* the 15 Oculus visemes, the common currency of timelines (fine enough to drive
  rigs that have all 15 shapes);
* the 5 VRM mouth expressions ``aa ih ou ee oh`` that every VRM avatar has, and
  the "vowel class" (closed or the dominant VRM shape) used to score lip sync.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Mapping

#: The Oculus (OVR) viseme set, in its canonical order.
VISEMES: tuple[str, ...] = (
    "sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou",
)
SILENCE = "sil"

#: The VRM 0.x/1.0 preset mouth expressions.
VRM_SHAPES: tuple[str, ...] = ("aa", "ih", "ou", "ee", "oh")

#: Vowel classes for scoring: closed mouth, or which VRM shape dominates.
CLOSED = "closed"
VOWEL_CLASSES: tuple[str, ...] = (CLOSED, *VRM_SHAPES)

# How each viseme looks on a VRM face. Vowels use one shape near full strength;
# consonants are small openings leaning towards the shape their lips resemble
# (SS spread like "ih", CH/RR rounded like "ou", kk with a dropped jaw like "aa").
# Each row sums to at most 1 so blends of rows stay within VRM's [0, 1] range.
_VRM: dict[str, dict[str, float]] = {
    "sil": {},
    "PP": {},
    "FF": {"ih": 0.25, "ee": 0.1},
    "TH": {"ee": 0.3, "aa": 0.1},
    "DD": {"ih": 0.3, "ee": 0.15},
    "kk": {"aa": 0.35, "ee": 0.15},
    "CH": {"ou": 0.4, "ih": 0.2},
    "SS": {"ih": 0.4, "ee": 0.1},
    "nn": {"ee": 0.3, "ih": 0.1},
    "RR": {"ou": 0.45, "oh": 0.1},
    "aa": {"aa": 1.0},
    "E": {"ee": 0.85, "aa": 0.1},
    "ih": {"ih": 0.8},
    "oh": {"oh": 0.9},
    "ou": {"ou": 0.85},
}
VISEME_TO_VRM: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {v: MappingProxyType(dict(w)) for v, w in _VRM.items()}
)


def vrm_weights(viseme: str) -> dict[str, float]:
    """The viseme's weights on all five VRM mouth shapes (closed = all zero)."""
    row = VISEME_TO_VRM[viseme]
    return {shape: row.get(shape, 0.0) for shape in VRM_SHAPES}


def vowel_class(viseme: str) -> str:
    """``closed`` for silence and lip closure, else the dominant VRM shape."""
    row = VISEME_TO_VRM[viseme]
    if not row:
        return CLOSED
    return max(row, key=lambda shape: row[shape])


# ---------------------------------------------------------------- phone symbols


class Merge(Enum):
    """What a symbol that is not a sound of its own does to its neighbours' spans."""

    NEXT = "next"  # stress marks: their time is the onset of the following vowel
    PREV = "prev"  # length marks and diacritics: they lengthen the sound before
    SPLIT = "split"  # word gaps: shared between the sounds either side


@dataclass(frozen=True, slots=True)
class Sound:
    """A symbol that is spoken: one viseme, or a sequence (diphthongs, ``aj``)."""

    visemes: tuple[str, ...]


# Single IPA characters (espeak-ng's English output and MFA's phones share them).
_IPA: dict[str, str] = {
    # bilabials close the lips
    "p": "PP", "b": "PP", "m": "PP", "ɓ": "PP", "ʙ": "PP", "ɸ": "FF", "β": "FF",
    # labiodentals
    "f": "FF", "v": "FF", "ɱ": "FF", "ʋ": "FF", "ⱱ": "FF",
    # dentals
    "θ": "TH", "ð": "TH",
    # alveolar stops, flaps and laterals
    "t": "DD", "d": "DD", "ɾ": "DD", "ɺ": "DD", "ɽ": "DD", "ʈ": "DD", "ɖ": "DD",
    "ɗ": "DD", "l": "DD", "ɫ": "DD", "ɭ": "DD", "ɬ": "DD", "ɮ": "DD", "ʎ": "DD",
    # nasals other than m
    "n": "nn", "ŋ": "nn", "ɲ": "nn", "ɳ": "nn", "ɴ": "nn",
    # velars, uvulars, glottals
    "k": "kk", "ɡ": "kk", "g": "kk", "c": "kk", "ɟ": "kk", "q": "kk", "ɢ": "kk",
    "ɠ": "kk", "ʄ": "kk", "ʛ": "kk", "x": "kk", "ɣ": "kk", "χ": "kk", "ʁ": "kk",
    "ħ": "kk", "ʕ": "kk", "h": "kk", "ɦ": "kk", "ʜ": "kk", "ʢ": "kk", "ʡ": "kk",
    "ʔ": "kk", "ɰ": "kk", "ʟ": "kk", "ɧ": "kk",
    # post-alveolar fricatives (lips pushed forward)
    "ʃ": "CH", "ʒ": "CH", "ɕ": "CH", "ʑ": "CH", "ʂ": "CH", "ʐ": "CH", "ç": "CH", "ʝ": "CH",
    # sibilants
    "s": "SS", "z": "SS",
    # rhotics; espeak's en-us NURSE vowel "ɜː" is r-coloured like MFA's "ɝ"
    "ɹ": "RR", "r": "RR", "ʀ": "RR", "ɻ": "RR", "ɚ": "RR", "ɝ": "RR", "ɜ": "RR",
    # glides
    "j": "ih", "ɥ": "ou", "w": "ou", "ʍ": "ou",
    # clicks: a brief closure
    "ǀ": "DD", "ǁ": "DD", "ǂ": "DD", "ǃ": "DD", "ʘ": "PP",
    # open vowels
    "a": "aa", "ɑ": "aa", "ɐ": "aa", "ʌ": "aa", "æ": "aa", "ɶ": "aa", "ə": "aa",
    # mid front / central vowels
    "e": "E", "ɛ": "E", "ɘ": "E", "ε": "E", "ɞ": "E",
    # close front vowels
    "i": "ih", "ɪ": "ih", "ɨ": "ih", "ᵻ": "ih", "y": "ou", "ʏ": "ou",
    # rounded mid / open-mid back vowels
    "o": "oh", "ɔ": "oh", "ɒ": "oh", "ɤ": "oh", "ø": "oh", "œ": "oh", "ɵ": "oh",
    # close back vowels
    "u": "ou", "ʊ": "ou", "ʉ": "ou", "ɯ": "ou",
}

# Multi-character phones whose letters must not be read one by one.
_CLUSTERS: dict[str, tuple[str, ...]] = {
    "tʃ": ("CH",), "dʒ": ("CH",), "ts": ("SS",), "dz": ("SS",),
    "spn": (SILENCE,), "sil": (SILENCE,), "sp": (SILENCE,),
}

_NEXT = frozenset("ˈˌ↓↑")
# Length, modifier letters, combining diacritics and tone digits belong to the
# sound before.
_PREV = frozenset("ːˑʰʲʷˠˤ˞ʼ0123456789\u0327\u0329\u032a\u032f\u0325\u032c\u0330\u0324\u0303")
_SPLIT = frozenset(" -‿")
# Piper's pad / begin / end symbols, pauses and punctuation.
_SILENT = frozenset("_^$.,!?;:\"'()[]{}…—–«»#")

_ARPABET_TO_IPA: dict[str, str] = {
    "AA": "ɑ", "AE": "æ", "AH": "ʌ", "AO": "ɔ", "AW": "aʊ", "AX": "ə", "AXR": "ɚ",
    "AY": "aɪ", "EH": "ɛ", "ER": "ɝ", "EY": "eɪ", "IH": "ɪ", "IX": "ɨ", "IY": "i",
    "OW": "oʊ", "OY": "ɔɪ", "UH": "ʊ", "UW": "u", "UX": "ʉ",
    "B": "b", "CH": "tʃ", "D": "d", "DH": "ð", "DX": "ɾ", "EL": "l", "EM": "m",
    "EN": "n", "F": "f", "G": "ɡ", "HH": "h", "H": "h", "JH": "dʒ", "K": "k", "L": "l",
    "M": "m", "N": "n", "NG": "ŋ", "NX": "ɾ", "P": "p", "Q": "ʔ", "R": "ɹ", "S": "s",
    "SH": "ʃ", "T": "t", "TH": "θ", "V": "v", "W": "w", "WH": "ʍ", "Y": "j", "Z": "z",
    "ZH": "ʒ",
}
_ARPABET_RE = re.compile(r"^([A-Z]{1,3})[012]?$")


def classify_symbol(symbol: str) -> Sound | Merge:
    """Classify one phone symbol from Piper, MFA or ARPAbet.

    Empty strings, pauses and Piper's pad/BOS/EOS are silence; stress, length and
    word-gap marks are not sounds and say how to share their time instead.
    Unknown symbols raise ``KeyError`` so that a new phone set is noticed.
    """
    if symbol == "" or symbol.strip() == "" and symbol != " ":
        return Sound((SILENCE,))
    match = _ARPABET_RE.match(symbol)  # IPA has no capitals, ARPAbet only capitals
    if match and match.group(1) in _ARPABET_TO_IPA:
        return _classify_multi(_ARPABET_TO_IPA[match.group(1)])
    if len(symbol) == 1:
        return _classify_char(symbol)
    if symbol.lower() in _CLUSTERS:
        return Sound(_CLUSTERS[symbol.lower()])
    return _classify_multi(symbol)


def _classify_char(char: str) -> Sound | Merge:
    if char in _IPA:
        return Sound((_IPA[char],))
    if char in _NEXT:
        return Merge.NEXT
    if char in _PREV or unicodedata.combining(char):
        return Merge.PREV
    if char in _SPLIT:
        return Merge.SPLIT
    if char in _SILENT:
        return Sound((SILENCE,))
    raise KeyError(f"no viseme for phone symbol {char!r}")


def _classify_multi(symbol: str) -> Sound | Merge:
    """A multi-character phone: drop its modifiers, keep each sound's viseme once."""
    base = "".join(c for c in unicodedata.normalize("NFC", symbol) if c not in _PREV)
    base = "".join(c for c in base if not unicodedata.combining(c))
    if base in _CLUSTERS:
        return Sound(_CLUSTERS[base])
    visemes: list[str] = []
    for char in base:
        kind = _classify_char(char)
        if isinstance(kind, Sound):
            if not visemes or visemes[-1] != kind.visemes[0]:
                visemes.extend(kind.visemes)
    if not visemes:
        raise KeyError(f"no viseme for phone symbol {symbol!r}")
    return Sound(tuple(visemes))


def viseme_for(symbol: str) -> str | None:
    """The main viseme of a phone symbol, or ``None`` for marks that only merge."""
    kind = classify_symbol(symbol)
    return kind.visemes[0] if isinstance(kind, Sound) else None

"""Unicode text → the two forms moderation reads: what to show, and what to match.

Chat is adversarial: slurs arrive in fullwidth or mathematical letters, Cyrillic
look-alikes, with zero-width joiners or bidi overrides between the letters, or buried
under stacks of combining marks (zalgo). The *display* form is what the viewer meant,
fit to become a prompt (NFKC, no control or format characters, at most two combining
marks per letter). The *folded* form is for matching only: no marks at all, case
folded, and every letter that looks Latin written as that Latin letter.

Everything here is built once into translation tables and regexes, so a message costs
a few C-level passes; pure-ASCII messages (most chat) skip the Unicode work entirely.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

# bidi embedding/override/isolate controls and marks: the "RTL override" trick
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
# characters that render as nothing but are not category Cf
INVISIBLE_LETTERS = "\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5"
MAX_MARKS_PER_LETTER = 2

_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")


@dataclass(slots=True)
class Normalized:
    """One message after normalisation, with what was stripped (spam signals)."""

    text: str  # display form: what a prompt or caption may contain
    folded: str  # matching form: lower-case, no marks, look-alikes as Latin letters
    original_length: int
    removed_controls: int = 0  # NUL and other C0/C1 controls
    removed_format: int = 0  # zero-width, bidi, tag and other invisible characters
    bidi: bool = False  # contained bidi overrides or isolates
    marks: int = 0  # combining marks in the input
    mark_flood: bool = False  # some letter carried more than MAX_MARKS_PER_LETTER marks


# where zalgo generators take their marks from; marks elsewhere split a word into
# letters, which the matcher's spaced-letter rule joins again
_COMMON_MARKS = "\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_MARK = re.compile(f"[{_COMMON_MARKS}]")
_MARK_RUN = re.compile(f"([{_COMMON_MARKS}]{{{MAX_MARKS_PER_LETTER}}})[{_COMMON_MARKS}]+")


@dataclass(frozen=True)
class _Tables:
    invisible: re.Pattern[str]  # controls, format characters and blank letters
    controls: re.Pattern[str]  # C0 and C1 controls (they become spaces)
    confusables: dict[int, str]  # look-alike → Latin letter or digit


@lru_cache(maxsize=1)
def tables() -> _Tables:
    """Built once per process (about half a second) and shared read-only."""
    ranges: list[tuple[int, int]] = []
    start = prev = -2
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cat == "Cf" or (cat == "Cc" and ch not in "\t\n\r"):
            if cp != prev + 1:
                if start >= 0:
                    ranges.append((start, prev))
                start = cp
            prev = cp
    ranges.append((start, prev))
    extra = INVISIBLE_LETTERS + "\ufe00-\ufe0f\U000e0100-\U000e01ef"
    cls = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
                  for a, b in ranges)
    return _Tables(
        invisible=re.compile(f"[{cls}{extra}]"),
        controls=_CONTROLS,
        confusables=_confusables_to_latin(),
    )


def _confusables_to_latin() -> dict[int, str]:
    """Unicode's confusables (via the confusable-homoglyphs package's data) folded onto
    a-z and 0-9: every character that can pass for a Latin letter maps to it."""
    data = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    table: dict[int, str] = {}
    # lower-case letters first, so a character that passes for both 'l' and '1' reads as 'l'
    targets = [*"abcdefghijklmnopqrstuvwxyz", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ", *"0123456789"]
    for target in targets:
        for entry in data.get(target, ()):
            c = entry["c"]
            if len(c) != 1 or c.isascii() or ord(c) in table:
                continue
            table[ord(c)] = target.lower()
    return table


def normalize(text: str) -> Normalized:
    """The display and matching forms of one message."""
    n = len(text)
    if text.isascii():
        removed = 0
        if _CONTROLS.search(text):
            removed = len(_CONTROLS.findall(text))
            text = _CONTROLS.sub(" ", text)
        display = " ".join(text.split())
        return Normalized(display, display.lower(), n, removed_controls=removed)

    t = tables()
    bidi = _BIDI.search(text) is not None
    removed_controls = removed_format = 0
    if t.invisible.search(text):
        removed_controls = len(_CONTROLS.findall(text))
        text = _CONTROLS.sub(" ", text)
        stripped = t.invisible.sub("", text)
        removed_format = len(text) - len(stripped)
        text = stripped
    nfkc = unicodedata.normalize("NFKC", text)
    decomposed = unicodedata.normalize("NFD", nfkc)
    marks = 0
    mark_flood = False
    display, bare = nfkc, decomposed
    if _MARK.search(decomposed):
        bare = _MARK.sub("", decomposed)
        marks = len(decomposed) - len(bare)
        limited = _MARK_RUN.sub(r"\1", decomposed)
        mark_flood = len(limited) != len(decomposed)
        display = unicodedata.normalize("NFC", limited) if mark_flood else nfkc
    display = " ".join(display.split())
    folded = " ".join(bare.casefold().translate(t.confusables).split())
    return Normalized(display, folded, n, removed_controls=removed_controls,
                      removed_format=removed_format, bidi=bidi, marks=marks, mark_flood=mark_flood)

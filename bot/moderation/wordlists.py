"""The shipped word lists, the streamer's own words, and the words that are not bad.

Shipped (see data/ATTRIBUTION.md): LDNOOBW in eleven languages (CC BY 4.0) and
surge-ai's English profanity list with severities and categories (MIT). LDNOOBW gives
no severity; its entries count as *strong* unless surge-ai rates the same word.
``data/everyday.txt`` (the project's own) names list entries that are ordinary words in
chat ("sucks", "xx", "escort") and are off by default.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path

LDNOOBW_LANGUAGES = ("en", "de", "es", "fr", "it", "ja", "nl", "pt", "ru", "zh")


class Severity(IntEnum):
    MILD = 1
    STRONG = 2
    SEVERE = 3

    @classmethod
    def parse(cls, value: str | int) -> Severity:
        if isinstance(value, int):
            return cls(value)
        return cls[value.strip().upper()]


@dataclass(frozen=True, slots=True)
class Term:
    """One listed word or phrase, as written in its list."""

    text: str
    severity: Severity
    category: str
    source: str  # "surge-ai", "ldnoobw:de", "streamer", ...


def _data(name: str) -> str:
    return resources.files("bot.moderation").joinpath("data").joinpath(name).read_text("utf-8")


def _lines(text: str) -> list[str]:
    """Non-empty lines that are not ``#`` comments."""
    return [s for s in (line.strip() for line in text.splitlines()) if s and not s.startswith("#")]


@lru_cache(maxsize=None)
def surge_terms() -> tuple[Term, ...]:
    rows = csv.DictReader(io.StringIO(_data("surge-ai/profanity_en.csv")))
    terms = []
    for row in rows:
        text = row["text"].strip()
        if not text:
            continue
        severity = Severity(max(1, min(3, round(float(row["severity_rating"])))))
        terms.append(Term(text, severity, row["category_1"] or "profanity", "surge-ai"))
    return tuple(terms)


@lru_cache(maxsize=None)
def ldnoobw_terms(language: str) -> tuple[Term, ...]:
    if language not in LDNOOBW_LANGUAGES:
        raise ValueError(f"no shipped LDNOOBW list for language {language!r} "
                         f"(have: {', '.join(LDNOOBW_LANGUAGES)})")
    rated = {t.text.casefold(): t for t in surge_terms()} if language == "en" else {}
    out = []
    for word in _data(f"ldnoobw/{language}").splitlines():
        word = word.strip()
        if not word:
            continue
        known = rated.get(word.casefold())
        out.append(Term(word, known.severity if known else Severity.STRONG,
                        known.category if known else "profanity", f"ldnoobw:{language}"))
    return tuple(out)


@lru_cache(maxsize=None)
def everyday_words() -> frozenset[str]:
    """List entries that are ordinary chat words; off unless the streamer adds them."""
    return frozenset(w.casefold() for w in _lines(_data("everyday.txt")))


@lru_cache(maxsize=None)
def english_dictionary() -> frozenset[str]:
    """Real English words (Webster's 2nd and GCIDE, from the english-words package):
    fuzzy rules never fire on them, which keeps "sniggered" and "spicy" speakable."""
    from english_words import get_english_words_set

    words = get_english_words_set(["web2", "gcide"], lower=True, alpha=True)
    return frozenset(words | {w.casefold() for w in _lines(_data("also_words.txt"))})


@lru_cache(maxsize=None)
def harm_terms() -> tuple[Term, ...]:
    """Self-harm encouragement, threats and doxxing phrases (the project's own list)."""
    return tuple(Term(w, Severity.SEVERE, "harm", "vtbot:harm") for w in _lines(_data("harm.txt")))


def shipped_terms(languages: Iterable[str] = ("en",)) -> list[Term]:
    terms: list[Term] = [*surge_terms(), *harm_terms()]
    for lang in languages:
        terms.extend(ldnoobw_terms(lang))
    return terms


def read_word_file(path: Path, *, source: str, severity: Severity = Severity.SEVERE) -> list[Term]:
    """The streamer's own words: one per line, ``#`` comments; a missing file is empty."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return []
    return [Term(w, severity, "streamer", source) for w in _lines(text)]

"""Finds listed terms in folded text, the way people hide them, without the
Scunthorpe problem.

Matching is by whole word, never by raw substring, so "Scunthorpe", "cocktail" and
"class" pass. On top of exact words, fuzzy rules catch the usual disguises:

* leetspeak and symbols inside a word: ``sh!t``, ``b1tch``, ``@ss`` (``1``/``|`` read
  both as i and l);
* inflections of a listed word: ``+s``, ``+ed``, ``+er``, ``+ing``, ...;
* stretched letters: ``fuuuuck``, ``niiigger``; and listed words with their double
  letters made single (``fagot``);
* letters spaced or dotted apart: ``f u c k``, ``n.i.g.g.e.r``;
* masks: ``f*ck``, ``n***er`` (a masked word matches a listed word of the same length);
* compounds around the worst slurs: ``xXslurXx``, ``slurlover``, including across
  spaces (``sl ur``);
* listed phrases: ``2 girls 1 cup``.

Fuzzy rules never fire on a real dictionary word or its inflection ("titer",
"sniggered", "spicy", "japes"), which is how whole-word matching and the fuzzy rules
live together. Every lookup is a set or dict probe or one precompiled regex per message.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat

from .wordlists import Severity, Term

# symbols that stand for letters inside a word
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                       "9": "g", "6": "g", "@": "a", "$": "s", "!": "i", "|": "i", "+": "t",
                       "(": "c", "<": "c", "€": "e", "#": "h"})
_LEET_ALT = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                           "9": "g", "6": "g", "@": "a", "$": "s", "!": "i", "|": "l", "+": "t",
                           "(": "c", "<": "c", "€": "e", "#": "h"})
_EDGE = "!|+#(<"  # symbols that are punctuation at a word's edges (and "*" around one)
_TOKEN = re.compile(r"[\w@$!|+*#(<€]+")  # after "_" became a space
# the same split for ASCII text, as one C-level byte translation
_ASCII_KEEP = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@$!|+*#(<")
_ASCII_SPLIT = bytes(c if chr(c) in _ASCII_KEEP else 32 for c in range(256))
_LEETISH = re.compile(r"[0-9@$!|+*#(<€]")  # some word needs canon(): digits or symbols
_RUN3 = re.compile(r"(.)\1\1+")
_DOUBLE = re.compile(r"(.)\1+")
INFLECTIONS = ("s", "es", "ed", "d", "er", "ers", "ing", "in", "y", "ie", "ies", "z", "ez", "a",
               "az", "as")
AFFIX_CATEGORIES = ("racial / ethnic slurs", "sexual orientation / gender")


@dataclass(frozen=True, slots=True)
class Hit:
    """What matched, where, and by which rule (for the audit log)."""

    term: Term
    found: str  # the word or words as they read after folding
    rule: str  # word | phrase | inflection | stretched | squeezed | spaced | masked | compound


def canon(token: str) -> list[str]:
    """A token's readings as a plain word (usually one; two when ``1``/``|`` is ambiguous)."""
    if token.isalpha() or token.isdigit():
        return [token]
    core = token.strip(_EDGE)
    if core.endswith("*"):  # "*hugs*" is emphasis, "f***" and "*uck" are masks
        core = core.strip("*") if core.startswith("*") else core
    if not core or not core.strip("*"):
        return []
    if core.isalpha():
        return [core]
    first = core.translate(_LEET)
    out = [first]
    if "1" in core or "|" in core:
        alt = core.translate(_LEET_ALT)
        if alt != first:
            out.append(alt)
    if core[0] in "@$" and len(core) > 2:  # "@name" is a mention, "$hit" is not
        out.append(core[1:].translate(_LEET))
    return out


def tokens(folded: str) -> list[str]:
    """The words of folded text: runs of letters, digits and leet symbols."""
    if folded.isascii():
        return folded.encode("ascii").translate(_ASCII_SPLIT).decode("ascii").split()
    return _TOKEN.findall(folded.replace("_", " "))


def _trie_regex(words: Iterable[str]) -> str:
    """An alternation shaped like a trie: Python's regex engine then reads each letter once."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            body = "(?:" + body + ")?"
        return body

    return emit(trie)


_VOWELS = "aeiouy"
_CVC = re.compile(r"[^aeiouy][aeiou][^aeiouywx]$")
_STEMS = (("ies", "y"), ("ied", "y"), ("ing", ""), ("ers", ""), ("er", ""), ("ed", ""),
          ("es", ""), ("s", ""), ("d", ""), ("y", ""), ("ly", ""))


@lru_cache(maxsize=4)
def _real_words(dictionary: frozenset[str], long_slurs: tuple[str, ...]) -> frozenset[str]:
    """The dictionary without the slur compounds old dictionaries list ("<slur>ish")."""
    if not long_slurs:
        return dictionary
    compound = re.compile(f"^{_trie_regex(long_slurs)}")
    return frozenset(w for w in dictionary if not compound.match(w))


class TermMatcher:
    """Built once from the effective term list; :meth:`find` is called per message.

    ``dictionary`` holds real words (English by default): a fuzzy rule never fires on
    one of them or on its inflection, unless the word is itself listed or begins or
    ends with one of the long slurs ("sniggered" passes, a slur-compound does not).
    """

    def __init__(self, terms: Iterable[Term], dictionary: Iterable[str] = ()):
        from .normalize import normalize

        self.words: dict[str, Term] = {}  # folded word → term (exact)
        self.derived: dict[str, tuple[Term, str]] = {}  # inflected or squeezed → term, rule
        self.phrases: dict[str, list[tuple[tuple[str, ...], Term]]] = defaultdict(list)
        self.by_shape: dict[tuple[int, str], list[str]] = defaultdict(list)  # for masks
        self.by_length: dict[int, list[str]] = defaultdict(list)
        self.affix: dict[str, Term] = {}
        leet_forms: dict[str, Term] = {}
        for term in terms:
            folded = normalize(term.text).folded
            readings = [canon(t) for t in tokens(folded)]
            if not readings or any(not r for r in readings):
                continue
            if len(readings) > 1:
                key = tuple(r[0] for r in readings)
                self.phrases[key[0]].append((key, term))
                if all(len(k) == 1 for k in key):  # "s & m" style: also as one word
                    self._add_word("".join(key), term)
                continue
            written_plain = all(t.isalpha() for t in tokens(folded))
            for word in readings[0]:
                if written_plain or not word.isalpha():
                    self._add_word(word, term)
                else:  # "n1g3r" reads as a real place name: a fuzzy form, not a word
                    leet_forms[word] = term
                if term.severity >= Severity.SEVERE and term.category in AFFIX_CATEGORIES \
                        and word.isalpha() and len(word) >= 4:
                    self.affix[word] = term
        for word, term in list(self.words.items()):
            if not word.isalpha() or len(word) < 3:
                continue
            forms = [word + suffix for suffix in INFLECTIONS]
            if word.endswith("e"):  # whore → whoring
                forms += [word[:-1] + suffix for suffix in ("ing", "in", "y", "ish")]
            elif word[-1] not in "aeiouywx" and word[-2] in "aeiou":  # twat → twatting
                forms += [word + word[-1] + suffix for suffix in ("ing", "in", "ed", "er", "ers", "y")]
            for form in forms:
                if form not in self.words:
                    self.derived.setdefault(form, (term, "inflection"))
            squeezed = _DOUBLE.sub(r"\1", word)
            if len(squeezed) >= 4 and squeezed != word and squeezed not in self.words:
                self.derived.setdefault(squeezed, (term, "squeezed"))
            self.by_shape[(len(word), word[0])].append(word)
            self.by_length[len(word)].append(word)
        for word, term in leet_forms.items():
            if word not in self.words:
                self.derived.setdefault(word, (term, "leet"))
        self.max_word = max((len(w) for w in self.words), default=0)
        # compounds: a short slur starts or ends a word, a long one sits anywhere
        short = [w for w in self.affix if len(w) < 6]
        long_ = [w for w in self.affix if len(w) >= 6]
        parts = []
        if short:
            parts += [rf"^{_trie_regex(short)}[a-z]", rf"[a-z]{_trie_regex(short)}$"]
        if long_:
            parts.append(_trie_regex(long_))
        self._compound = re.compile("|".join(parts)) if parts else None
        # a cheap first look: does any slur appear anywhere in the squashed text?
        self._compound_any = re.compile(_trie_regex(self.affix)) if self.affix else None
        self.dictionary = _real_words(frozenset(dictionary), tuple(sorted(long_))) - self.words.keys()

    def _add_word(self, word: str, term: Term) -> None:
        known = self.words.get(word)
        if known is None or term.severity > known.severity:
            self.words[word] = term

    def is_real_word(self, word: str) -> bool:
        """In the dictionary, or a regular inflection of a dictionary word.

        Spelling rules keep "raped" from reading as rap+ed (that would be "rapped")
        while "spices" still reads as spice+s."""
        if word in self.dictionary:
            return True
        if word in self.words:
            return False
        for suffix, repl in _STEMS:
            if not word.endswith(suffix) or len(word) - len(suffix) < 3:
                continue
            stem = word[: len(word) - len(suffix)]
            if repl:
                stem += repl
            elif suffix[0] in _VOWELS and _CVC.search(stem) and len(stem) <= 4:
                continue  # a short vowel before -ed/-er/-ing doubles its consonant
            if stem in self.dictionary:
                return True
            if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in _VOWELS \
                    and stem[:-1] in self.dictionary:  # "rapped" → rap
                return True
        return False

    # -- matching ---------------------------------------------------------------------

    def find(self, folded: str) -> Hit | None:
        """The first listed term found in the folded text, or None.

        Set operations (C speed) rule out most of a clean message at once; only words
        that are listed, derived or unknown to the dictionary get a closer look."""
        toks = tokens(folded)
        if not toks:
            return None
        if _LEETISH.search(folded) is None:
            firsts = toks
            seen = set(toks)
        else:
            firsts = []
            seen = set()
            for tok in toks:
                readings = canon(tok)
                if readings:
                    firsts.append(readings[0])
                    seen.update(readings)
        words, derived, dictionary = self.words, self.derived, self.dictionary
        if not words.keys().isdisjoint(seen):
            for word in (*firsts, *seen):
                if word in words:
                    return Hit(words[word], word, "word")
        unknown = seen.difference(dictionary)
        doubtful = unknown.union(derived.keys() & seen) if not derived.keys().isdisjoint(seen) else unknown
        for word in (doubtful if len(doubtful) < 2 else sorted(doubtful)):
            hit = self._fuzzy(word)
            if hit is not None:
                return hit
        phrases = self.phrases
        if not phrases.keys().isdisjoint(seen):
            for first in phrases.keys() & seen:
                i = -1
                while True:
                    try:
                        i = firsts.index(first, i + 1)
                    except ValueError:
                        break
                    for key, term in phrases[first]:
                        if tuple(firsts[i:i + len(key)]) == key:
                            return Hit(term, " ".join(key), "phrase")
        # three one-letter words in a row: letters typed apart
        if b"\x01\x01\x01" in bytes(map(min, map(len, firsts), repeat(2))):
            hit = self._spaced(firsts)
            if hit is not None:
                return hit
        if unknown and self._compound is not None and self._compound_any.search("".join(firsts)):
            return self._compounds(firsts)
        return None

    def _spaced(self, firsts: list[str]) -> Hit | None:
        run: list[str] = []
        for first in [*firsts, ""]:
            if len(first) == 1:
                run.append(first)
                continue
            if len(run) >= 3:
                hit = self._joined(run)
                if hit is not None:
                    return hit
            run = []
        return None

    def _compounds(self, firsts: list[str]) -> Hit | None:
        """Slur compounds inside one word, or split over adjacent words that are not
        real words ("sl ur"): real words never join, so "bean error" stays apart."""
        runs: list[str] = []
        run: list[str] = []
        for first in firsts:
            if first in self.dictionary or not first.isalpha():
                if run:
                    runs.append("".join(run))
                    run = []
            else:
                run.append(first)
        if run:
            runs.append("".join(run))
        for joined in runs:
            m = self._compound.search(joined)
            if m is not None and not self.is_real_word(joined):
                return self._compound_hit(m.group(), joined)
        return None

    def _fuzzy(self, word: str) -> Hit | None:
        """Inflections, stretched letters and masks — never on a real word."""
        hit = None
        known = self.derived.get(word)
        if known is not None:
            hit = Hit(known[0], word, known[1])
        elif len(word) >= 4 and _RUN3.search(word):
            for form in (_RUN3.sub(r"\1", word), _RUN3.sub(r"\1\1", word)):
                term = self.words.get(form)
                if term is None and form in self.derived:
                    term = self.derived[form][0]
                if term is not None:
                    hit = Hit(term, word, "stretched")
                    break
        if hit is None and "*" in word and word.strip("*"):
            hit = self._masked(word)
        if hit is not None and self.is_real_word(word):
            return None
        return hit

    def _masked(self, word: str) -> Hit | None:
        first = word[0]
        if first == "*":
            candidates = self.by_length.get(len(word), ())
        else:
            candidates = self.by_shape.get((len(word), first), ())
        for candidate in candidates:
            if all(a == b or a == "*" for a, b in zip(word, candidate)):
                return Hit(self.words[candidate], word, "masked")
        return None

    def _joined(self, letters: list[str]) -> Hit | None:
        """Letters typed apart ("f u c k", "n.i.g.g.e.r"): every stretch of 3+ of them."""
        joined = "".join(letters)
        n = len(joined)
        for start in range(n - 2):
            for end in range(min(n, start + self.max_word + 4), start + 2, -1):
                word = joined[start:end]
                term = self.words.get(word)
                hit = Hit(term, word, "word") if term is not None else self._fuzzy(word)
                if hit is not None:
                    return Hit(hit.term, " ".join(word), "spaced")
        return None

    def _compound_hit(self, found: str, run: str) -> Hit:
        for word, term in self.affix.items():
            if word in found:
                return Hit(term, run, "compound")
        raise AssertionError(f"compound regex matched {found!r} but no slur is in it")

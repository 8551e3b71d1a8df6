"""The two gates: chat → prompt (input) and LLM piece → voice (output).

Both read the same normaliser and word lists. The input gate runs on every chat
message, so it is built from cheap checks in order of cost and stops at the first
reason to block; the classifier (slow) runs only on what is about to become a prompt
(:meth:`InputGate.deep_check`). Every verdict says why.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.chat.message import ChatMessage
from bot.config.models import ModerationConfig

from .classifier import ProfanityClassifier
from .matcher import Hit, TermMatcher
from .normalize import Normalized, normalize
from .rate import Cooldowns, TokenBucket
from .rules import (PatternRule, combine, compile_patterns, domain_allowed, find_domains,
                    first_match, first_triggered, injection_rules)
from .spam import SpamGuard, SpamSettings
from .wordlists import Severity, Term, english_dictionary, everyday_words, read_word_file, shipped_terms

log = logging.getLogger(__name__)

_CACHE_SIZE = 50_000  # distinct texts remembered by the input gate


@dataclass(slots=True)
class Verdict:
    allowed: bool
    reason: str  # "ok", or what blocked it: blocklist, pattern, injection, link, spam.*, ...
    detail: str  # for people: which word, rule or limit
    text: str  # the normalised message (what a prompt may contain)
    severity: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"allowed": self.allowed, "reason": self.reason, "detail": self.detail,
                             "text": self.text}
        if self.severity:
            d["severity"] = self.severity
        return d


def _ok(norm: Normalized) -> Verdict:
    return Verdict(True, "ok", "", norm.text)


def _hit_verdict(hit: Hit, norm: Normalized) -> Verdict:
    t = hit.term
    how = "" if hit.rule == "word" else f", {hit.rule}"
    return Verdict(False, "blocklist", f"{hit.found!r} is listed ({t.source}: {t.text!r}, "
                   f"{t.severity.name.lower()}{how})", norm.text, t.severity.name.lower())


class WordLists:
    """The effective term list and one matcher per severity threshold in use."""

    def __init__(self, cfg: ModerationConfig, dictionary: Iterable[str] | None = None):
        self.cfg = cfg
        self._dictionary = frozenset(dictionary) if dictionary is not None else english_dictionary()
        allow = {normalize(w).folded for w in cfg.allow_words}
        everyday = everyday_words() - {normalize(w).folded for w in cfg.words}
        self.terms: list[Term] = [t for t in shipped_terms(cfg.languages)
                                  if t.text.casefold() not in everyday
                                  and normalize(t.text).folded not in allow]
        self.terms += [Term(w, Severity.SEVERE, "streamer", "config") for w in cfg.words]
        if cfg.words_file is not None:
            self.terms += read_word_file(Path(cfg.words_file).expanduser(), source="words_file")
        self._matchers: dict[Severity, TermMatcher] = {}
        self.version = 0  # bumped when a word is added, so cached verdicts are dropped

    def matcher(self, severity: str | Severity) -> TermMatcher:
        level = severity if isinstance(severity, Severity) else Severity.parse(severity)
        m = self._matchers.get(level)
        if m is None:
            m = self._matchers[level] = TermMatcher(
                (t for t in self.terms if t.severity >= level), self._dictionary)
        return m

    def add_word(self, word: str) -> Term:
        """Block one more word now in every matcher (and in words_file, if set)."""
        term = Term(word.strip(), Severity.SEVERE, "streamer", "blockword")
        if not term.text:
            raise ValueError("an empty word cannot be blocked")
        self.terms.append(term)
        self.version += 1
        for level in list(self._matchers):
            self._matchers[level] = TermMatcher(
                (t for t in self.terms if t.severity >= level), self._dictionary)
        if self.cfg.words_file is not None:
            path = Path(self.cfg.words_file).expanduser()
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(term.text + "\n")
        return term


class _Patterns:
    def __init__(self, cfg: ModerationConfig):
        self.rules: list[PatternRule] = compile_patterns(cfg.patterns, key="moderation.patterns")
        self.combined = combine(self.rules)
        self.injection = injection_rules() if cfg.injection else []


def _link_verdict(cfg: ModerationConfig, norm: Normalized) -> Verdict | None:
    if cfg.links.allow == "all":
        return None
    for domain in find_domains(norm.folded):
        if cfg.links.allow == "none" or not domain_allowed(domain, cfg.links.allowed_domains):
            return Verdict(False, "link", f"link to {domain} (allowed: "
                           f"{', '.join(cfg.links.allowed_domains) if cfg.links.allow == 'listed' else 'none'})",
                           norm.text)
    return None


class InputGate:
    """Chat message → may it become a prompt? Stateful: spam history, cooldowns, rate."""

    def __init__(self, cfg: ModerationConfig, lists: WordLists, patterns: _Patterns,
                 classifier: ProfanityClassifier | None, clock: Callable[[], float] = time.monotonic):
        self.cfg = cfg
        self.lists = lists
        self.patterns = patterns
        self.classifier = classifier
        self.clock = clock
        self.ignored = frozenset(cfg.ignore_users)
        self.exempt = frozenset(cfg.exempt_badges)
        s = cfg.spam
        self.spam = SpamGuard(SpamSettings(
            repeat_window_s=s.repeat_window_s, max_repeats=s.max_repeats,
            caps_min_letters=s.caps_min_letters, caps_ratio=s.caps_ratio, char_flood=s.char_flood,
            emote_flood=s.emote_flood, copypasta_min_chars=s.copypasta_min_chars,
            copypasta_users=s.copypasta_users, copypasta_window_s=s.copypasta_window_s))
        self.cooldowns = Cooldowns(cfg.user_cooldown_s)
        self.rate = TokenBucket(cfg.global_rate, cfg.global_burst)
        self.level = Severity.parse(cfg.min_severity)
        self._rate_detail = f"chat-wide limit of {cfg.global_rate:g} messages/s reached"
        self._cache: OrderedDict[str, tuple[Normalized, Verdict | None, tuple[str, str] | None]] = OrderedDict()
        self._cache_version = lists.version

    def check_text(self, text: str) -> Verdict:
        """The checks that need no viewer or chat history: length, lists, patterns,
        injection, links, floods and shouting (``vtbot moderate`` on plain lines)."""
        if len(text) > self.cfg.max_length:
            return Verdict(False, "too_long", f"{len(text)} characters (limit {self.cfg.max_length})",
                           normalize(text[: self.cfg.max_length]).text)
        norm, blocked, text_spam = self._analyse(text)
        if blocked is None and text_spam is not None:
            return Verdict(False, text_spam[0], text_spam[1], norm.text)
        return blocked or _ok(norm)

    def _analyse(self, text: str) -> tuple[Normalized, Verdict | None, tuple[str, str] | None]:
        """Normalised text, the content verdict and the text's own spam signals (for a
        message without emotes), remembered per text: chat repeats itself a lot ("gg",
        "LUL", copy-pasta) and none of them depends on anything else."""
        if self._cache_version != self.lists.version:
            self._cache.clear()
            self._cache_version = self.lists.version
        entry = self._cache.get(text)
        if entry is None:
            norm = normalize(text)
            blocked = self._content(norm)
            entry = (norm, blocked, None if blocked is not None else self.spam.text_check(norm.text))
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.popitem(last=False)  # the oldest; one at a time, no pauses
            self._cache[text] = entry
        return entry

    def _content(self, norm: Normalized) -> Verdict | None:
        if not norm.folded:
            return Verdict(False, "empty", "nothing readable left after normalisation", norm.text)
        if norm.mark_flood:
            return Verdict(False, "spam.zalgo", f"{norm.marks} combining marks stacked on letters", norm.text)
        if norm.bidi:
            return Verdict(False, "unicode.bidi", "bidi override characters (text direction tricks)",
                           norm.text)
        hit = self.lists.matcher(self.level).find(norm.folded)
        if hit is not None:
            return _hit_verdict(hit, norm)
        p = self.patterns
        name = first_match(p.rules, p.combined, norm.folded)
        if name is not None:
            return Verdict(False, "pattern", f"matches the rule {name!r}", norm.text)
        name = first_triggered(p.injection, norm.folded)
        if name is not None:
            return Verdict(False, "injection", f"prompt injection ({name})", norm.text)
        return _link_verdict(self.cfg, norm)

    def check(self, msg: ChatMessage, now: float | None = None) -> Verdict:
        """Every check, in order of cost; records the message for spam and rate state."""
        now = self.clock() if now is None else now
        if msg.user_login in self.ignored:
            return Verdict(False, "ignored_user", f"{msg.user_login} is on the ignore list", msg.text[:200])
        if len(msg.text) > self.cfg.max_length:
            return Verdict(False, "too_long", f"{len(msg.text)} characters (limit {self.cfg.max_length})",
                           normalize(msg.text[: self.cfg.max_length]).text)
        norm, blocked, spam = self._analyse(msg.text)
        if blocked is not None:
            return blocked
        if self.exempt.isdisjoint(msg.badges):
            if msg.emotes:  # Twitch's emote marks change what counts as a flood or shouting
                spam = self.spam.text_check(norm.text, len(msg.emotes), msg.emotes)
            spam = spam or self.spam.history_check(msg.user_login, norm.folded, now)
            if spam is not None:
                return Verdict(False, spam[0], spam[1], norm.text)
            wait = self.cooldowns.remaining(msg.user_login, now)
            if wait > 0:
                return Verdict(False, "cooldown", f"{msg.user_login} may send again in {wait:.0f} s",
                               norm.text)
            if not self.rate.try_take(now):
                return Verdict(False, "rate", self._rate_detail, norm.text)
            self.cooldowns.mark(msg.user_login, now)
        return _ok(norm)

    def deep_check(self, text: str) -> Verdict:
        """The classifier, for a message about to become a prompt."""
        norm = normalize(text)
        return _classify(self.classifier, norm) or _ok(norm)


def _classify(classifier: ProfanityClassifier | None, norm: Normalized) -> Verdict | None:
    if classifier is None:
        return None
    score = classifier.score(norm.text)
    if score is not None and score >= classifier.threshold:
        return Verdict(False, "classifier", f"offensive with probability {score:.2f} "
                       f"(threshold {classifier.threshold:g})", norm.text)
    return None


class OutputGate:
    """An LLM piece → may the avatar say it? Same lists and rules; no viewer state."""

    def __init__(self, cfg: ModerationConfig, lists: WordLists, patterns: _Patterns,
                 classifier: ProfanityClassifier | None):
        self.cfg = cfg
        self.lists = lists
        self.patterns = patterns
        self.classifier = classifier

    def check(self, text: str) -> Verdict:
        norm = normalize(text)
        if not norm.folded:
            return _ok(norm)
        hit = self.lists.matcher(self.cfg.output_min_severity).find(norm.folded)
        if hit is not None:
            return _hit_verdict(hit, norm)
        name = first_match(self.patterns.rules, self.patterns.combined, norm.folded)
        if name is not None:
            return Verdict(False, "pattern", f"matches the rule {name!r}", norm.text)
        return _link_verdict(self.cfg, norm) or _classify(self.classifier, norm) or _ok(norm)


class Moderator:
    """Both gates, built once from the config, sharing lists, rules and classifier."""

    def __init__(self, cfg: ModerationConfig, *, dictionary: Iterable[str] | None = None,
                 classifier: bool | None = None, clock: Callable[[], float] = time.monotonic):
        self.cfg = cfg
        self.lists = WordLists(cfg, dictionary)
        self.patterns = _Patterns(cfg)
        use_classifier = cfg.classifier.enabled if classifier is None else classifier
        self.classifier = ProfanityClassifier(cfg.classifier.threshold) if use_classifier else None
        self.input = InputGate(cfg, self.lists, self.patterns, self.classifier, clock)
        self.output = OutputGate(cfg, self.lists, self.patterns, self.classifier)

    def warm_up(self) -> None:
        """Build the matchers now (about a second) instead of on the first message."""
        self.lists.matcher(self.cfg.min_severity)
        self.lists.matcher(self.cfg.output_min_severity)
        if self.classifier is not None:
            self.classifier.load_in_background()

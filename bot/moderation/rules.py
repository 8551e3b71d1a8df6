"""Pattern rules: the streamer's regexes, links, and prompt injection.

All of them read the folded text (lower case, look-alikes as Latin letters), so a
rule written in plain ASCII also catches its fullwidth or Cyrillic disguise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


class RuleError(ValueError):
    """A configured rule is not a valid regular expression."""


@dataclass(frozen=True, slots=True)
class PatternRule:
    name: str
    regex: re.Pattern[str]
    triggers: tuple[str, ...] = ()  # the regex can only match if one of these is in the text


def compile_patterns(patterns: dict[str, str] | Iterable[str], *, key: str) -> list[PatternRule]:
    items = patterns.items() if isinstance(patterns, dict) else ((p, p) for p in patterns)
    rules = []
    for name, source in items:
        try:
            rules.append(PatternRule(name, re.compile(source, re.IGNORECASE)))
        except re.error as e:
            raise RuleError(f"{key}: {name!r} is not a valid regular expression: {e}") from None
    return rules


def first_match(rules: list[PatternRule], combined: re.Pattern[str] | None, text: str) -> str | None:
    """The name of the first rule that matches (one combined regex decides if any does)."""
    if combined is None or combined.search(text) is None:
        return None
    for rule in rules:
        if rule.regex.search(text):
            return rule.name
    return None


def first_triggered(rules: list[PatternRule], text: str) -> str | None:
    """Like :func:`first_match` for rules with triggers: a substring test (fast) decides
    whether a rule's regex runs at all."""
    for rule in rules:
        for trigger in rule.triggers:
            if trigger in text:
                if rule.regex.search(text):
                    return rule.name
                break
    return None


def combine(rules: list[PatternRule]) -> re.Pattern[str] | None:
    if not rules:
        return None
    return re.compile("|".join(f"(?:{r.regex.pattern})" for r in rules), re.IGNORECASE)


# -- prompt injection -------------------------------------------------------------------

_ROLES = ("system", "assistant", "user", "developer", "ai", "bot", "model")
_PREV = r"(?:previous|prior|above|earlier|preceding|all|any|your|the|these|those|every)"
_INSTR = r"(?:instructions?|prompts?|rules|messages|directions|guidelines|context|programming|system\s*prompt)"
INJECTION_PATTERNS: dict[str, tuple[tuple[str, ...], str]] = {
    "ignore instructions": (("instruction", "prompt", "rule", "messages", "direction", "guideline",
                             "context", "programming"), rf"\b(?:ignore|disregard|forget|override|skip|bypass|drop)\b(?:\W+\w+){{0,3}}?\W+{_PREV}\W+(?:\w+\W+){{0,2}}?{_INSTR}\b"),
    "new instructions": (("instruction", "rule", "prompt", "directive"), r"\b(?:new|updated|real|actual|secret|hidden)\s+(?:instructions?|rules|system\s*prompt|directive)s?\s*[:\-]"),
    "reveal prompt": (("prompt", "instruction", "rule"), r"\b(?:reveal|show|print|repeat|tell me|what(?:'s| is| are))\b(?:\W+\w+){0,3}?\W+(?:system\s*prompt|initial\s*prompt|your\s+(?:instructions|prompt|rules))"),
    "role change": (("you are now", "from now on", "act as", "pretend"), r"\b(?:you\s+are\s+now|from\s+now\s+on\s+(?:you|act|pretend|respond)|act\s+as\s+(?:an?\s+)?(?:unfiltered|uncensored|evil|different)|pretend\s+(?:to\s+be|you\s*(?:'re|are))\s+(?:an?\s+)?(?:unfiltered|uncensored|evil|different|ai\s+without))"),
    "jailbreak": (("jail", "dan mode", "developer mode", "anything now", "restrictions", "filters",
                   "rules mode"), r"\b(?:jailbreak|jail\s*broken|dan\s+mode|developer\s+mode|do\s+anything\s+now|no\s+(?:restrictions|filters|rules)\s+mode)\b"),
    "fake turn": (tuple(f"{role}{sep}:" for role in _ROLES for sep in ("", " ")), r"(?:^|[\n\r]|\s{2,}|[.!?]\s+)\s*(?:system|assistant|user|developer|ai|bot|model)\s*:\s*\S"),
    "template token": (("<", "[", "###"), r"<\|[a-z_]+\|>|<\s*/?\s*(?:system|s|im_start|im_end|sys)\s*>|\[/?inst\]|<<\s*/?sys\s*>>|###\s*(?:instruction|system|response)"),
}


def injection_rules() -> list[PatternRule]:
    return [PatternRule(name, re.compile(src, re.IGNORECASE), triggers)
            for name, (triggers, src) in INJECTION_PATTERNS.items()]


# -- links --------------------------------------------------------------------------------

_TLDS = ("com|net|org|tv|gg|io|ly|me|co|xyz|info|biz|ru|de|uk|us|ca|be|to|app|dev|live|link|"
         "site|online|store|shop|club|fun|top|click|pw|cc|ws|su|in|jp|cn|fr|nl|eu|au|br|es|it|pl")
_DOT = r"(?:\.|\s*[\(\[\{]\s*dot\s*[\)\]\}]\s*|\s+dot\s+)"  # "." "(dot)" " dot "
LINK = re.compile(
    rf"(?:\b(?:https?|ftp)\s*:\s*/\s*/\s*|\bwww{_DOT})?"
    rf"\b((?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?{_DOT})+(?:{_TLDS}))\b(?!\w)",
)


def find_domains(folded: str) -> list[str]:
    """Every domain written in the text, including "example dot com" disguises."""
    if "." not in folded and "dot" not in folded and "/" not in folded:
        return []
    out = []
    for m in LINK.finditer(folded):
        domain = re.sub(_DOT, ".", m.group(1)).strip(".")
        if domain.startswith("www."):
            domain = domain[4:]
        out.append(domain)
    return out


def domain_allowed(domain: str, allowed: Iterable[str]) -> bool:
    return any(domain == a or domain.endswith("." + a) for a in allowed)

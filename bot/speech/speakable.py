"""What may be read aloud: strips markdown, emoji, links and stage directions.

LLMs write for screens (``**bold**``, ``*waves*``, links, emoji); a voice that reads
those out sounds broken, so every piece is cleaned before it reaches TTS.
"""

from __future__ import annotations

import re
import unicodedata

_FENCE = re.compile(r"```.*?(```|$)", re.S)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\((?:[^)]*)\)")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"')\]]+", re.I)
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", re.S)
_ACTION = re.compile(r"\*[^*]*\*|\*[^*]*$", re.S)  # *waves* or an unclosed *trailing action
_PARENS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}")
_UNCLOSED = re.compile(r"[(\[{].*$", re.S)  # after peeling pairs, an opener left is unclosed
_LINE_MARK = re.compile(r"^[ \t]*(?:#{1,6}[ \t]+|>+[ \t]*|[-+*•][ \t]+|\d{1,3}[.)][ \t]+)", re.M)
_CODE = re.compile(r"`([^`]*)`")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_]+?)(?<=\S)_(?![\w_])")
_STRAY = re.compile(r"[*#`~|^\\_)\]}]+")
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?…])")
_LEADING_PUNCT = re.compile(r"^[\s,.;:!?…\-–—]+")
_REPEATED_PUNCT = re.compile(r"([,;:])(?:\s*[,;:])+")

_EMOJI_EXTRA = {0x200D, 0xFE0E, 0xFE0F, 0x20E3}


def _is_emoji(ch: str) -> bool:
    cp = ord(ch)
    if cp in _EMOJI_EXTRA or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F:
        return True
    cat = unicodedata.category(ch)
    return cat in ("So", "Cs", "Co") or (cat == "Sk" and cp > 0xFF)


def strip_emoji(text: str) -> str:
    return "".join(" " if _is_emoji(c) else c for c in text)


def speakable(text: str, *, url_replacement: str = "") -> str:
    """The words of ``text`` a voice should say, on one line; ``""`` if nothing is left."""
    t = unicodedata.normalize("NFC", text)
    t = _FENCE.sub(" ", t)
    t = _IMAGE.sub(" ", t)
    t = _LINK.sub(r"\1", t)
    t = _URL.sub(f" {url_replacement} " if url_replacement else " ", t)
    t = _LINE_MARK.sub("", t)
    t = _BOLD.sub(r"\2", t)
    t = _ACTION.sub(" ", t)
    # nested parentheses: peel from the inside out
    for _ in range(4):
        t, n = _PARENS.subn(" ", t)
        if not n:
            break
    t = _UNCLOSED.sub(" ", t)
    t = _CODE.sub(r"\1", t)
    t = _ITALIC.sub(r"\1", t)
    t = strip_emoji(t)
    t = t.replace("&", " and ")
    t = _STRAY.sub(" ", t)
    t = _SPACES.sub(" ", t)
    t = _SPACE_BEFORE_PUNCT.sub(r"\1", t)
    t = _REPEATED_PUNCT.sub(r"\1", t)
    t = _LEADING_PUNCT.sub("", t).strip()
    if not any(c.isalnum() for c in t):
        return ""
    return t

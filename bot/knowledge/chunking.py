"""Markdown and text → chunks small enough to embed well and to quote in a prompt.

A chunk keeps the headings it sits under ("Mochi > Home > The cloud castle"), so a
passage that says "it floats" still says what floats. Paragraphs are packed up to
the token budget; one longer than the budget is split at sentence ends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)


@dataclass(frozen=True, slots=True)
class Chunk:
    heading: str  # "A > B > C": where the text sits in its file
    text: str

    def embed_text(self) -> str:
        """What is embedded: the headings give the passage its subject."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


def _blocks(text: str, title: str) -> Iterator[tuple[str, str]]:
    """(heading path, paragraph) in file order."""
    text = _FRONT_MATTER.sub("", text.replace("\r\n", "\n"))
    path: list[tuple[int, str]] = []
    para: list[str] = []
    in_code = False

    def heading() -> str:
        names = [t for _, t in path] or [title]
        return " > ".join(names)

    def flush() -> Iterator[tuple[str, str]]:
        body = " ".join(s.strip() for s in para).strip()
        para.clear()
        if body:
            yield heading(), body

    for line in text.split("\n"):
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        m = None if in_code else _HEADING.match(line)
        if m:
            yield from flush()
            level = len(m.group(1))
            path = [(lv, t) for lv, t in path if lv < level] + [(level, m.group(2))]
        elif not line.strip():
            yield from flush()
        else:
            stripped = line.strip()
            if para and re.match(r"^([-*+]|\d+[.)])\s", stripped):  # list items stay apart
                yield from flush()
            para.append(stripped)
    yield from flush()


def _split_long(body: str, count: Callable[[str], int], budget: int) -> list[str]:
    parts, current = [], ""
    for sentence in _SENTENCE_END.split(body):
        candidate = f"{current} {sentence}".strip()
        if current and count(candidate) > budget:
            parts.append(current)
            current = sentence
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


def chunk_document(text: str, title: str, count_tokens: Callable[[str], int], *,
                   max_tokens: int = 160) -> list[Chunk]:
    """Pack paragraphs under the same heading into chunks of at most ``max_tokens``
    (a single sentence longer than that stays whole; the encoder truncates it)."""
    chunks: list[Chunk] = []
    head, current = None, ""
    for h, body in _blocks(text, title):
        pieces = _split_long(body, count_tokens, max_tokens) if count_tokens(body) > max_tokens else [body]
        for piece in pieces:
            if head == h and current and count_tokens(f"{h}\n{current}\n{piece}") <= max_tokens:
                current = f"{current}\n{piece}"
                continue
            if current:
                chunks.append(Chunk(head or "", current))
            head, current = h, piece
    if current:
        chunks.append(Chunk(head or "", current))
    return chunks

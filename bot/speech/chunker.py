"""Cuts a token stream into speakable pieces.

The first piece leaves at the first clause boundary so the voice starts early;
later pieces leave at sentence ends, where prosody sounds natural. Boundaries
are never placed inside stage directions, brackets or code, and a piece is
decided only from the characters seen so far plus one look-ahead, so the pieces
do not depend on how the model happened to split its tokens.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from bot.config.models import ChunkerConfig

from .speakable import speakable

SENTENCE_END = ".!?…。！？"
CLAUSE_END = ",;:—–"
CLOSERS = "\"'”’)]»"
OPEN = "([{"
CLOSE = ")]}"
ABBREVIATIONS = frozenset(
    "mr mrs ms dr st vs etc e.g i.e jr sr prof approx no fig inc ltd co mt ft".split()
)


@dataclass(frozen=True, slots=True)
class Piece:
    """A speakable piece: ``text`` is what TTS reads, ``raw`` what the model wrote."""

    text: str
    raw: str
    index: int
    ends_sentence: bool
    emotion: str | None = None  # a mood tag the model wrote for this piece ("[happy] ...")


def _word_before(buf: str, i: int) -> str:
    j = i
    while j > 0 and (buf[j - 1].isalpha() or buf[j - 1] == "."):
        j -= 1
    return buf[j:i].lower()


def find_boundary(buf: str, *, first: bool, final: bool, min_first: int,
                  max_chars: int) -> tuple[int, bool] | None:
    """End index (exclusive) and whether it ends a sentence, or None to wait for more."""
    stack: list[str] = []  # open brackets, matched like the cleaner matches them
    in_action = in_code = False
    last_space = -1
    last_clause = -1
    n = len(buf)
    i = 0
    while i < n:
        c = buf[i]
        if c == "`":
            in_code = not in_code
        elif in_code:
            pass
        elif c == "*":
            if i + 1 < n and buf[i + 1] == "*":
                i += 2  # bold marker: not an action
                continue
            if i + 1 >= n and not final:
                return None  # "*" or "**"? wait for the next character
            in_action = not in_action
        elif c in OPEN:
            stack.append(c)
        elif c in CLOSE:
            opener = OPEN[CLOSE.index(c)]
            if opener in stack:  # close back to the matching opener; a stray closer is ignored
                del stack[len(stack) - 1 - stack[::-1].index(opener):]
        elif not stack and not in_action:
            if c == "\n" and buf[:i].strip():
                return i + 1, True
            if c in SENTENCE_END:
                j = i + 1
                while j < n and (buf[j] in SENTENCE_END or buf[j] in CLOSERS):
                    j += 1
                if j >= n:
                    if final:
                        return n, True
                    return None
                if buf[j].isspace():
                    word = _word_before(buf, i)
                    is_abbrev = c == "." and (word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()))
                    if not is_abbrev and speakable(buf[:j]):
                        return j, True
                i = j
                continue
            if c in CLAUSE_END or (c == "-" and i > 0 and buf[i - 1] == " "):
                if i + 1 >= n and not final:
                    return None
                if i + 1 >= n or buf[i + 1].isspace():
                    last_clause = i + 1
                    if first and len(speakable(buf[: i + 1])) >= min_first:
                        return i + 1, False
            if c.isspace():
                last_space = i
        if i + 1 >= max_chars and n > max_chars:
            # an over-long stretch: cut at the last clause, else the last space
            cut = last_clause if last_clause > 0 else (last_space + 1 if last_space > 0 else i + 1)
            return cut, False
        i += 1
    if final and buf.strip():
        return n, True
    return None


class Chunker:
    """Feed text deltas, get pieces; ``flush`` at the end of the stream."""

    def __init__(self, cfg: ChunkerConfig | None = None):
        self.cfg = cfg or ChunkerConfig()
        self._buf = ""
        self._index = 0

    def _take(self, final: bool) -> list[Piece]:
        out: list[Piece] = []
        while self._buf:
            found = find_boundary(self._buf, first=self._index == 0, final=final,
                                  min_first=self.cfg.first_piece_min_chars,
                                  max_chars=self.cfg.max_piece_chars)
            if found is None:
                break
            end, ends_sentence = found
            raw, self._buf = self._buf[:end], self._buf[end:]
            text = speakable(raw, url_replacement=self.cfg.read_urls_as)
            if text:
                out.append(Piece(text, raw, self._index, ends_sentence))
                self._index += 1
        return out

    def feed(self, delta: str) -> list[Piece]:
        self._buf += delta
        return self._take(final=False)

    def flush(self, *, truncated: bool = False) -> list[Piece]:
        """Release what is left. ``truncated``: the model was cut off by its token limit,
        so a dangling half sentence is trimmed back to its last clause (or dropped)."""
        if truncated and self._buf.strip():
            self._buf = _trim_dangling(self._buf, keep_any=self._index == 0)
        pieces = self._take(final=True)
        self._buf = ""
        return pieces


def _trim_dangling(buf: str, *, keep_any: bool) -> str:
    stripped = buf.rstrip()
    if not stripped or stripped[-1] in SENTENCE_END or stripped[-1] in CLOSERS:
        return buf
    cut = max(stripped.rfind(c) for c in CLAUSE_END)
    if cut > 0 and len(speakable(stripped[:cut]).split()) >= 2:
        return stripped[:cut] + "."
    return stripped + "." if keep_any else ""


async def chunk_stream(deltas: AsyncIterator[str], cfg: ChunkerConfig | None = None,
                       truncated: Callable[[], bool] = lambda: False) -> AsyncIterator[Piece]:
    """Pieces from a delta stream; ``truncated()`` is asked at the end of the stream."""
    chunker = Chunker(cfg)
    async for delta in deltas:
        for piece in chunker.feed(delta):
            yield piece
    for piece in chunker.flush(truncated=truncated()):
        yield piece

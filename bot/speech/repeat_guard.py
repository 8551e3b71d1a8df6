"""Drops a sentence the avatar said word for word moments ago.

Small models copy their own earlier answers out of the conversation memory; a
streamer's avatar that opens every answer with the same line sounds broken.
"""

from __future__ import annotations

import re
from collections import deque

from .chunker import Piece

_NORMAL = re.compile(r"[^\w]+")


class RepeatGuard:
    """A piece filter: ``None`` for a piece among the last ``window`` spoken pieces."""

    def __init__(self, window: int = 40, min_words: int = 4):
        self.recent: deque[str] = deque(maxlen=window)
        self.min_words = min_words  # "Thank you!" may be said twice

    def __call__(self, piece: Piece) -> Piece | None:
        key = _NORMAL.sub(" ", piece.text.lower()).strip()
        if len(key.split()) >= self.min_words and key in self.recent:
            return None
        self.recent.append(key)
        return piece

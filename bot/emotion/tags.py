"""Mood tags the model may write at the start of a reply ("[happy] Yay!"): read, then
removed so the voice never says them. Alert lines may carry them too."""

from __future__ import annotations

import re
from dataclasses import replace

from bot.speech.chunker import Piece

from .examples import EMOTIONS

TAG = re.compile(r"^\s*[\[(*<]\s*(" + "|".join(EMOTIONS + ("neutral",)) + r")\s*[\])*>]\s*", re.I)
ANY_TAG = re.compile(r"^\s*\[\s*([a-z]{3,12})\s*\]\s*", re.I)  # a tag we do not know: drop it, do not say it
TAG_INSTRUCTION = ("Begin each reply with one mood tag in brackets: " + ", ".join(f"[{e}]" for e in EMOTIONS)
                   + " or [neutral]. The tag is not spoken.")


def split_tag(text: str) -> tuple[str | None, str]:
    """("happy", "Yay!") for "[happy] Yay!"; (None, text) when there is no tag. Unknown
    bracketed words at the very start are removed too, so TTS never reads them."""
    m = TAG.match(text)
    if m:
        return m.group(1).lower(), text[m.end():]
    m = ANY_TAG.match(text)
    if m:
        return None, text[m.end():]
    return None, text


def mood_tag_filter(piece: Piece) -> Piece | None:
    """A piece filter: "[happy] Yay!" is spoken as "Yay!" with the emotion kept on the
    piece; a piece that was only a tag is dropped."""
    tag, rest = split_tag(piece.text)
    if rest is piece.text:
        return piece
    if not rest.strip():
        return None
    return replace(piece, text=rest, emotion=tag)

"""The output gate as a piece filter in the speech pipeline.

A blocked piece is never spoken: the answer ends there, and the streamer's safe line
(``moderation.replacement``) is said instead, once. What was blocked never reaches
the conversation memory either, so the model cannot pick it up again.
"""

from __future__ import annotations

from bot.speech.chunker import Piece
from bot.speech.pipeline import CutAnswer

from .audit import AuditLog
from .gate import OutputGate


class OutputGuard:
    def __init__(self, gate: OutputGate, audit: AuditLog, replacement: str):
        self.gate = gate
        self.audit = audit
        self.replacement = replacement.strip()

    def __call__(self, piece: Piece) -> Piece | None:
        verdict = self.gate.check(piece.text)
        self.audit.record("output", verdict)
        if verdict.allowed:
            return piece
        safe = Piece(self.replacement, self.replacement, piece.index, True) if self.replacement else None
        raise CutAnswer(f"output gate: {verdict.reason} ({verdict.detail})", safe)

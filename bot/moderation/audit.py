"""Every moderation decision, with its reason, in a JSONL file and on the terminal."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import IO, Any

log = logging.getLogger("vtbot.moderation")


class AuditLog:
    """Appends one JSON object per decision; blocked ones are also logged at INFO.

    The file rotates at ``max_bytes`` (``moderation.jsonl`` → ``.1`` → ... ``.{backups}``,
    the oldest dropped), so a busy chat over a long stream never fills the disk.
    """

    def __init__(self, path: Path | None, *, max_bytes: int = 20 * 1024 * 1024, backups: int = 5):
        self.path = Path(path).expanduser() if path is not None else None
        self.max_bytes = max_bytes
        self.backups = backups
        self._fh: IO[str] | None = None
        self._size = 0
        self.blocked = 0
        self.allowed = 0
        self.rotations = 0

    def record(self, gate: str, verdict: Any, **fields: Any) -> None:
        if verdict.allowed:
            self.allowed += 1
        else:
            self.blocked += 1
            who = fields.get("user")
            log.info("%s gate blocked%s: %s — %s", gate, f" {who}" if who else "",
                     verdict.reason, verdict.detail)
        if self.path is None:
            return
        if self._fh is None:
            self._open()
        row = {"ts": round(time.time(), 3), "gate": gate, **fields, **verdict.to_dict()}
        line = json.dumps(row, ensure_ascii=False) + "\n"
        assert self._fh is not None
        self._fh.write(line)
        self._fh.flush()
        self._size += len(line.encode("utf-8"))
        if self._size >= self.max_bytes:
            self._rotate()

    def _open(self) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("a", encoding="utf-8")
        self._size = self.path.stat().st_size

    def _rotate(self) -> None:
        assert self.path is not None and self._fh is not None
        self._fh.close()
        self._fh = None
        for n in range(self.backups, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            newer = self.path.with_name(f"{self.path.name}.{n - 1}") if n > 1 else self.path
            if newer.exists():
                newer.replace(older)  # the oldest (n == backups) is overwritten: dropped
        if self.backups == 0:
            self.path.unlink(missing_ok=True)
        self.rotations += 1
        self._open()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

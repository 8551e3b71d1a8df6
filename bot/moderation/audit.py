"""Every moderation decision, with its reason, in a JSONL file and on the terminal."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import IO, Any

log = logging.getLogger("vtbot.moderation")


class AuditLog:
    """Appends one JSON object per decision; blocked ones are also logged at INFO."""

    def __init__(self, path: Path | None):
        self.path = Path(path).expanduser() if path is not None else None
        self._fh: IO[str] | None = None
        self.blocked = 0
        self.allowed = 0

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
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("a", encoding="utf-8")
        row = {"ts": round(time.time(), 3), "gate": gate, **fields, **verdict.to_dict()}
        self._fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

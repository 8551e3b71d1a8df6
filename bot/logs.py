"""Logging set-up with a redactor: no secret value ever reaches a log line."""

from __future__ import annotations

import logging
import logging.handlers
from collections.abc import Iterable
from pathlib import Path

MASK = "********"


class RedactingFilter(logging.Filter):
    """Replaces every known secret value in a record's final message and traceback."""

    def __init__(self, secrets: Iterable[str]):
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def add(self, secret: str) -> None:
        """A secret learned later (a Twitch token, refreshed while the bot runs)."""
        if len(secret) >= 4 and secret not in self.secrets:
            self.secrets = sorted({*self.secrets, secret}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = self.redact(record.getMessage())
            record.args = None
            if record.exc_info and record.exc_info[1] is not None:
                formatter = logging.Formatter()
                record.exc_text = self.redact(formatter.formatException(record.exc_info))
                record.exc_info = None
        return True


def setup_logging(level: str, secrets: Iterable[str] = (), file: Path | None = None,
                  *, rich_console: bool = True) -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    redactor = RedactingFilter(secrets)
    handlers: list[logging.Handler] = []
    if rich_console:
        from rich.logging import RichHandler

        handlers.append(RichHandler(show_path=False, rich_tracebacks=False, markup=False))
    else:
        h = logging.StreamHandler()
        h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handlers.append(h)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        # rotated: hours of a busy stream must not fill the disk
        fh = logging.handlers.RotatingFileHandler(file, maxBytes=20 * 1024 * 1024, backupCount=5,
                                                  encoding="utf-8")
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handlers.append(fh)
    for h in handlers:
        h.addFilter(redactor)
        root.addHandler(h)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "openai", "piper", "twitchio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def add_secret(secret: str) -> None:
    """Mask ``secret`` in every log handler from now on."""
    for handler in logging.getLogger().handlers:
        for f in handler.filters:
            if isinstance(f, RedactingFilter):
                f.add(secret)

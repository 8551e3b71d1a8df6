"""Nothing fails unseen: every error a task leaves behind is logged, and the bot's
long-lived jobs are restarted with backoff instead of dying quietly.

asyncio reports a task's exception that nobody retrieved only through the loop's
exception handler, by default to stderr (under the dashboard: nowhere visible). The
handler installed here logs it as an error (redacted, shown on the dashboard, kept in
the log file) and counts it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from events.sources.reconnect import Backoff

log = logging.getLogger("vtbot.supervisor")


class Supervisor:
    def __init__(self, *, backoff: Callable[[], Backoff] = lambda: Backoff(1.0, 30.0)):
        self.unhandled = 0
        self.restarts: dict[str, int] = {}
        self._backoff = backoff

    def install(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Route the loop's unhandled errors to the log."""
        (loop or asyncio.get_running_loop()).set_exception_handler(self._handle)

    def _handle(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.unhandled += 1
        exc = context.get("exception")
        where = context.get("task") or context.get("future") or context.get("handle")
        name = where.get_name() if isinstance(where, asyncio.Task) else type(where).__name__
        log.error("unhandled error in %s: %s", name, context.get("message", "?"),
                  exc_info=(type(exc), exc, exc.__traceback__) if isinstance(exc, BaseException) else None)

    async def keep_running(self, name: str, job: Callable[[], Awaitable[object]]) -> None:
        """Run ``job`` until cancelled; when it raises or returns, log it and start it
        again after a backoff that resets once a run has lasted a minute."""
        backoff = self._backoff()
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await job()
                why = "stopped"
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - the point: report and go on
                why = f"{type(e).__name__}: {e}"
                log.exception("%s failed", name)
            if loop.time() - started > 60:
                backoff.reset()
            delay = backoff.next()
            self.restarts[name] = self.restarts.get(name, 0) + 1
            log.error("%s %s; restarting in %.1f s (restart %d)", name, why, delay, self.restarts[name])
            await asyncio.sleep(delay)

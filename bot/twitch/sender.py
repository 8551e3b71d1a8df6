"""Posting in chat within Twitch's limits.

Twitch allows a bot 20 messages per 30 s in a channel (100 when it is a moderator or
the broadcaster) and 500 characters per message. Longer text is split at sentence or
word boundaries. Messages wait in a bounded queue and go out at the allowed pace, so a
burst of answers never blocks the voice or gets the bot rate-limited.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

MAX_CHARS = 500
WINDOW_S = 30.0
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def split_message(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Pieces of at most ``limit`` characters: whole sentences when they fit, else
    whole words; a single word longer than the limit is cut (with an ellipsis)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return [text] if text else []
    parts: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        for word in (sentence.split(" ") if len(sentence) > limit else [sentence]):
            while len(word) > limit:
                if current:
                    parts.append(current)
                    current = ""
                parts.append(word[: limit - 1] + "…")
                word = word[limit - 1:]
            candidate = f"{current} {word}" if current else word
            if len(candidate) <= limit:
                current = candidate
            else:
                parts.append(current)
                current = word
    if current:
        parts.append(current)
    return parts


class SlidingWindow:
    """At most ``limit`` events in any ``window_s`` seconds."""

    def __init__(self, limit: int, window_s: float = WINDOW_S, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._sent: deque[float] = deque()

    def wait_time(self) -> float:
        now = self.clock()
        while self._sent and now - self._sent[0] >= self.window_s:
            self._sent.popleft()
        if len(self._sent) < self.limit:
            return 0.0
        return self.window_s - (now - self._sent[0])

    def mark(self) -> None:
        self._sent.append(self.clock())


@dataclass(slots=True)
class Outgoing:
    text: str
    reply_to: str | None = None


SendFn = Callable[[str, str | None], Awaitable[None]]


class ChatSender:
    """A background task posts queued messages through ``send`` at Twitch's pace."""

    def __init__(self, send: SendFn, *, limit: int = 20, max_queued: int = 50,
                 clock: Callable[[], float] = time.monotonic):
        self._send = send
        self.window = SlidingWindow(limit, clock=clock)
        self._queue: asyncio.Queue[Outgoing] = asyncio.Queue(maxsize=max_queued)
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
        self.dropped = 0
        self.failed = 0

    def set_limit(self, limit: int) -> None:
        if limit != self.window.limit:
            log.info("chat send limit: %d messages per 30 s", limit)
            self.window.limit = limit

    def say(self, text: str, reply_to: str | None = None) -> int:
        """Queue ``text`` (split as needed); returns how many messages were queued."""
        queued = 0
        for i, part in enumerate(split_message(text)):
            try:
                self._queue.put_nowait(Outgoing(part, reply_to if i == 0 else None))
                queued += 1
            except asyncio.QueueFull:
                self.dropped += 1
                log.warning("chat queue full: a message was not sent")
        return queued

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="twitch-sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything queued was handed to Twitch (tests, shutdown)."""
        await asyncio.wait_for(self._queue.join(), timeout)

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                while (wait := self.window.wait_time()) > 0:
                    await asyncio.sleep(wait)
                self.window.mark()
                await self._send(item.text, item.reply_to)
                self.sent += 1
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - a rejected message never stops the bot
                self.failed += 1
                log.warning("chat message not sent: %s", _describe(e))
            finally:
                self._queue.task_done()


def _describe(e: Exception) -> str:
    """The reason without any URL (twitchio's errors carry request URLs with tokens)."""
    reason = getattr(e, "reason", None) or getattr(e, "message", None)
    code = getattr(e, "code", None) or getattr(e, "status", None)
    text = str(reason) if reason else type(e).__name__
    return f"{text} ({code})" if code else text

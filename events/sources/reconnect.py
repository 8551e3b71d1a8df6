"""Keeping a client connection up: jittered exponential backoff and the retry loop.

Jitter matters because every bot dropped by the same outage would otherwise knock on
the service's door in lockstep. A refused token is different from a network fault:
retrying soon cannot fix it and only looks like abuse, so it waits a long time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable

import aiohttp

from .common import CONNECTED, CONNECTING, OnState, StateReporter, disconnected, redact

REJECTED_DELAY_S = 15 * 60.0
# The wait between attempts; tests pass one that records the delay chosen and holds there.
Sleep = Callable[[float], Awaitable[None]]


def _secs(delay: float) -> str:
    return f"{delay:.0f} s" if delay >= 10 else f"{delay:.1f} s"


class Backoff:
    """Delays of ``base * factor**n`` capped at ``cap``, with "equal jitter".

    Equal jitter (half fixed, half random) never drops to ~0 the way full jitter can,
    so a flapping server is not hammered, yet clients still spread out.
    """

    def __init__(self, base: float = 1.0, cap: float = 60.0, factor: float = 2.0,
                 rng: random.Random | None = None):
        if base <= 0 or cap < base or factor < 1:
            raise ValueError("need 0 < base <= cap and factor >= 1")
        self.base = base
        self.cap = cap
        self.factor = factor
        self._rng = rng or random.Random()
        self.attempts = 0

    def next(self) -> float:
        """The delay before the next attempt; each call counts one more failure."""
        ceiling = min(self.cap, self.base * self.factor ** min(self.attempts, 64))
        self.attempts += 1
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        """A connection worked: the next failure starts again from ``base``."""
        self.attempts = 0


class Rejected(Exception):
    """The service refused our credentials."""


class Retry(Exception):
    """The connection ended or failed; ``delay`` overrides the backoff (the server said when)."""

    def __init__(self, reason: str, delay: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


def handshake_error(e: aiohttp.WSServerHandshakeError) -> Exception:
    """Maps an HTTP answer to the WebSocket upgrade onto Rejected or Retry."""
    if e.status in (401, 403):
        return Rejected(f"HTTP {e.status}")
    delay = None
    if e.status == 429 and e.headers is not None:
        with contextlib.suppress(TypeError, ValueError):
            delay = max(1.0, float(e.headers.get("Retry-After", "")))
    return Retry(f"HTTP {e.status} on connect", delay)


class ReconnectingClient:
    """Runs ``_connect_once`` for ever, with backoff in between, until ``close()``.

    Subclasses open one connection in ``_connect_once``, call ``_connected()`` once it
    is really usable (subscribed, authenticated), and raise Rejected or Retry, or
    return, when it ends.
    """

    token_hint = "check the token"

    def __init__(self, name: str, *, secrets: tuple[str, ...], on_state: OnState | None,
                 backoff: Backoff | None, rejected_delay: float, sleep: Sleep = asyncio.sleep):
        self.name = name
        self._secrets = secrets
        self._status = StateReporter(name, on_state)
        self._backoff = backoff or Backoff()
        self._rejected_delay = rejected_delay
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._log = logging.getLogger(f"events.sources.{name}")

    @property
    def state(self) -> str:
        return self._status.state

    async def start(self) -> None:
        if self._task is not None:
            return
        self._session = aiohttp.ClientSession()
        self._task = asyncio.create_task(self._run(), name=f"vtbot-{self.name}")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._status.set(disconnected("closed"))

    def _connected(self) -> None:
        self._backoff.reset()
        self._status.set(CONNECTED)

    def _redact(self, text: str) -> str:
        return redact(text, *self._secrets)

    async def _connect_once(self, session: aiohttp.ClientSession) -> None:
        raise NotImplementedError

    async def _run(self) -> None:
        assert self._session is not None
        while True:
            self._status.set(CONNECTING)
            try:
                try:
                    await self._connect_once(self._session)
                except aiohttp.WSServerHandshakeError as e:
                    raise handshake_error(e) from None
                reason, delay = "connection closed", self._backoff.next()
            except Rejected as e:
                detail = self._redact(str(e))
                reason, delay = f"token rejected ({detail})", self._rejected_delay
                self._log.error("%s: the token was rejected (%s); %s. Next try in %.0f s",
                                self.name, detail, self.token_hint, delay)
            except Retry as e:
                reason = self._redact(e.reason)
                delay = e.delay if e.delay is not None else self._backoff.next()
            except asyncio.TimeoutError:
                reason, delay = "timed out", self._backoff.next()
            except (aiohttp.ClientError, OSError, ValueError) as e:
                reason, delay = self._redact(f"{type(e).__name__}: {e}"), self._backoff.next()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - a bug in one frame must not end the source
                self._log.exception("%s: unexpected error: %s", self.name,
                                    self._redact(f"{type(e).__name__}: {e}"))
                reason, delay = self._redact(f"{type(e).__name__}: {e}"), self._backoff.next()
            self._status.set(disconnected(f"{reason}; retrying in {_secs(delay)}"))
            self._log.info("%s: disconnected (%s); retrying in %.1f s", self.name, reason, delay)
            await self._sleep(delay)

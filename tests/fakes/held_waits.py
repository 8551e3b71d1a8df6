"""A stand-in for a reconnecting client's sleep between attempts."""

from __future__ import annotations

import asyncio


class HeldWaits:
    """Records each delay the client chose and holds there, so a test reads the retry
    decision instead of timing the lack of a retry."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.Event().wait()  # never resumes; close() cancels it

"""Per-viewer cooldown and a chat-wide rate: a busy chat cannot flood the brain."""

from __future__ import annotations

from collections import OrderedDict


class Cooldowns:
    """When each viewer last got a message through; oldest viewers are forgotten first."""

    def __init__(self, seconds: float, max_tracked: int = 50_000):
        self.seconds = seconds
        self.max_tracked = max_tracked
        self._last: OrderedDict[str, float] = OrderedDict()

    def remaining(self, user: str, now: float) -> float:
        last = self._last.get(user)
        return 0.0 if last is None else max(0.0, self.seconds - (now - last))

    def mark(self, user: str, now: float) -> None:
        self._last[user] = now
        self._last.move_to_end(user)
        if len(self._last) > self.max_tracked:
            self._last.popitem(last=False)


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up."""

    def __init__(self, rate: float, burst: int):
        self.rate = rate
        self.burst = float(burst)
        self._tokens = float(burst)
        self._at: float | None = None

    def try_take(self, now: float) -> bool:
        if self._at is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False

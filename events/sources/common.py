"""What every donation source shares: the callback types, a state reporter, field helpers.

The state is a plain string ("connecting", "connected", "disconnected: why") so a
dashboard can show it as is; a failing dashboard callback must never take a source
down, hence the guard around it. Payload fields come from outside, so the helpers
accept the few shapes services really send and refuse the rest.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from events.model import StreamEvent

# Awaitable[object]: the result is ignored, so the bus's publish (which returns a status) fits
Publish = Callable[[StreamEvent], Awaitable[object]]
OnState = Callable[[str], None]

CONNECTING = "connecting"
CONNECTED = "connected"
MASK = "********"


def disconnected(reason: str) -> str:
    return f"disconnected: {reason}"


class StateReporter:
    """Holds a source's current state and tells ``on_state`` about every change."""

    def __init__(self, name: str, on_state: OnState | None = None):
        self.name = name
        self.on_state = on_state
        self.state = disconnected("not started")
        self._log = logging.getLogger(f"events.sources.{name}")

    def set(self, state: str) -> None:
        if state == self.state:
            return
        self.state = state
        if self.on_state is not None:
            try:
                self.on_state(state)
            except Exception:  # noqa: BLE001 - a dashboard bug must not stop donations
                self._log.exception("%s: on_state callback failed", self.name)


def redact(text: str, *secrets: str) -> str:
    """Masks secrets in text we log or show: exception texts often quote the URL."""
    for s in secrets:
        if s:
            text = text.replace(s, MASK)
    return text


def parse_amount(value: Any) -> float:
    """A money amount sent as a number or a decimal string ("13.37"); ValueError if not."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("amount is missing or not a number")
    try:
        amount = float(Decimal(str(value).strip()))
    except (InvalidOperation, ValueError):
        raise ValueError("amount is not a number") from None
    if not math.isfinite(amount) or amount < 0:
        raise ValueError("amount is negative or not finite")
    return amount


def text(value: Any, limit: int) -> str:
    """A string field, stripped and cut to what StreamEvent accepts; "" for non-strings."""
    return value.strip()[:limit] if isinstance(value, str) else ""


def timestamp(value: Any) -> datetime:
    """An ISO 8601 time from a payload ("2025-05-23T08:32:22Z"); now when absent or bad."""
    if isinstance(value, str):
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            return datetime.now(timezone.utc)
        return at if at.tzinfo else at.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc)

"""Typed stream events: what every source turns its payloads into.

One shape for every kind, so rules, templates and the journal treat a Ko-fi tip and
a Twitch cheer alike. `id` is the source's own message id (EventSub's
`metadata.message_id`, Ko-fi's `message_id`, ...): with `source` it is the dedupe key,
because sources deliver at least once.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

EventType = Literal["follow", "cheer", "sub", "resub", "gift", "raid", "redeem", "donation",
                    "hype_train_begin", "hype_train_end"]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]
Source = Literal["twitch", "kofi", "streamelements", "streamlabs", "trigger"]


def now() -> datetime:
    return datetime.now(timezone.utc)


class StreamEvent(BaseModel):
    """A follow, cheer, sub, gift, raid, channel-points redeem, donation or hype train.

    Fields that do not apply stay at their zero value. `message` is the viewer's own
    text (a cheer or donation message, a resub message, a redeem's input): untrusted,
    it goes through moderation before anything speaks it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: EventType
    id: str = Field(min_length=1, max_length=200)
    source: Source
    user: str = Field("", max_length=100)  # display name; "" when anonymous
    user_id: str = Field("", max_length=100)
    at: datetime = Field(default_factory=now)
    bits: int = Field(0, ge=0)
    amount: float = Field(0.0, ge=0)  # donations, in `currency`
    currency: str = Field("", max_length=10)
    tier: int = Field(0, ge=0, le=3)  # subs: 1, 2, 3 (Prime counts as 1)
    months: int = Field(0, ge=0)  # resub: cumulative months
    count: int = Field(0, ge=0)  # gift: how many subs
    viewers: int = Field(0, ge=0)  # raid: how many came along
    reward: str = Field("", max_length=100)  # redeem: the reward's title
    cost: int = Field(0, ge=0)  # redeem: channel points
    level: int = Field(0, ge=0)  # hype train level
    message: str = Field("", max_length=2000)
    anonymous: bool = False

    @property
    def key(self) -> str:
        """The dedupe key: one alert per source message, however often it arrives."""
        return f"{self.source}:{self.id}"

    @property
    def who(self) -> str:
        """How to name the viewer aloud."""
        return "someone" if self.anonymous or not self.user else self.user

    def fields(self) -> dict[str, Any]:
        """What rules may test and templates may show (`user` is `who`)."""
        out = self.model_dump(exclude={"at", "user_id"})
        out["user"] = self.who
        return out

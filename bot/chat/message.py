"""One chat message, whatever it came from (Twitch, the console, a script)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(slots=True)
class ChatMessage:
    text: str
    user_login: str  # lower-case account name: the key for cooldowns and queues
    user_name: str = ""  # display name, as the viewer styles it
    user_id: str = ""
    message_id: str = ""
    badges: frozenset[str] = frozenset()  # broadcaster, moderator, vip, subscriber, ...
    emotes: tuple[str, ...] = ()  # the emote words in the text (Twitch marks them)
    mentions: tuple[str, ...] = ()  # logins @mentioned
    bits: int = 0
    reply_to_login: str | None = None  # the author of the message this one replies to
    source: str = "twitch"  # twitch | console | script | event (an alert's line)
    received_at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.user_login = self.user_login.lower()
        if not self.user_name:
            self.user_name = self.user_login

    @property
    def is_broadcaster(self) -> bool:
        return "broadcaster" in self.badges

    @property
    def is_moderator(self) -> bool:
        return "moderator" in self.badges or "broadcaster" in self.badges

    def audit_fields(self) -> dict[str, object]:
        return {"user": self.user_login, "user_id": self.user_id, "message_id": self.message_id,
                "source": self.source}

"""What the bot is doing, gathered in one place for the dashboard and the soak test."""

from .monitor import BotMonitor, ChatRow, ConnectionRow, EventRow, LogRow, SpeakingNow
from .rolling import RollingStat

__all__ = ["BotMonitor", "ChatRow", "ConnectionRow", "EventRow", "LogRow", "RollingStat", "SpeakingNow"]

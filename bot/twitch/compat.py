"""Fixes for twitchio behaviour that would lose chat, applied by vtbot's Twitch client.

twitchio 3.3 handles ``session_reconnect`` inside its socket's read loop: while it
connects the new socket, it stops reading the old one, then closes it, so whatever
Twitch sent on the old socket in that window (Twitch keeps sending there until the new
welcome) is lost. Running the move as a task lets the old socket be read until it is
closed.

Its revocation handling knows only some of Twitch's reasons: a ``moderator_removed``
revocation (the bot lost moderator status) raises inside the read loop and silently
stops that socket until the keepalive watchdog notices ~20 s later. The fix drops the
revoked subscription and keeps reading. Both patches are applied once and can be taken
back.

A third patch keeps EventSub's message id of each notification at hand (see
``NOTIFICATION_ID``), for alerts to drop Twitch's repeat deliveries.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import Any

from twitchio.eventsub import websockets as _ws

log = logging.getLogger(__name__)

ORIGINAL_PROCESS_RECONNECT = _ws.Websocket._process_reconnect
ORIGINAL_PROCESS_REVOCATION = _ws.Websocket._process_revocation
ORIGINAL_PROCESS_NOTIFICATION = _ws.Websocket._process_notification

# EventSub's metadata.message_id of the notification being dispatched: twitchio's event
# payloads leave it out, but alerts need it to drop repeat deliveries. Listener tasks
# are created inside the dispatch, so they inherit the value.
NOTIFICATION_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("eventsub_message_id", default=None)
_tasks: set[asyncio.Task[Any]] = set()


async def _process_reconnect_in_background(self: _ws.Websocket, data: Any) -> None:
    url = data["payload"]["session"]["reconnect_url"]
    log.info("twitch: Twitch asked to move the chat connection; reading the old one until moved")
    task = asyncio.create_task(self._reconnect(url=url), name="twitchio-session-reconnect")
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _process_revocation_any_reason(self: _ws.Websocket, data: Any) -> None:
    try:
        await ORIGINAL_PROCESS_REVOCATION(self, data)
    except ValueError:
        sub = data["payload"]["subscription"]
        log.warning("twitch: Twitch revoked the %s subscription (%s)", sub.get("type"), sub.get("status"))
        self._subscriptions.pop(sub.get("id"), None)
        if not self._subscriptions and self._shard_id is None:
            await self.close()


async def _process_notification_with_id(self: _ws.Websocket, data: Any) -> None:
    token = NOTIFICATION_ID.set(str(data.get("metadata", {}).get("message_id") or "") or None)
    try:
        await ORIGINAL_PROCESS_NOTIFICATION(self, data)
    finally:
        NOTIFICATION_ID.reset(token)


def keep_reading_during_reconnect(enable: bool = True) -> None:
    """Both fixes on (or off, for tests of plain twitchio)."""
    W = _ws.Websocket
    W._process_reconnect = _process_reconnect_in_background if enable else ORIGINAL_PROCESS_RECONNECT  # type: ignore[method-assign]
    W._process_revocation = _process_revocation_any_reason if enable else ORIGINAL_PROCESS_REVOCATION  # type: ignore[method-assign]
    W._process_notification = (_process_notification_with_id if enable  # type: ignore[method-assign]
                               else ORIGINAL_PROCESS_NOTIFICATION)

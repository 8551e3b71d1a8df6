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
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from twitchio.eventsub import websockets as _ws

log = logging.getLogger(__name__)

ORIGINAL_PROCESS_RECONNECT = _ws.Websocket._process_reconnect
ORIGINAL_PROCESS_REVOCATION = _ws.Websocket._process_revocation
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


def keep_reading_during_reconnect(enable: bool = True) -> None:
    """Both fixes on (or off, for tests of plain twitchio)."""
    W = _ws.Websocket
    W._process_reconnect = _process_reconnect_in_background if enable else ORIGINAL_PROCESS_RECONNECT  # type: ignore[method-assign]
    W._process_revocation = _process_revocation_any_reason if enable else ORIGINAL_PROCESS_REVOCATION  # type: ignore[method-assign]

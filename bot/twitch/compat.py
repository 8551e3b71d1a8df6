"""Fixes for twitchio behaviour that would lose chat, applied by vtbot's Twitch client.

twitchio 3.3 handles ``session_reconnect`` inside its socket's read loop: while it
connects the new socket, it stops reading the old one, then closes it, so whatever
Twitch sent on the old socket in that window (Twitch keeps sending there until the new
welcome) is lost. Running the move as a task lets the old socket be read until it is
closed. The patch is applied once and can be taken back.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from twitchio.eventsub import websockets as _ws

log = logging.getLogger(__name__)

ORIGINAL_PROCESS_RECONNECT = _ws.Websocket._process_reconnect
_tasks: set[asyncio.Task[Any]] = set()


async def _process_reconnect_in_background(self: _ws.Websocket, data: Any) -> None:
    url = data["payload"]["session"]["reconnect_url"]
    log.info("twitch: Twitch asked to move the chat connection; reading the old one until moved")
    task = asyncio.create_task(self._reconnect(url=url), name="twitchio-session-reconnect")
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


def keep_reading_during_reconnect(enable: bool = True) -> None:
    _ws.Websocket._process_reconnect = (_process_reconnect_in_background if enable  # type: ignore[method-assign]
                                        else ORIGINAL_PROCESS_RECONNECT)

"""What chat commands and hotkeys can do to a running bot, in one place.

Commands (``!skip``, ``!mute``, ...) and the overlay's hotkeys call these; effects that
belong to later parts (fireworks on the overlay, OBS scenes) are registered by those
parts as actions, and a command for an action nobody registered says so plainly.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

# an action takes the arguments and who asked, and returns what to tell them
Action = Callable[[str, str], Awaitable[str]]


class ActionUnavailable(Exception):
    pass


class StreamControls:
    def __init__(self) -> None:
        self._actions: dict[str, Action] = {}
        self._why_missing: dict[str, str] = {
            "fireworks": "fireworks need the overlay, which is not connected",
            "scene": "scene changes need OBS, which is not connected",
        }

    def register(self, name: str, action: Action) -> None:
        self._actions[name] = action

    def unregister(self, name: str, why: str | None = None) -> None:
        self._actions.pop(name, None)
        if why:
            self._why_missing[name] = why

    def available(self, name: str) -> bool:
        return name in self._actions

    async def run(self, name: str, args: str = "", by: str = "") -> str:
        action = self._actions.get(name)
        if action is None:
            raise ActionUnavailable(self._why_missing.get(name, f"{name} is not available"))
        log.info("action %s %r by %s", name, args, by or "?")
        return await action(args, by)

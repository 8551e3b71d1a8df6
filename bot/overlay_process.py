"""The overlay window as a child process of the bot: it starts with `vtbot run` (and
`vtbot demo`) when there is a display, and stops with it.

The window needs Qt's main thread and its own GL context; a separate process keeps a
stuck driver from freezing the bot, and is exactly what a second PC runs. The token
travels in the environment, never on the command line (other users can read that).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)


class OverlayProcess:
    def __init__(self, url: str, token: str, *, config_file: Path | None, play: bool):
        self.url = url
        self.token = token
        self.config_file = config_file
        self.play = play
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        args = [sys.executable, "-m", "bot.cli"]
        if self.config_file is not None:
            args += ["--config", str(self.config_file)]
        args += ["overlay", "--connect", self.url] + ([] if self.play else ["--no-play"])
        env = {**os.environ, "VTBOT_LINK_TOKEN": self.token}
        self.proc = await asyncio.create_subprocess_exec(*args, env=env, stdin=asyncio.subprocess.DEVNULL)
        log.info("overlay window started (pid %d)", self.proc.pid)

    async def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()

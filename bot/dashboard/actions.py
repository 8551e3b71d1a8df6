"""What the dashboard's keys do, apart from the screen: each returns the line to show.

Kept free of Textual so the same actions serve the keys, the tests and anything else
that steers the bot (the overlay's hotkeys reach the same flow through chat commands).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.chat.controls import ActionUnavailable, StreamControls
from bot.chat.flow import ChatFlow

log = logging.getLogger(__name__)


@dataclass
class DashboardActions:
    flow: ChatFlow
    controls: StreamControls
    vfx: str = "fireworks"

    def panic(self) -> str:
        return "PANIC: " + self.flow.panic() + " — F12 again (or F4 and F3) to resume"

    def panic_or_resume(self) -> str:
        if self.flow.ai_paused and self.flow.muted:
            self.flow.resume()
            log.warning("resumed after panic: unmuted, AI answering")
            return "resumed: unmuted, AI answering again"
        return self.panic()

    def skip(self) -> str:
        return "skipped" if self.flow.skip() else "nothing to skip"

    def toggle_mute(self) -> str:
        if self.flow.muted:
            self.flow.unmute()
            return "unmuted"
        self.flow.mute()
        return "muted: nothing is spoken until you unmute (F3)"

    def toggle_pause(self) -> str:
        if self.flow.ai_paused:
            self.flow.resume_ai()
            return "AI answering again"
        self.flow.pause_ai()
        return "AI paused: prompts wait in the queue; alert lines still play"

    def toggle_approval(self) -> str:
        self.flow.set_manual_approval(not self.flow.manual_approval)
        if self.flow.manual_approval:
            return "manual approval: each prompt waits for F5 (approve) or F6 (reject)"
        return "automatic: prompts are answered in turn"

    def approve(self, seq: int | None = None) -> str:
        prompt = self.flow.queue.approve(seq)
        return f"approved {prompt.viewer}'s prompt" if prompt else "nothing to approve"

    def reject(self, seq: int | None = None) -> str:
        prompt = self.flow.queue.reject(seq)
        return f"rejected {prompt.viewer}'s prompt" if prompt else "nothing to reject"

    def clear(self) -> str:
        return f"cleared {self.flow.clear()} waiting prompts"

    async def play_vfx(self, name: str | None = None) -> str:
        try:
            return await self.controls.run("vfx", name or self.vfx, "dashboard")
        except ActionUnavailable as e:
            return f"no effect: {e}"

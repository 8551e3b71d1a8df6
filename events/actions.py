"""Carrying out one action of an alert against the overlay, the voice and OBS.

The targets are small protocols, so the bot wires in its link, its chat flow and
its OBS client, and a dead target only costs the actions that need it: each action
ends as "done", "failed" (with why) or "skipped" (with why); nothing raises out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .model import StreamEvent
from .rules import Action, Expression, ObsFilter, ObsScene, ObsSource, React, Say, Vfx, Wait
from .templates import Template

log = logging.getLogger(__name__)


class Overlay(Protocol):
    def vfx(self, effect: str, intensity: float, colors: tuple[str, ...]) -> int:
        """Send an effect; returns how many overlays got it."""

    def expression(self, name: str, hold_s: float) -> int: ...


class Voice(Protocol):
    async def say(self, text: str, event: StreamEvent) -> str:
        """Speak a line (after moderation) and return once it was heard; the result
        says what happened. Raises `ActionSkipped` when it must not be spoken."""

    async def react(self, prompt: str, event: StreamEvent) -> str: ...


class Obs(Protocol):
    connected: bool

    async def set_scene(self, name: str) -> None: ...

    async def program_scene(self) -> str: ...

    async def set_source_visible(self, source: str, visible: bool, scene: str | None = None) -> None: ...

    async def set_filter_enabled(self, source: str, filter_name: str, enabled: bool) -> None: ...

    async def run_or_queue(self, description: str, action: Callable[[Any], Awaitable[None]]) -> Any: ...


class ActionSkipped(Exception):
    """The action was not carried out, on purpose (the message says why)."""


@dataclass(frozen=True)
class Outcome:
    state: str  # done, failed, skipped
    detail: str = ""


DEFAULT_REACT = "{user} triggered a {type} event. React in one short, warm sentence."


class ActionRunner:
    def __init__(self, overlay: Overlay | None = None, voice: Voice | None = None, obs: Obs | None = None,
                 *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.overlay = overlay
        self.voice = voice
        self.obs = obs
        self.sleep = sleep
        self._background: set[asyncio.Task[None]] = set()

    async def run(self, action: Action, event: StreamEvent) -> Outcome:
        fields = event.fields()
        try:
            detail = await self._run(action, event, fields)
        except ActionSkipped as e:
            return Outcome("skipped", str(e))
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - one failed action never stops the alert or the bot
            log.warning("events: %s failed: %s", action.describe(fields), e)
            return Outcome("failed", f"{type(e).__name__}: {e}")
        return Outcome("done", detail)

    async def _run(self, action: Action, event: StreamEvent, fields: Mapping[str, Any]) -> str:
        if isinstance(action, Vfx):
            overlay = self._need(self.overlay, "no overlay")
            strength = action.strength(fields)
            sent = overlay.vfx(action.effect, strength, action.colors)
            if not sent:
                raise ActionSkipped("no overlay is connected")
            return f"{action.effect} ×{strength:.2g} to {sent} overlay(s)"
        if isinstance(action, Expression):
            overlay = self._need(self.overlay, "no overlay")
            if not overlay.expression(action.name, action.hold_s):
                raise ActionSkipped("no overlay is connected")
            return action.name
        if isinstance(action, Say):
            voice = self._need(self.voice, "no voice")
            return await voice.say(Template.parse(action.text).render(fields), event)
        if isinstance(action, React):
            voice = self._need(self.voice, "no voice")
            return await voice.react(Template.parse(action.prompt or DEFAULT_REACT).render(fields), event)
        if isinstance(action, Wait):
            await self.sleep(action.seconds)
            return f"{action.seconds:g} s"
        if isinstance(action, ObsScene):
            return await self._scene(action)
        if isinstance(action, ObsSource):
            return await self._toggle(
                f"source {action.source!r} {'shown' if action.visible else 'hidden'}", action.for_s,
                lambda obs, on: obs.set_source_visible(action.source, action.visible if on else not action.visible,
                                                       action.scene))
        if isinstance(action, ObsFilter):
            return await self._toggle(
                f"filter {action.filter!r} on {action.source!r} {'on' if action.enabled else 'off'}", action.for_s,
                lambda obs, on: obs.set_filter_enabled(action.source, action.filter,
                                                       action.enabled if on else not action.enabled))
        raise ActionSkipped(f"unknown action {action.kind}")

    @staticmethod
    def _need(target: Any, why: str) -> Any:
        if target is None:
            raise ActionSkipped(why)
        return target

    async def _scene(self, action: ObsScene) -> str:
        """Switch; with back_after_s, return to the scene that was on before."""
        obs = self._need(self.obs, "OBS is not configured")
        back = action.back_after_s

        async def switch(client: Any) -> None:
            before = await client.program_scene()
            await client.set_scene(action.scene)
            if back and before and before != action.scene:
                self._later(back, lambda: client.set_scene(before), f"back to scene {before!r}")

        if not obs.connected:
            await obs.run_or_queue(f"scene {action.scene!r}", switch)
            return f"queued until OBS is back: scene {action.scene!r}"
        before = await obs.program_scene()
        await obs.set_scene(action.scene)
        if back and before and before != action.scene:
            await self.sleep(back)  # the alert holds the scene; the next alert waits
            await obs.run_or_queue(f"back to scene {before!r}", lambda client: client.set_scene(before))
            return f"{action.scene!r} for {back:g} s, then {before!r}"
        return repr(action.scene)

    async def _toggle(self, what: str, for_s: float | None,
                      apply: Callable[[Any, bool], Awaitable[None]]) -> str:
        obs = self._need(self.obs, "OBS is not configured")

        async def run(client: Any) -> None:
            await apply(client, True)
            if for_s:
                self._later(for_s, lambda: apply(client, False), f"undo {what}")

        if not obs.connected:
            await obs.run_or_queue(what, run)
            return f"queued until OBS is back: {what}"
        await apply(obs, True)
        if for_s:
            await self.sleep(for_s)
            await obs.run_or_queue(f"undo {what}", lambda client: apply(client, False))
            return f"{what} for {for_s:g} s"
        return what

    def _later(self, delay: float, step: Callable[[], Awaitable[None]], what: str) -> None:
        async def later() -> None:
            await self.sleep(delay)
            try:
                await step()
            except Exception as e:  # noqa: BLE001
                log.warning("events: %s failed: %s", what, e)

        task = asyncio.create_task(later(), name=f"events-later: {what}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

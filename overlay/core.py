"""The overlay without its window: link, sound, mouth and events.

The window (and a headless overlay on a machine that only plays the voice) wrap this:
speech arriving over the link is played on the audio clock, the mouth is sampled
from that clock once per frame, playback is reported back so the bot knows what was
heard, and hotkeys go to the bot as commands. Without a sound device the clock runs
in software at real time, so the mouth still moves in step.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.speech.player import AudioDeviceError

from avatar.life import IdleLife, LifeFrame, LifeSettings, mouth_energy

from .audio_out import AudioOut
from .link_client import LinkClient, Segment
from .mouth import MouthDriver
from .speech_clock import SpeechClock

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Frame:
    """What one rendered frame showed (kept for tests and the benchmark)."""

    t: float
    mouth: dict[str, float]
    caption: str
    viseme: str | None = None
    life: LifeFrame | None = None  # blink, emotions, head and body motion, gaze

    def expressions(self) -> dict[str, float]:
        """Everything the avatar's expressions show: life, then the mouth on top."""
        out = dict(self.life.expressions) if self.life is not None else {}
        out.update(self.mouth)
        return out


@dataclass
class OverlayState:
    # the last minute at 30 FPS (a frame holds its pose: ~3 KB); kept for tests and checks
    frames: deque[Frame] = field(default_factory=lambda: deque(maxlen=1_800))
    effects: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=200))  # history
    vfx_queue: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=64))  # for the window
    actions: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=64))  # for the window
    captions: bool = True


class SoftwareClock:
    """Advances a speech clock in real time when there is no sound device."""

    def __init__(self, clock: SpeechClock, tick_s: float = 0.005):
        self.clock = clock
        self.tick_s = tick_s

    async def run(self) -> None:
        import numpy as np

        last = time.perf_counter()
        owed = 0.0
        while True:
            await asyncio.sleep(self.tick_s)
            now = time.perf_counter()
            owed += (now - last) * self.clock.rate
            last = now
            n = int(owed)
            owed -= n
            if n:
                self.clock.fill(np.empty(n, dtype=np.int16))


class OverlayCore:
    def __init__(self, url: str, token: str, *, name: str = "overlay", device: str | None = None,
                 play: bool = True, fps: float = 30.0, lead_s: float = 0.03, volume: float = 1.0,
                 on_frame: Callable[[Frame], None] | None = None, life: LifeSettings | None = None):
        self.audio = AudioOut(device, volume=volume) if play else None
        self.clock = self.audio.clock if self.audio is not None else SpeechClock(22050, volume=volume)
        self.mouth = MouthDriver(self.clock, lead_s=lead_s)
        self.fps = fps
        self.on_frame = on_frame
        self.state = OverlayState()
        self.life = IdleLife(life or LifeSettings())
        self._t0 = time.perf_counter()
        self.link = LinkClient(url, token, name=name, on_segment=self._on_segment, on_event=self._on_event)
        self._software: asyncio.Task[None] | None = None
        self.sample_frames = True  # False when a window samples frames itself
        self._moods: dict[tuple[str, int], tuple[dict[str, Any], float]] = {}  # emotions waiting for their segment

    # -- from the bot ----------------------------------------------------------------------

    def _on_segment(self, seg: Segment) -> None:
        if self.audio is not None and not self.audio.is_open:
            self.audio.rate = seg.sample_rate
            try:
                self.audio.open()
            except AudioDeviceError as e:
                log.warning("overlay: no sound (%s); the mouth follows a software clock", e)
                self.audio = None
                self._start_software_clock()
            self.clock = self.audio.clock if self.audio is not None else self.clock
            self.mouth.clock = self.clock
            if self.audio is not None:
                self.mouth.latency_s = self.audio.latency_s
        self.clock.add(seg.utterance_id, seg.index, seg.caption, seg.pcm, seg.sample_rate, seg.visemes)
        if seg.emotion is not None:
            self._moods[(seg.utterance_id, seg.index)] = (seg.emotion, seg.duration_s)
            while len(self._moods) > 256:  # segments skipped before they played
                self._moods.pop(next(iter(self._moods)))

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "vfx":
            self.state.effects.append(event)
            self.state.vfx_queue.append(event)
        elif kind == "overlay":
            self.state.actions.append(event)
            if event.get("name") == "stop":  # the bot skipped, muted or panicked
                self.clock.skip()
            elif event.get("name") == "captions":
                self.state.captions = not self.state.captions
        elif kind == "expression":
            self.express(str(event.get("name", "")), float(event.get("weight", 1.0)),
                         float(event.get("hold_s", 3.0)))
        elif kind == "speech.end" and event.get("cut"):
            log.info("overlay: the answer was cut: %s", event["cut"])

    def _show_mood(self, emotion: dict[str, Any], duration_s: float) -> None:
        """The answer's mood, as its segment starts: held while it plays, then ``hold_s``."""
        try:
            name = str(emotion["name"])
            weight = min(1.0, max(0.0, float(emotion.get("weight", 1.0))))
            hold = duration_s + min(60.0, max(0.0, float(emotion.get("hold_s", 3.0))))
        except (KeyError, TypeError, ValueError):
            log.warning("overlay: ignoring a malformed emotion %r", emotion)
            return
        self.express(name, weight, hold)

    def express(self, name: str, weight: float = 1.0, hold_s: float = 3.0) -> None:
        """Show an emotion now, faded in, held, faded out."""
        self.life.express(name, weight, time.perf_counter() - self._t0, hold_s)

    def _start_software_clock(self) -> None:
        if self._software is None:
            self._software = asyncio.get_running_loop().create_task(SoftwareClock(self.clock).run())

    # -- to the bot ------------------------------------------------------------------------

    async def hotkey(self, name: str, args: str = "") -> dict[str, Any] | None:
        """A hotkey acts like the chat command; skip and mute also silence this overlay now."""
        if name in ("skip", "mute"):
            self.clock.skip()
        return await self.link.command(name, args)

    # -- frames ----------------------------------------------------------------------------

    def frame(self) -> Frame:
        """Sample what the avatar shows now (called by the window once per frame)."""
        playing = self.clock.at(self.mouth.heard_sample())
        mouth = self.mouth.weights()
        now = time.perf_counter()
        life = self.life.frame(now - self._t0, mouth_energy(mouth))
        frame = Frame(now, mouth, playing.segment.caption if playing else "",
                      playing.viseme if playing else None, life)
        self.state.frames.append(frame)
        if self.on_frame is not None:
            self.on_frame(frame)
        return frame

    async def _frames(self) -> None:
        period = 1.0 / self.fps
        next_t = time.perf_counter()
        while True:
            if self.sample_frames:
                self.frame()
            for event, utterance_id, index in self.clock.events():
                mood = self._moods.pop((utterance_id, index), None)
                if mood is not None and event == "started":
                    self._show_mood(*mood)
                await self.link.playback(utterance_id, index, event)
            next_t += period
            await asyncio.sleep(max(0.0, next_t - time.perf_counter()))

    async def run(self) -> None:
        """Connect and keep going until cancelled (headless: frames are sampled, not drawn)."""
        if self.audio is None:
            self._start_software_clock()
        frames = asyncio.create_task(self._frames(), name="overlay-frames")
        try:
            await self.link.run()
        finally:
            frames.cancel()
            if self._software is not None:
                self._software.cancel()
            if self.audio is not None:
                self.audio.close()

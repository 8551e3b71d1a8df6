"""Idle life: what keeps an avatar from looking like a statue between words.

Blinks at random intervals (now and then twice), eye saccades to small random targets
(steadier, towards the camera, while speaking), breathing in the chest, a slow sway of
head and body that grows while speaking, and expressions that fade in, hold and fade
out. Everything is a pure function of the time it is asked about and a seeded random
generator, so a frame can be reproduced and tested.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np

# (x, y, z, w) quaternions, as glTF stores rotations
Quat = tuple[float, float, float, float]


def quat_from_euler(pitch_deg: float, yaw_deg: float, roll_deg: float) -> Quat:
    """Rotation about x (pitch), then y (yaw), then z (roll), in degrees."""
    p, y, r = (math.radians(a) / 2 for a in (pitch_deg, yaw_deg, roll_deg))
    cx, sx, cy, sy, cz, sz = math.cos(p), math.sin(p), math.cos(y), math.sin(y), math.cos(r), math.sin(r)
    return (sx * cy * cz - cx * sy * sz,
            cx * sy * cz + sx * cy * sz,
            cx * cy * sz - sx * sy * cz,
            cx * cy * cz + sx * sy * sz)


@dataclass(frozen=True)
class LifeSettings:
    blink_interval_s: float = 3.5  # mean time between blinks
    blink_jitter: float = 0.6  # share of the interval that varies at random
    blink_close_s: float = 0.06
    blink_hold_s: float = 0.03
    blink_open_s: float = 0.10
    double_blink_chance: float = 0.15
    saccade_interval_s: tuple[float, float] = (0.6, 2.8)
    saccade_range_deg: tuple[float, float] = (7.0, 4.0)  # yaw, pitch
    saccade_s: float = 0.05  # how long an eye jump takes
    breath_period_s: float = 4.2
    breath_deg: float = 1.2  # chest pitch at the top of a breath
    sway_deg: float = 1.5  # head sway while idle
    speaking_sway: float = 2.2  # how much more the head moves while speaking
    expression_fade_s: float = 0.25
    arms_down_deg: float = 68.0  # from the T-pose every VRM is modelled in, to a relaxed stance


@dataclass(frozen=True)
class LifeFrame:
    expressions: dict[str, float]  # blink and emotions (the mouth comes from lip sync)
    bones: dict[str, Quat]  # humanoid bone → rotation on top of the rest pose
    look_at: tuple[float, float]  # eye yaw, pitch in degrees


@dataclass
class _Held:
    name: str
    weight: float
    start: float
    end: float


@dataclass
class IdleLife:
    settings: LifeSettings = field(default_factory=LifeSettings)
    seed: int | None = None

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._next_blink = self._blink_gap(0.0)
        self._blink_at: float | None = None
        self._second_blink = False
        self._gaze = (0.0, 0.0)
        self._gaze_from = (0.0, 0.0)
        self._gaze_since = 0.0
        self._next_saccade = self.rng.uniform(*self.settings.saccade_interval_s)
        self._phase = [self.rng.uniform(0, 2 * math.pi) for _ in range(6)]
        self._held: list[_Held] = []
        self._talk = 0.0

    # -- control -------------------------------------------------------------------------

    def express(self, name: str, weight: float, now: float, hold_s: float = 3.0) -> None:
        """Show ``name`` at ``weight`` from ``now`` for ``hold_s`` seconds (fading in and out)."""
        self._held = [h for h in self._held if h.name != name]
        self._held.append(_Held(name, max(0.0, min(1.0, weight)), now, now + max(0.0, hold_s)))

    # -- one frame -----------------------------------------------------------------------

    def frame(self, now: float, speaking: float = 0.0) -> LifeFrame:
        """The life at time ``now`` (seconds, increasing); ``speaking`` is 0-1 mouth energy."""
        s = self.settings
        self._talk += (min(1.0, max(0.0, speaking)) - self._talk) * 0.15  # smoothed energy
        expressions = {"blink": self._blink(now)}
        for held in list(self._held):
            w = self._fade(held, now)
            if w <= 0.0 and now > held.end:
                self._held.remove(held)
                continue
            expressions[held.name] = max(expressions.get(held.name, 0.0), w)
        gaze = self._saccade(now)
        breath = math.sin(2 * math.pi * now / s.breath_period_s + self._phase[0])
        amp = s.sway_deg * (1.0 + s.speaking_sway * self._talk)
        head = (self._wave(now, 0.23, 1) * amp * 0.6 + self._talk * 1.5 * self._wave(now, 1.7, 4),
                self._wave(now, 0.17, 2) * amp,
                self._wave(now, 0.11, 3) * amp * 0.5)
        bones = {
            "chest": quat_from_euler(-s.breath_deg * (0.5 + 0.5 * breath), 0.0, 0.0),
            "spine": quat_from_euler(0.0, self._wave(now, 0.07, 5) * amp * 0.4, self._wave(now, 0.09, 1) * amp * 0.3),
            "neck": quat_from_euler(head[0] * 0.4, head[1] * 0.4, head[2] * 0.4),
            "head": quat_from_euler(head[0] * 0.6, head[1] * 0.6, head[2] * 0.6),
        }
        arm = s.arms_down_deg + breath * 0.8 + self._wave(now, 0.13, 2) * amp * 0.5
        bones["leftUpperArm"] = quat_from_euler(0.0, 0.0, -arm)
        bones["rightUpperArm"] = quat_from_euler(0.0, 0.0, arm)
        bones["leftLowerArm"] = quat_from_euler(0.0, -8.0, 0.0)
        bones["rightLowerArm"] = quat_from_euler(0.0, 8.0, 0.0)
        return LifeFrame(expressions, bones, gaze)

    def _wave(self, t: float, hz: float, k: int) -> float:
        """Smooth pseudo-noise in -1..1: two sines at unrelated rates."""
        return 0.6 * math.sin(2 * math.pi * hz * t + self._phase[k]) + \
            0.4 * math.sin(2 * math.pi * hz * 2.63 * t + self._phase[(k + 2) % 6])

    def _blink_gap(self, now: float) -> float:
        s = self.settings
        jitter = s.blink_interval_s * s.blink_jitter
        return now + max(0.8, self.rng.uniform(s.blink_interval_s - jitter, s.blink_interval_s + jitter))

    def _blink(self, now: float) -> float:
        s = self.settings
        if self._blink_at is None and now >= self._next_blink:
            self._blink_at = now
        if self._blink_at is None:
            return 0.0
        t = now - self._blink_at
        total = s.blink_close_s + s.blink_hold_s + s.blink_open_s
        if t >= total:
            self._blink_at = None
            if not self._second_blink and self.rng.random() < s.double_blink_chance:
                self._second_blink = True
                self._next_blink = now + 0.12
            else:
                self._second_blink = False
                self._next_blink = self._blink_gap(now)
            return 0.0
        if t < s.blink_close_s:
            return _ease(t / s.blink_close_s)
        if t < s.blink_close_s + s.blink_hold_s:
            return 1.0
        return 1.0 - _ease((t - s.blink_close_s - s.blink_hold_s) / s.blink_open_s)

    def _saccade(self, now: float) -> tuple[float, float]:
        s = self.settings
        if now >= self._next_saccade:
            yaw_r, pitch_r = s.saccade_range_deg
            focus = 1.0 - 0.7 * self._talk  # while speaking, the eyes stay near the camera
            self._gaze_from = self._current_gaze(now)
            self._gaze = (self.rng.uniform(-yaw_r, yaw_r) * focus, self.rng.uniform(-pitch_r, pitch_r) * focus)
            self._gaze_since = now
            lo, hi = s.saccade_interval_s
            self._next_saccade = now + self.rng.uniform(lo, hi) * (0.7 if self._talk > 0.3 else 1.0)
        return self._current_gaze(now)

    def _current_gaze(self, now: float) -> tuple[float, float]:
        k = min(1.0, (now - self._gaze_since) / self.settings.saccade_s)
        k = _ease(k)
        return (self._gaze_from[0] + (self._gaze[0] - self._gaze_from[0]) * k,
                self._gaze_from[1] + (self._gaze[1] - self._gaze_from[1]) * k)

    def _fade(self, held: _Held, now: float) -> float:
        fade = self.settings.expression_fade_s
        if now < held.start:
            return 0.0
        rise = min(1.0, (now - held.start) / fade) if fade > 0 else 1.0
        fall = 1.0 if now <= held.end else max(0.0, 1.0 - (now - held.end) / fade) if fade > 0 else 0.0
        return held.weight * _ease(rise) * _ease(fall)


def _ease(x: float) -> float:
    """Smoothstep: starts and ends at rest."""
    x = min(1.0, max(0.0, x))
    return x * x * (3 - 2 * x)


def mouth_energy(mouth: dict[str, float]) -> float:
    """How open the mouth is overall (0-1), to drive speaking motion."""
    return float(min(1.0, np.sum(list(mouth.values())))) if mouth else 0.0

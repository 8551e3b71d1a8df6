"""What each effect emits, and when. An effect is a little script over time that
adds batches to a `Particles` pool; it is done when it has nothing left to emit.

Requests arrive from the link as ``{"type": "vfx", "name": ..., "params": {...}}``
with optional ``intensity`` (0.1-5, e.g. scaled with a donation's amount) and
``colors`` (a list of "#rrggbb"): `parse_request` checks them and says what is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .particles import FADE_OUT, GLOW, HEART, LATE_FADE, RECT, STAR, TWINKLE, Batch, Particles

MIN_INTENSITY, MAX_INTENSITY = 0.1, 5.0

FIREWORK_COLORS = ("#ff4d6d", "#ffd166", "#06d6a0", "#4cc9f0", "#b388ff", "#ff9f1c", "#ffffff")
CONFETTI_COLORS = ("#ff595e", "#ffca3a", "#8ac926", "#1982c4", "#6a4c93", "#ff7eb6", "#ffffff")
HEART_COLORS = ("#ff4d6d", "#ff758f", "#ff8fab", "#e63946", "#ffb3c6")
SPARKLE_COLORS = ("#fff3b0", "#ffe066", "#ffffff", "#bde0fe")
RAIN_COLORS = ("#a9d6ff", "#d7ecff", "#8fb8de")


def rgba(hex_colour: str) -> np.ndarray:
    h = hex_colour.strip().lstrip("#")
    if len(h) != 6 or any(c not in "0123456789abcdefABCDEF" for c in h):
        raise ValueError(f"{hex_colour!r} is not a #rrggbb colour")
    return np.array([int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)] + [1.0])


@dataclass(frozen=True)
class VfxRequest:
    kind: str
    intensity: float = 1.0
    colors: tuple[str, ...] = ()


def parse_request(event: dict[str, Any]) -> VfxRequest:
    """A link `vfx` event as a request; ValueError names what is wrong with it."""
    kind = str(event.get("name", "")).strip().lower()
    if kind not in EFFECTS:
        raise ValueError(f"unknown effect {kind!r}; known: {', '.join(EFFECTS)}")
    params = event.get("params") or {}
    if not isinstance(params, dict):
        raise ValueError("params must be an object")
    try:
        intensity = float(params.get("intensity", 1.0))
    except (TypeError, ValueError):
        raise ValueError(f"intensity must be a number, not {params.get('intensity')!r}") from None
    if not math.isfinite(intensity):
        raise ValueError("intensity must be finite")
    colors = params.get("colors") or ()
    if isinstance(colors, str):
        colors = [colors]
    if not isinstance(colors, (list, tuple)) or len(colors) > 16:
        raise ValueError("colors must be a list of at most 16 #rrggbb strings")
    for c in colors:
        rgba(str(c))
    return VfxRequest(kind, min(MAX_INTENSITY, max(MIN_INTENSITY, intensity)), tuple(str(c) for c in colors))


def _palette(req: VfxRequest, default: Sequence[str]) -> np.ndarray:
    return np.stack([rgba(c) for c in (req.colors or default)])


@dataclass
class Effect:
    """Base: `update` emits what is due at time `t` (seconds since the start).

    `LAYER` says whether the effect is drawn behind the avatar ("back": it never
    hides her face) or in front of her ("front").
    """

    LAYER = "front"
    req: VfxRequest
    aspect: float
    rng: np.random.Generator
    t: float = 0.0
    done: bool = False

    def update(self, dt: float, pool: Particles) -> None:
        self.t += dt
        self.emit(pool)

    def emit(self, pool: Particles) -> None:
        raise NotImplementedError


@dataclass
class _Rocket:
    launch: float
    x0: float
    vx: float
    vy: float
    burst_at: float
    colors: np.ndarray
    pattern: str
    burst: bool = False


ROCKET_GRAVITY = 0.9


@dataclass
class Fireworks(Effect):
    """Rockets climb from the bottom with a sparkling trail and burst into peonies,
    rings or golden willows, behind the avatar; more intensity, more and bigger bursts."""

    LAYER = "back"

    rockets: list[_Rocket] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = int(np.clip(round(2 + 2.5 * self.req.intensity), 1, 14))
        palette = _palette(self.req, FIREWORK_COLORS)
        spread = min(3.0, 0.35 * n)
        for i in range(n):
            height = self.rng.uniform(0.55, 0.85)
            vy = math.sqrt(2 * ROCKET_GRAVITY * height)
            pick = self.rng.choice(len(palette), size=2)
            self.rockets.append(_Rocket(
                launch=0.0 if i == 0 else self.rng.uniform(0, spread),
                x0=self.rng.uniform(0.2, 0.8) * self.aspect,
                vx=self.rng.uniform(-0.04, 0.04), vy=vy, burst_at=vy / ROCKET_GRAVITY,
                colors=palette[pick], pattern=str(self.rng.choice(["peony", "peony", "ring", "willow"]))))

    def _where(self, r: _Rocket, t: float) -> tuple[float, float]:
        return r.x0 + r.vx * t, r.vy * t - ROCKET_GRAVITY * t * t / 2

    def emit(self, pool: Particles) -> None:
        waiting = False
        for r in self.rockets:
            t = self.t - r.launch
            if r.burst or t < 0:
                waiting |= not r.burst
                continue
            if t < r.burst_at:  # climbing: a bright head and a trail of embers
                waiting = True
                x, y = self._where(r, t)
                k = 3
                pos = np.array([x, y]) + self.rng.normal(0, 0.003, (k, 2))
                pool.add(Batch(pos=pos, vel=self.rng.normal([0, -0.05], 0.04, (k, 2)),
                               life=self.rng.uniform(0.25, 0.5, k), size=0.012,
                               color=np.array([1.0, 0.85, 0.6, 0.9]), gravity=0.3, shrink=0.6))
                pool.add(Batch(pos=np.array([[x, y]]), vel=np.array([[r.vx, r.vy - ROCKET_GRAVITY * t]]),
                               life=0.05, size=0.02, color=np.array([1.0, 0.95, 0.85, 1.0])))
                continue
            r.burst = True
            self._burst(pool, *self._where(r, r.burst_at), r)
        self.done = not waiting

    def _burst(self, pool: Particles, x: float, y: float, r: _Rocket) -> None:
        scale = math.sqrt(self.req.intensity)
        n = int(np.clip(150 * scale, 70, 320))
        angle = self.rng.uniform(0, 2 * math.pi, n)
        if r.pattern == "ring":
            speed = np.full(n, 0.6 * min(1.5, scale ** 0.5)) * self.rng.uniform(0.95, 1.05, n)
        else:  # a sphere seen from the front: more sparks near the rim
            speed = 0.62 * min(1.5, scale ** 0.5) * self.rng.uniform(0.05, 1.0, n) ** 0.25
        vel = np.c_[np.cos(angle), np.sin(angle)] * speed[:, None]
        colours = r.colors[self.rng.integers(0, len(r.colors), n)]
        willow = r.pattern == "willow"
        if willow:
            colours = np.tile(np.array([1.0, 0.78, 0.35, 1.0]), (n, 1))
        pool.add(Batch(pos=np.tile([x, y], (n, 1)), vel=vel,
                       life=self.rng.uniform(2.0, 2.8, n) if willow else self.rng.uniform(1.0, 1.7, n),
                       size=self.rng.uniform(0.015, 0.024, n), color=colours,
                       gravity=0.35 if willow else 0.22, drag=2.0 if willow else 1.6,
                       flicker=0.9 if willow else 0.6, shrink=0.5, streak=0.12 if willow else 0.07))
        pool.add(Batch(pos=np.array([[x, y]]), vel=np.zeros((1, 2)), life=0.18, size=0.22 * scale ** 0.5,
                       color=np.r_[r.colors[0][:3] * 0.5 + 0.5, 0.7]))  # the flash


@dataclass
class _Stream(Effect):
    """Emits `total` particles evenly over `DURATION` seconds."""

    DURATION = 1.0
    sent: int = 0

    def total(self) -> int:
        raise NotImplementedError

    def make(self, n: int) -> Batch:
        raise NotImplementedError

    def emit(self, pool: Particles) -> None:
        due = int(self.total() * min(1.0, self.t / self.DURATION)) - self.sent
        if due > 0:
            self.sent += due
            pool.add(self.make(due))
        self.done = self.t >= self.DURATION

    def colours(self, default: Sequence[str], n: int) -> np.ndarray:
        palette = _palette(self.req, default)
        return palette[self.rng.integers(0, len(palette), n)]


@dataclass
class Confetti(_Stream):
    """Paper pieces rain from the top edge, tumbling and swaying as they fall."""

    DURATION = 1.4

    def total(self) -> int:
        return int(np.clip(140 * self.req.intensity, 20, 900))

    def make(self, n: int) -> Batch:
        u = self.rng.uniform
        return Batch(pos=np.c_[u(0, self.aspect, n), u(1.0, 1.08, n)],
                     vel=np.c_[self.rng.normal(0, 0.08, n), u(-0.25, -0.1, n)],
                     life=u(3.5, 5.0, n), size=u(0.018, 0.03, n), color=self.colours(CONFETTI_COLORS, n),
                     shape=RECT, fade=LATE_FADE, gravity=0.25, drag=1.4, spin=u(-8, 8, n),
                     angle=u(0, math.pi, n), wobble=u(0.01, 0.03, n))


@dataclass
class Hearts(_Stream):
    """Hearts float up from the lower middle, swaying, and fade near the top."""

    DURATION = 2.0

    def total(self) -> int:
        return int(np.clip(18 * self.req.intensity, 4, 120))

    def make(self, n: int) -> Batch:
        u = self.rng.uniform
        return Batch(pos=np.c_[self.aspect * self.rng.normal(0.5, 0.15, n), u(0.05, 0.3, n)],
                     vel=np.c_[self.rng.normal(0, 0.03, n), u(0.15, 0.28, n)],
                     life=u(2.5, 3.5, n), size=u(0.045, 0.075, n), color=self.colours(HEART_COLORS, n),
                     shape=HEART, fade=FADE_OUT, gravity=-0.02, drag=0.2, angle=self.rng.normal(0, 0.2, n),
                     wobble=u(0.01, 0.025, n))


@dataclass
class Sparkles(_Stream):
    """Four-pointed stars twinkle in and out around the middle of the window."""

    DURATION = 1.6

    def total(self) -> int:
        return int(np.clip(50 * self.req.intensity, 10, 300))

    def make(self, n: int) -> Batch:
        u = self.rng.uniform
        return Batch(pos=np.c_[self.aspect * u(0.1, 0.9, n), u(0.2, 0.9, n)],
                     vel=np.c_[np.zeros(n), u(0.0, 0.03, n)], life=u(0.6, 1.2, n), size=u(0.035, 0.07, n),
                     color=self.colours(SPARKLE_COLORS, n), shape=STAR, fade=TWINKLE, spin=u(-1.5, 1.5, n))


@dataclass
class Rain(_Stream):
    """A short shower: thin streaks slanting down across the window, in front of her."""

    DURATION = 3.0

    def total(self) -> int:
        return int(np.clip(260 * self.req.intensity, 40, 1500))

    def make(self, n: int) -> Batch:
        u = self.rng.uniform
        speed = u(1.4, 2.0, n)
        return Batch(pos=np.c_[u(-0.1, self.aspect + 0.1, n), u(1.0, 1.15, n)],
                     vel=np.c_[-0.12 * speed, -speed], life=u(0.7, 0.9, n), size=u(0.004, 0.006, n),
                     color=self.colours(RAIN_COLORS, n) * [1, 1, 1, 0.75], fade=LATE_FADE, streak=0.04)


EFFECTS: dict[str, Callable[..., Effect]] = {
    "fireworks": Fireworks, "confetti": Confetti, "hearts": Hearts, "sparkles": Sparkles, "rain": Rain,
}

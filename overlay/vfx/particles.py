"""A pool of 2D particles as numpy arrays: spawn in batches, step, read out for drawing.

Positions are in *stage units*: y from 0 (bottom of the window) to 1 (top), x
from 0 to the window's aspect ratio, so a burst stays round in any window shape.
Sizes are fractions of the window height. Colours are straight (not
premultiplied) RGBA in 0..1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_PARTICLES = 12_000  # an upper bound on work per frame, whatever chat asks for

GLOW, RECT, HEART, STAR = 0, 1, 2, 3  # shapes the point shader draws
FADE_OUT, TWINKLE, LATE_FADE = 0, 1, 2  # how alpha follows age


@dataclass
class Batch:
    """New particles; every array has the same length n (scalars broadcast)."""

    pos: np.ndarray  # (n, 2)
    vel: np.ndarray  # (n, 2) stage units per second
    life: np.ndarray | float  # seconds
    size: np.ndarray | float
    color: np.ndarray  # (n, 4) or (4,)
    shape: int = GLOW
    fade: int = FADE_OUT
    gravity: np.ndarray | float = 0.0  # stage units / s^2, downwards (negative floats up)
    drag: np.ndarray | float = 0.0  # 1/s, exponential slowing
    spin: np.ndarray | float = 0.0  # radians / s
    angle: np.ndarray | float = 0.0
    wobble: np.ndarray | float = 0.0  # sideways sway amplitude (confetti, hearts)
    flicker: np.ndarray | float = 0.0  # 0..1: how much brightness crackles near the end
    shrink: np.ndarray | float = 0.0  # 0..1: size lost by the end of life
    streak: np.ndarray | float = 0.0  # seconds of motion drawn as a streak behind a spark

    def __len__(self) -> int:
        return len(self.pos)


_FIELDS = {  # name -> columns
    "pos": 2, "vel": 2, "age": 1, "life": 1, "size": 1, "color": 4, "shape": 1, "fade": 1,
    "gravity": 1, "drag": 1, "spin": 1, "angle": 1, "wobble": 1, "phase": 1, "flicker": 1, "shrink": 1,
    "streak": 1,
}


class Particles:
    """Struct-of-arrays particle pool with a fixed capacity; dead particles are compacted."""

    def __init__(self, capacity: int = MAX_PARTICLES, seed: int | None = None) -> None:
        self.capacity = capacity
        self.count = 0
        self.dropped = 0  # particles refused because the pool was full
        self.rng = np.random.default_rng(seed)
        self._a = {name: np.zeros((capacity, cols) if cols > 1 else capacity, dtype=np.float64)
                   for name, cols in _FIELDS.items()}

    def live(self, name: str) -> np.ndarray:
        """A view of one field for the living particles (e.g. "pos", "color", "age")."""
        return self._a[name][: self.count]

    def add(self, batch: Batch) -> int:
        """Append what fits; returns how many were added."""
        n = min(len(batch), self.capacity - self.count)
        self.dropped += len(batch) - n
        if n <= 0:
            return 0
        s = slice(self.count, self.count + n)
        a = self._a
        a["pos"][s] = batch.pos[:n]
        a["vel"][s] = batch.vel[:n]
        a["age"][s] = 0.0
        a["color"][s] = np.broadcast_to(batch.color, (len(batch), 4))[:n]
        a["phase"][s] = self.rng.uniform(0, 2 * np.pi, n)
        for name in ("life", "size", "shape", "fade", "gravity", "drag", "spin", "angle", "wobble",
                     "flicker", "shrink", "streak"):
            a[name][s] = np.broadcast_to(np.asarray(getattr(batch, name), dtype=np.float64),
                                         (len(batch),))[:n]
        self.count += n
        return n

    def step(self, dt: float) -> None:
        """Advance every particle by dt seconds and drop the ones whose life is over."""
        n = self.count
        if not n or dt <= 0:
            return
        a = self._a
        age, vel, pos = a["age"][:n], a["vel"][:n], a["pos"][:n]
        age += dt
        vel[:, 1] -= a["gravity"][:n] * dt
        vel *= np.exp(-a["drag"][:n] * dt)[:, None]
        pos += vel * dt
        a["angle"][:n] += a["spin"][:n] * dt
        alive = age < a["life"][:n]
        if not alive.all():
            keep = np.flatnonzero(alive)
            for arr in a.values():
                arr[: len(keep)] = arr[keep]
            self.count = len(keep)

    def clear(self) -> None:
        self.count = 0

    def vertices(self) -> np.ndarray:
        """(n, 10) float32 rows for the point shader: x, y, size, r, g, b, a, shape, angle,
        stretch. A streaking spark turns along its velocity and is drawn `stretch`
        times longer than wide (size is then its length)."""
        n = self.count
        out = np.zeros((n, 10), dtype=np.float32)
        if not n:
            return out
        a = self._a
        x = a["age"][:n] / np.maximum(a["life"][:n], 1e-6)
        fade = a["fade"][:n]
        alpha = np.where(fade == TWINKLE, np.sin(np.pi * np.clip(x, 0, 1)),
                         np.where(fade == LATE_FADE, np.clip((1 - x) / 0.2, 0, 1), 1 - x * x))
        flicker = a["flicker"][:n]
        if flicker.any():  # crackle: sparks near the end of their life blink at random
            late = np.clip((x - 0.5) * 2, 0, 1) * flicker
            alpha *= 1 - late * self.rng.random(n)
        sway = a["wobble"][:n] * np.sin(a["age"][:n] * 3.0 + a["phase"][:n])
        out[:, 0] = a["pos"][:n, 0] + sway
        out[:, 1] = a["pos"][:n, 1]
        size = a["size"][:n] * (1 - a["shrink"][:n] * x)
        out[:, 3:6] = a["color"][:n, :3]
        out[:, 6] = a["color"][:n, 3] * alpha
        out[:, 7] = a["shape"][:n]
        out[:, 8] = a["angle"][:n]
        out[:, 9] = 1.0
        streak = a["streak"][:n]
        moving = np.flatnonzero(streak > 0)
        if len(moving):
            vel = a["vel"][moving]
            speed = np.hypot(vel[:, 0], vel[:, 1])
            stretch = np.clip(1 + speed * streak[moving] / np.maximum(size[moving], 1e-6), 1, 14)
            out[moving, 8] = np.arctan2(vel[:, 1], vel[:, 0])
            out[moving, 9] = stretch
            size[moving] *= stretch
        out[:, 2] = size
        return out

"""A pool of 2D particles whose motion is a closed-form function of their age.

Each particle is written once, when it is born: where, how fast, its colour, shape,
life, gravity, drag, spin, sway, flicker. From then on its position, velocity,
angle, size and alpha at any moment follow from its age alone (ballistic flight
with exponential drag has an exact solution), so the GPU computes every frame in
the vertex shader (`gl_points.py`) and the CPU only writes newborns and advances
a clock: no per-particle work per frame. `state_at_now` does the same arithmetic
in numpy, for tests and for anyone without a GPU.

Units: positions in *stage units*, y from 0 (bottom of the window) to 1 (top), x
from 0 to the window's aspect ratio, so a burst stays round in any window shape.
Sizes are fractions of the window height; colours straight RGBA in 0..1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_PARTICLES = 12_000  # an upper bound on work per frame, whatever chat asks for

GLOW, RECT, HEART, STAR = 0, 1, 2, 3  # shapes the shader draws
FADE_OUT, TWINKLE, LATE_FADE = 0, 1, 2  # how alpha follows age

# One particle's record, as uploaded to the GPU (float32 columns).
FIELDS = ("x", "y", "vx", "vy", "birth", "life", "size", "r", "g", "b", "a", "shape", "fade", "gravity",
          "drag", "spin", "angle", "wobble", "phase", "flicker", "shrink", "streak", "slot", "pad")
COL = {name: i for i, name in enumerate(FIELDS)}
WIDTH = len(FIELDS)  # 24 floats, 96 bytes
MAX_STRETCH = 14.0


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


def flicker_noise(slot: np.ndarray, time: float) -> np.ndarray:
    """Per-particle noise in [0, 1) that changes 30 times a second; the shader's twin."""
    tick = np.floor(np.float32(time) * np.float32(30.0))
    v = np.sin(slot.astype(np.float32) * np.float32(12.9898) + tick * np.float32(78.233)) * np.float32(43758.547)
    return v - np.floor(v)


class Particles:
    """Fixed slots; a newborn takes a free (dead) slot, and is refused when none is."""

    def __init__(self, capacity: int = MAX_PARTICLES, seed: int | None = None) -> None:
        self.capacity = capacity
        self.rng = np.random.default_rng(seed)
        self.rec = np.zeros((capacity, WIDTH), dtype=np.float32)
        self.rec[:, COL["slot"]] = np.arange(capacity)
        self.rec[:, COL["birth"]] = -1e9  # long dead
        self.time = 0.0
        self.dropped = 0  # particles refused because the pool was full
        self.high = 0  # slots [0, high) have ever been used: what the GPU draws
        self.version = 0  # grows with every write, so a renderer knows to upload
        self._dirty: tuple[int, int] | None = None  # slot range written since the last upload

    # -- birth and time ----------------------------------------------------------------

    def _alive_mask(self) -> np.ndarray:
        age = self.time - self.rec[:, COL["birth"]]
        return (age >= 0) & (age < self.rec[:, COL["life"]])

    @property
    def count(self) -> int:
        return int(self._alive_mask()[: self.high].sum())

    def add(self, batch: Batch) -> int:
        """Give each newborn a free slot; returns how many got one."""
        if len(batch) == 0:
            return 0
        free = np.flatnonzero(~self._alive_mask())  # lowest first: keeps `high`, what is drawn, small
        n = min(len(batch), len(free))
        self.dropped += len(batch) - n
        if n == 0:
            return 0
        slots = free[:n]
        rec = self.rec
        c = COL
        rec[slots, c["x"]], rec[slots, c["y"]] = batch.pos[:n, 0], batch.pos[:n, 1]
        rec[slots, c["vx"]], rec[slots, c["vy"]] = batch.vel[:n, 0], batch.vel[:n, 1]
        rec[slots, c["birth"]] = self.time
        rec[slots, c["r"]:c["a"] + 1] = np.broadcast_to(batch.color, (len(batch), 4))[:n]
        rec[slots, c["phase"]] = self.rng.uniform(0, 2 * np.pi, n)
        for name in ("life", "size", "shape", "fade", "gravity", "drag", "spin", "angle", "wobble", "flicker",
                     "shrink", "streak"):
            rec[slots, c[name]] = np.broadcast_to(np.asarray(getattr(batch, name), dtype=np.float32),
                                                  (len(batch),))[:n]
        lo, hi = int(slots.min()), int(slots.max()) + 1
        self._dirty = (lo, hi) if self._dirty is None else (min(lo, self._dirty[0]), max(hi, self._dirty[1]))
        self.high = max(self.high, hi)
        self.version += 1
        return n

    def step(self, dt: float) -> None:
        """Advance the clock; the drawn range shrinks to the last living particle, and a
        pool that has emptied starts its clock again at 0 (the shader's float32 time
        stays precise over a whole stream)."""
        if dt > 0:
            self.time += dt
        if not self.high:
            return
        alive = np.flatnonzero(self._alive_mask()[: self.high])
        if not len(alive):
            self.clear()
        else:
            self.high = int(alive[-1]) + 1

    def clear(self) -> None:
        self.rec[:, COL["birth"]] = -1e9
        self.time = 0.0
        self.high = 0
        self._dirty = (0, self.capacity)
        self.version += 1

    def take_dirty(self) -> tuple[int, int] | None:
        """The slot range written since the last call (for the GPU upload)."""
        dirty, self._dirty = self._dirty, None
        return dirty

    # -- the state now (numpy; the shader computes the same) ----------------------------

    def state_at_now(self) -> dict[str, np.ndarray]:
        """Every living particle's position, velocity, angle, age, size and alpha now."""
        alive = np.flatnonzero(self._alive_mask()[: self.high])
        r = self.rec[alive].astype(np.float64)
        c = COL
        age = self.time - r[:, c["birth"]]
        k, g = r[:, c["drag"]], r[:, c["gravity"]]
        e = np.exp(-k * age)
        small = k < 1e-6
        ks = np.where(small, 1.0, k)
        reach = np.where(small, age, (1 - e) / ks)  # ∫ e^{-k t}
        fall = np.where(small, age * age / 2, (age - reach) / ks)  # ∫∫ of gravity's pull
        vx, vy = r[:, c["vx"]], r[:, c["vy"]]
        pos = np.c_[r[:, c["x"]] + vx * reach, r[:, c["y"]] + vy * reach - g * fall]
        vel = np.c_[vx * e, vy * e - g * reach]
        x = age / np.maximum(r[:, c["life"]], 1e-6)
        fade = r[:, c["fade"]]
        alpha = np.where(fade == TWINKLE, np.sin(np.pi * np.clip(x, 0, 1)),
                         np.where(fade == LATE_FADE, np.clip((1 - x) / 0.2, 0, 1), 1 - x * x))
        late = np.clip((x - 0.5) * 2, 0, 1) * r[:, c["flicker"]]
        alpha = alpha * (1 - late * flicker_noise(r[:, c["slot"]], self.time))
        pos[:, 0] += r[:, c["wobble"]] * np.sin(age * 3.0 + r[:, c["phase"]])
        size = r[:, c["size"]] * (1 - r[:, c["shrink"]] * x)
        angle = r[:, c["angle"]] + r[:, c["spin"]] * age
        stretch = np.ones(len(r))
        streaking = r[:, c["streak"]] > 0
        if streaking.any():
            speed = np.hypot(vel[:, 0], vel[:, 1])
            stretch = np.where(streaking, np.clip(1 + speed * r[:, c["streak"]] / np.maximum(size, 1e-6), 1,
                                                  MAX_STRETCH), 1.0)
            angle = np.where(streaking, np.arctan2(vel[:, 1], vel[:, 0]), angle)
        return {"slot": alive, "pos": pos, "vel": vel, "age": age, "angle": angle, "size": size * stretch,
                "stretch": stretch, "alpha": r[:, c["a"]] * alpha, "color": r[:, c["r"]:c["a"] + 1],
                "shape": r[:, c["shape"]]}

    def live(self, name: str) -> np.ndarray:
        """One quantity for the living particles: a state (pos, vel, age, angle, size,
        alpha) or a field of their record (shape, life, ...); color is RGBA."""
        state = self.state_at_now()
        if name in state:
            return state[name]
        return self.rec[state["slot"], COL[name]]

    def vertices(self) -> np.ndarray:
        """(n, 10) float32: x, y, size, r, g, b, a, shape, angle, stretch, for the living
        particles now: what the shader draws, computed on the CPU."""
        s = self.state_at_now()
        out = np.zeros((len(s["slot"]), 10), dtype=np.float32)
        out[:, 0:2] = s["pos"]
        out[:, 2] = s["size"]
        out[:, 3:6] = s["color"][:, :3]
        out[:, 6] = s["alpha"]
        out[:, 7] = s["shape"]
        out[:, 8] = s["angle"]
        out[:, 9] = s["stretch"]
        return out

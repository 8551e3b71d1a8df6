"""Turns `vfx` link events into running effects and steps them with the particles.

Many alerts at once are fine: effects run side by side, and the pool's capacity
bounds the work per frame (what does not fit is dropped and counted).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from .effects import EFFECTS, Effect, VfxRequest, parse_request
from .particles import MAX_PARTICLES, Particles

log = logging.getLogger(__name__)

MAX_RUNNING = 24  # effects emitting at once; older ones are finished early
MAX_STEP_S = 0.1  # a stalled frame does not teleport the particles


LAYERS = ("back", "front")  # drawn behind the avatar, and in front of her
ADDITIVE = {"back": True, "front": False}  # fireworks light up; confetti and hearts are solid


class VfxPlayer:
    def __init__(self, *, seed: int | None = None, capacity: int = MAX_PARTICLES) -> None:
        self.rng = np.random.default_rng(seed)
        self.layers = {name: Particles(capacity // len(LAYERS), seed=None if seed is None else seed + i)
                       for i, name in enumerate(LAYERS, 1)}
        self.running: list[Effect] = []
        self.started: list[str] = []  # kinds started, newest last (shown by tests and logs)
        self.aspect = 1.0

    def play(self, event: dict[str, Any]) -> VfxRequest | None:
        """Start the effect a link event asks for; a bad request is logged and ignored."""
        try:
            req = parse_request(event)
        except ValueError as e:
            log.warning("overlay: vfx ignored: %s", e)
            return None
        if len(self.running) >= MAX_RUNNING:
            self.running.pop(0)
        self.running.append(EFFECTS[req.kind](req, self.aspect, self.rng))
        self.started.append(req.kind)
        del self.started[:-100]
        return req

    def step(self, dt: float, aspect: float) -> None:
        """Advance by dt seconds in a window of this width/height ratio."""
        self.aspect = aspect
        dt = min(max(dt, 0.0), MAX_STEP_S)
        for pool in self.layers.values():
            pool.step(dt)
        for effect in self.running:
            effect.update(dt, self.layers[effect.LAYER])
        self.running = [e for e in self.running if not e.done]

    @property
    def count(self) -> int:
        """Living particles, all layers."""
        return sum(p.count for p in self.layers.values())

    @property
    def active(self) -> bool:
        return bool(self.running or self.count)

    def clear(self) -> None:
        self.running.clear()
        for pool in self.layers.values():
            pool.clear()

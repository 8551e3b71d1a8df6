"""Visual effects drawn over the avatar: fireworks, confetti, hearts, sparkles.

`particles` simulates, `effects` decides what each effect emits and when,
`player` turns link events into running effects, `gl_points` draws the result.
"""

from .effects import EFFECTS, VfxRequest, parse_request
from .particles import Particles
from .player import VfxPlayer

__all__ = ["EFFECTS", "Particles", "VfxPlayer", "VfxRequest", "parse_request"]

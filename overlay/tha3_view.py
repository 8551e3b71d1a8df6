"""THA3 in the overlay window: the animator turns each frame (mouth, blinks, gaze,
sway, emotions) into THA3's pose, the frame worker runs the neural poser beside the
window at a capped rate, and the newest frame is drawn as a texture.

Loading happens in the worker (torch and the weights take seconds); if anything is
missing (torch, the weights, the image) the window hears why and falls back to the
default VRM avatar.
"""

from __future__ import annotations

import logging
from typing import Any

from avatar.tha3.animator import Tha3Animator
from avatar.tha3.loader import load_poser

from .core import Frame
from .frame_worker import FrameWorker, Render

log = logging.getLogger(__name__)


def load_render(cfg: Any) -> Render:
    """The poser for `cfg` (an avatar.tha3 config section), ready to render poses."""
    poser = load_poser(cfg.image, cfg.variant, cfg.weights, cfg.device, for_rendering_loop=True)
    return poser.render


class Tha3View:
    def __init__(self, cfg: Any):
        self.animator = Tha3Animator(cfg.emotions)
        self.worker = FrameWorker(lambda: load_render(cfg), fps=cfg.fps, name="tha3-frames")
        self.quad: Any = None  # made in the GL context, on the first frame
        self._shown = 0

    def start(self) -> None:
        self.worker.start()

    @property
    def failed(self) -> str | None:
        """Why the avatar cannot be shown (load failed), else None."""
        if self.worker.ready.is_set() and self.worker.latest() is None and self.worker.error:
            return self.worker.error
        return None

    def draw(self, frame: Frame, width: int, height: int) -> None:
        """Hand the worker this frame's pose; draw the newest rendered frame."""
        self.worker.submit(self.animator.pose(frame.life, frame.mouth).values)
        latest = self.worker.latest()
        if latest is None:
            return  # still loading or rendering the first frame: nothing yet
        if self.quad is None:
            from .texture_quad import TextureQuad

            self.quad = TextureQuad()
        if latest.seq != self._shown:
            self.quad.upload(latest.rgba)
            self._shown = latest.seq
        self.quad.draw(width, height)

    def close(self) -> None:
        """Stop the worker; call with the GL context current (the texture goes too)."""
        self.worker.stop()
        if self.quad is not None:
            self.quad.close()
            self.quad = None

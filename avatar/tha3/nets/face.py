"""The face morpher: eyes, irises and mouth of the 192x192 face area from 27 pose values.

It warps the area (iris and mouth movement), paints a colour change over it, then paints
the eyes (blinks, winks) over that.
"""

from __future__ import annotations

from torch import Tensor, nn

from avatar.tha3.nets.blocks import head, run_heads
from avatar.tha3.nets.bodies import PoserEncoderDecoder
from avatar.tha3.nets.eyebrow import blend
from avatar.tha3.nets.warp import GridWarp


class FaceMorpher(nn.Module):
    def __init__(self, body: PoserEncoderDecoder, start: int, channels: int = 4):
        super().__init__()
        self.body = body
        self.iris_mouth_grid_change = head(start, 2, None)
        self.iris_mouth_color_change = head(start, channels, nn.Tanh)
        self.iris_mouth_alpha = head(start, 1, nn.Sigmoid)
        self.eye_color_change = head(start, channels, nn.Tanh)
        self.eye_alpha = head(start, 1, nn.Sigmoid)
        self._warp = GridWarp()

    def forward(self, image: Tensor, pose: Tensor) -> Tensor:
        feature = self.body(image, pose)
        grid_change, color, alpha, eye_color, eye_alpha = run_heads(feature, [
            self.iris_mouth_grid_change, self.iris_mouth_color_change, self.iris_mouth_alpha,
            self.eye_color_change, self.eye_alpha])
        iris_mouth = blend(alpha, color, self._warp(grid_change, image))
        return blend(eye_alpha, eye_color, iris_mouth)

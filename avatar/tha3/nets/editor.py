"""The editor: the full-size 512x512 frame from the rotator's half-size result.

It sees the face-morphed image, the upscaled warped image and offset field and the
rotation pose; it corrects the offset field, warps the face-morphed image with it at
full resolution and paints a colour change over the result.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from avatar.tha3.nets.blocks import head, pose_planes, run_heads
from avatar.tha3.nets.bodies import ResizeConvUNet
from avatar.tha3.nets.eyebrow import blend
from avatar.tha3.nets.warp import GridWarp


class Editor(nn.Module):
    def __init__(self, body: ResizeConvUNet, start: int, channels: int = 4):
        super().__init__()
        self.body = body
        self.color_change_creator = head(start, channels, nn.Tanh)
        self.alpha_creator = head(start, channels, nn.Sigmoid)
        self.grid_change_creator = head(start, 2, None)
        self._warp = GridWarp()

    def forward(self, original: Tensor, warped: Tensor, grid_change: Tensor,
                pose: Tensor) -> Tensor:
        feature = self.body(torch.cat(
            [original, warped, grid_change, pose_planes(pose, original)], dim=1))
        grid_delta, color, alpha = run_heads(feature, [
            self.grid_change_creator, self.color_change_creator, self.alpha_creator])
        return blend(alpha, color, self._warp(grid_change + grid_delta, original))

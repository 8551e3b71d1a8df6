"""The two-algorithm face/body rotator: turns head, neck and body at 256x256.

Of its two algorithms (warp the image by a predicted offset field, or draw the rotated
image directly) the poser uses the warp: the editor refines the warped image and the
offset field at full size. The direct image's head is kept for the weights to load
but not computed.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from avatar.tha3.nets.blocks import head, pose_planes
from avatar.tha3.nets.bodies import ResizeConvEncoderDecoder
from avatar.tha3.nets.warp import GridWarp


class TwoAlgoFaceBodyRotator(nn.Module):
    def __init__(self, encoder_decoder: ResizeConvEncoderDecoder, start: int, channels: int = 4):
        super().__init__()
        self.encoder_decoder = encoder_decoder
        self.direct_creator = head(start, channels, nn.Tanh)
        self.grid_change_creator = head(start, 2, None)
        self._warp = GridWarp()

    def forward(self, image: Tensor, pose: Tensor) -> tuple[Tensor, Tensor]:
        """(warped image, grid change), both at the input's size."""
        feature = self.encoder_decoder(torch.cat([image, pose_planes(pose, image)], dim=1))
        grid_change = self.grid_change_creator(feature)
        return self._warp(grid_change, image), grid_change

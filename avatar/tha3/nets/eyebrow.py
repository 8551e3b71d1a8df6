"""The eyebrow stage: split the eyebrows off the face, then move and re-blend them.

Both networks see the 128x128 eyebrow area only. The decomposer depends on the image
alone, so the poser runs it once per image; the combiner depends on the 12 eyebrow
pose values.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from avatar.tha3.nets.blocks import head, run_heads
from avatar.tha3.nets.bodies import PoserEncoderDecoder
from avatar.tha3.nets.warp import GridWarp


def blend(alpha: Tensor, top: Tensor, bottom: Tensor) -> Tensor:
    """``top`` where ``alpha`` is 1, ``bottom`` where it is 0 (all four channels)."""
    return top * alpha + bottom * (1 - alpha)


def blend_rgb(alpha: Tensor, top: Tensor, bottom: Tensor) -> Tensor:
    """:func:`blend` of the colour channels; the alpha channel stays ``bottom``'s."""
    rgb = top[:, 0:3] * alpha + bottom[:, 0:3] * (1 - alpha)
    return torch.cat([rgb, bottom[:, 3:4]], dim=1)


class EyebrowDecomposer(nn.Module):
    """Eyebrow area -> (eyebrow layer, background layer with the eyebrows removed)."""

    def __init__(self, body: PoserEncoderDecoder, start: int, channels: int = 4):
        super().__init__()
        self.body = body
        self.background_layer_alpha = head(start, 1, nn.Sigmoid)
        self.background_layer_color_change = head(start, channels, nn.Tanh)
        self.eyebrow_layer_alpha = head(start, 1, nn.Sigmoid)
        self.eyebrow_layer_color_change = head(start, channels, nn.Tanh)

    def forward(self, image: Tensor) -> tuple[Tensor, Tensor]:
        feature = self.body(image)
        bg_alpha, bg_color, brow_alpha, brow_color = run_heads(feature, [
            self.background_layer_alpha, self.background_layer_color_change,
            self.eyebrow_layer_alpha, self.eyebrow_layer_color_change])
        eyebrow_layer = blend(brow_alpha, image, brow_color)
        background_layer = blend(bg_alpha, bg_color, image)
        return eyebrow_layer, background_layer


class EyebrowMorphingCombiner(nn.Module):
    """(background, eyebrow layer, eyebrow pose) -> the eyebrow area with posed eyebrows."""

    def __init__(self, body: PoserEncoderDecoder, start: int, channels: int = 4):
        super().__init__()
        self.body = body
        self.morphed_eyebrow_layer_grid_change = head(start, 2, None)
        self.morphed_eyebrow_layer_alpha = head(start, 1, nn.Sigmoid)
        self.morphed_eyebrow_layer_color_change = head(start, channels, nn.Tanh)
        # trained but unused: the poser blends by the eyebrow layer's own alpha instead
        self.combine_alpha = head(start, 1, nn.Sigmoid)
        self._warp = GridWarp()

    def forward(self, background_layer: Tensor, eyebrow_layer: Tensor, pose: Tensor) -> Tensor:
        feature = self.body(torch.cat([background_layer, eyebrow_layer], dim=1), pose)
        grid_change, alpha, color = run_heads(feature, [
            self.morphed_eyebrow_layer_grid_change, self.morphed_eyebrow_layer_alpha,
            self.morphed_eyebrow_layer_color_change])
        warped = self._warp(grid_change, eyebrow_layer)
        morphed = blend(alpha, color, warped)
        return blend_rgb((morphed[:, 3:4] + 1.0) / 2.0, morphed, background_layer)

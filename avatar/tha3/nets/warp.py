"""Moving pixels by a predicted offset field ("grid change"), as THA3 was trained to.

The networks predict, per output pixel, an offset added to the identity sampling grid
in normalised coordinates; the image is then sampled bilinearly with
``align_corners=False`` and border padding. Those three choices must match training
exactly, or every warped pixel shifts by a fraction of a pixel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


class GridWarp:
    """Applies grid changes; keeps the identity grid of the last size and device."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._identity: Tensor | None = None

    def identity(self, n: int, h: int, w: int, like: Tensor) -> Tensor:
        key = (n, h, w, like.device, like.dtype)
        if key != self._key:
            theta = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=like.dtype,
                                 device=like.device).expand(n, 2, 3)
            self._identity = F.affine_grid(theta, [n, 1, h, w], align_corners=False)
            self._key = key
        return self._identity

    def __call__(self, grid_change: Tensor, image: Tensor) -> Tensor:
        """``image`` sampled at identity + ``grid_change`` (N x 2 x H x W)."""
        n, _, h, w = image.shape
        grid = self.identity(n, h, w, grid_change) + grid_change.permute(0, 2, 3, 1)
        return F.grid_sample(image, grid, mode="bilinear", padding_mode="border",
                             align_corners=False)

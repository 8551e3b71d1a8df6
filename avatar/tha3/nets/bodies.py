"""The three encoder-decoder bodies the five THA3 networks are built on.

- :class:`PoserEncoderDecoder`: strided-convolution encoder, the pose joined as extra
  channels at the bottleneck, transposed-convolution decoder (eyebrow and face networks).
- :class:`ResizeConvEncoderDecoder`: the pose is an input channel; the decoder upsamples
  by nearest neighbour and convolves (the face/body rotator).
- :class:`ResizeConvUNet`: as above with skip connections from the encoder (the editor).

Each returns only the last decoder feature map: the only one the poser uses.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from avatar.tha3.nets.blocks import (
    ResnetBlock,
    conv_block,
    down_block,
    pose_planes,
    transposed_up_block,
)


def _channels(start: int, image_size: int, size: int, max_channels: int) -> int:
    """Channels at resolution ``size``: doubling as the resolution halves, capped."""
    return min(start * (image_size // size), max_channels)


class PoserEncoderDecoder(nn.Module):
    def __init__(self, image_size: int, in_channels: int, num_pose: int, start: int,
                 bottleneck_size: int, num_bottleneck: int, max_channels: int,
                 separable: bool, slope: float):
        super().__init__()
        self.num_pose = num_pose
        self.downsample_blocks = nn.ModuleList(
            [conv_block(in_channels, start, 3, separable, slope)])
        size, channels = image_size, start
        while size > bottleneck_size:
            size //= 2
            nxt = _channels(start, image_size, size, max_channels)
            self.downsample_blocks.append(down_block(channels, nxt, separable, slope))
            channels = nxt
        self.bottleneck_blocks = nn.ModuleList(
            [conv_block(channels + num_pose, channels, 3, separable, slope)]
            + [ResnetBlock(channels, separable, slope) for _ in range(num_bottleneck - 1)])
        self.upsample_blocks = nn.ModuleList()
        while size < image_size:
            size *= 2
            nxt = _channels(start, image_size, size, max_channels)
            self.upsample_blocks.append(transposed_up_block(channels, nxt, separable, slope))
            channels = nxt

    def forward(self, image: Tensor, pose: Tensor | None = None) -> Tensor:
        x = image
        for block in self.downsample_blocks:
            x = block(x)
        if self.num_pose:
            x = torch.cat([x, pose_planes(pose, x)], dim=1)
        for block in self.bottleneck_blocks:
            x = block(x)
        for block in self.upsample_blocks:
            x = block(x)
        return x


class ResizeConvEncoderDecoder(nn.Module):
    def __init__(self, image_size: int, in_channels: int, start: int, bottleneck_size: int,
                 num_bottleneck: int, max_channels: int, separable: bool, slope: float):
        super().__init__()
        self.downsample_blocks = nn.ModuleList(
            [conv_block(in_channels, start, 7, separable, slope)])
        size, channels = image_size, start
        while size > bottleneck_size:
            size //= 2
            nxt = _channels(start, image_size, size, max_channels)
            # the published standard networks were built with plain ReLU here
            self.downsample_blocks.append(down_block(channels, nxt, separable,
                                                     slope if separable else 0.0))
            channels = nxt
        self.bottleneck_blocks = nn.ModuleList(
            ResnetBlock(channels, separable, slope) for _ in range(num_bottleneck))
        self.upsample_blocks = nn.ModuleList()
        while size < image_size:
            size *= 2
            nxt = _channels(start, image_size, size, max_channels)
            self.upsample_blocks.append(nn.Sequential(
                nn.Upsample(scale_factor=2, mode="nearest"),
                conv_block(channels, nxt, 3, separable, slope)))
            channels = nxt

    def forward(self, x: Tensor) -> Tensor:
        for block in self.downsample_blocks:
            x = block(x)
        for block in self.bottleneck_blocks:
            x = block(x)
        for block in self.upsample_blocks:
            x = block[1](F.interpolate(x, scale_factor=2.0, mode="nearest"))
        return x


class ResizeConvUNet(nn.Module):
    def __init__(self, image_size: int, in_channels: int, start: int, bottleneck_size: int,
                 num_bottleneck: int, max_channels: int, separable: bool, slope: float):
        super().__init__()
        self.downsample_blocks = nn.ModuleList(
            [conv_block(in_channels, start, 3, separable, slope)])
        size, channels = image_size, start
        skip_channels = {size: channels}
        while size > bottleneck_size:
            size //= 2
            nxt = min(max_channels, channels * 2)
            self.downsample_blocks.append(down_block(channels, nxt, separable,
                                                     slope if separable else 0.0))
            channels = skip_channels[size] = nxt
        self.bottleneck_blocks = nn.ModuleList(
            ResnetBlock(channels, separable, slope) for _ in range(num_bottleneck))
        self.upsample_blocks = nn.ModuleList()
        while size < image_size:
            size *= 2
            nxt = skip_channels[size]
            self.upsample_blocks.append(conv_block(channels + nxt, nxt, 3, separable, slope))
            channels = nxt
        self.double_resolution = nn.Upsample(scale_factor=2, mode="nearest")
        self.exact = True  # concatenate skip connections as trained, not split (slower)

    def forward(self, x: Tensor) -> Tensor:
        skips = []
        for block in self.downsample_blocks:
            x = block(x)
            skips.append(x)
        for block in self.bottleneck_blocks:
            x = block(x)
        for i, block in enumerate(self.upsample_blocks):
            parts = [F.interpolate(x, scale_factor=2.0, mode="nearest"), skips[-i - 2]]
            x = block(torch.cat(parts, dim=1)) if self.exact else block.forward_concat(parts)
        return x

"""The building blocks of THA3's networks, laid out so the official state dicts load as-is.

Every block is an ``nn.Sequential`` (or holds one) with the same child order as the
published networks, so parameter names such as ``downsample_blocks.1.2.weight`` match.
The forward passes are our own: activations run in place, output heads that read the
same feature map run as one convolution, and nothing is computed that the poser does
not use; on a CPU each pass over a 512x512 feature map costs milliseconds.

A *separable* convolution is a depthwise ``k x k`` convolution followed by a pointwise
1x1 one; the ``standard`` variants use one plain convolution instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

EPS = 1e-5  # nn.InstanceNorm2d's default, which the networks were trained with


def conv_units(cin: int, cout: int, kernel: int, stride: int, padding: int, separable: bool,
               transpose: bool = False) -> list[nn.Module]:
    """The convolution(s) of one block, without bias (a normalisation follows)."""
    conv = nn.ConvTranspose2d if transpose else nn.Conv2d
    if separable:
        return [conv(cin, cin, kernel, stride, padding, groups=cin, bias=False),
                nn.Conv2d(cin, cout, 1, bias=False)]
    return [conv(cin, cout, kernel, stride, padding, bias=False)]


def activation(slope: float) -> nn.Module:
    """ReLU for slope 0, else LeakyReLU; parameter-free, kept for the child numbering."""
    return nn.ReLU() if slope == 0.0 else nn.LeakyReLU(slope)


def instance_norm(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """Affine instance normalisation of a batch of one, fast in either memory layout.

    Mostly this is batch normalisation with batch statistics (what ``F.instance_norm``
    runs for one image, minus a reshape). For channels-last maps larger than 64x64 on
    the CPU the statistics are computed here instead, from pairwise-summed reductions
    combined in float64: the channels-last batch-norm kernel sums sequentially (errors
    near 1e-4 on 512x512 maps) and ``F.instance_norm`` first copies to the plain layout
    (three times slower).
    """
    n, c, h, w = x.shape
    if n != 1:
        return F.instance_norm(x, weight=weight, bias=bias, eps=EPS)
    if (x.device.type != "cpu" or h * w <= 64 * 64
            or not x.is_contiguous(memory_format=torch.channels_last)):
        return F.batch_norm(x, None, None, weight, bias, True, 0.0, EPS)
    rows = x.permute(0, 2, 3, 1).reshape(h * w, c)  # a view: channels are contiguous
    mean = rows.sum(0).double() / (h * w)
    var = (rows.square().sum(0).double() / (h * w) - mean * mean).clamp_(min=0.0)
    scale = weight.double() * torch.rsqrt(var + EPS)
    shift = bias.double() - mean * scale
    return torch.addcmul(shift.to(x.dtype).view(1, c, 1, 1), x, scale.to(x.dtype).view(1, c, 1, 1))


def activate_(x: Tensor, slope: float) -> Tensor:
    return torch.relu_(x) if slope == 0.0 else F.leaky_relu_(x, slope)


class ConvNormAct(nn.Sequential):
    """Convolution(s), instance norm, activation: THA3's basic block."""

    def __init__(self, convs: list[nn.Module], channels: int, slope: float):
        super().__init__(*convs, nn.InstanceNorm2d(channels, affine=True), activation(slope))
        self.slope = slope

    def forward(self, x: Tensor) -> Tensor:
        *convs, norm, _ = self
        for conv in convs:
            x = conv(x)
        return activate_(instance_norm(x, norm.weight, norm.bias), self.slope)

    def forward_concat(self, parts: Sequence[Tensor]) -> Tensor:
        """``forward(torch.cat(parts, 1))`` without making the concatenation.

        The convolution is linear in its input channels, so each part is convolved with
        its slice of the weights and the results are summed: one pass over the output
        instead of copying every input channel (a large map in the editor's decoder).
        The sum is ordered differently, so results differ in the last bits.
        """
        *convs, norm, _ = self
        out: Tensor | None = None
        start = 0
        for part in parts:
            channels = slice(start, start + part.shape[1])
            start += part.shape[1]
            if len(convs) == 2:  # depthwise, then pointwise
                depthwise, pointwise = convs
                y = F.conv2d(part, depthwise.weight[channels], None, depthwise.stride,
                             depthwise.padding, groups=part.shape[1])
                y = F.conv2d(y, pointwise.weight[:, channels])
            else:
                (conv,) = convs
                y = F.conv2d(part, conv.weight[:, channels], None, conv.stride, conv.padding)
            out = y if out is None else out.add_(y)
        return activate_(instance_norm(out, norm.weight, norm.bias), self.slope)


def conv_block(cin: int, cout: int, kernel: int, separable: bool, slope: float) -> ConvNormAct:
    """A same-size ``kernel x kernel`` block (3 or 7)."""
    return ConvNormAct(conv_units(cin, cout, kernel, 1, kernel // 2, separable), cout, slope)


def down_block(cin: int, cout: int, separable: bool, slope: float) -> ConvNormAct:
    """Halves the resolution: a 4x4 convolution with stride 2."""
    return ConvNormAct(conv_units(cin, cout, 4, 2, 1, separable), cout, slope)


def transposed_up_block(cin: int, cout: int, separable: bool, slope: float) -> ConvNormAct:
    """Doubles the resolution: a 4x4 transposed convolution with stride 2."""
    return ConvNormAct(conv_units(cin, cout, 4, 2, 1, separable, transpose=True), cout, slope)


class ResnetBlock(nn.Module):
    """``x + norm(conv(act(norm(conv(x)))))`` with 3x3 convolutions."""

    def __init__(self, channels: int, separable: bool, slope: float):
        super().__init__()

        def conv() -> nn.Module:
            units = conv_units(channels, channels, 3, 1, 1, separable)
            return nn.Sequential(*units) if separable else units[0]

        self.resnet_path = nn.Sequential(
            conv(), nn.InstanceNorm2d(channels, affine=True), activation(slope),
            conv(), nn.InstanceNorm2d(channels, affine=True))
        self.slope = slope

    def forward(self, x: Tensor) -> Tensor:
        conv1, norm1, _, conv2, norm2 = self.resnet_path
        y = activate_(instance_norm(conv1(x), norm1.weight, norm1.bias), self.slope)
        return instance_norm(conv2(y), norm2.weight, norm2.bias).add_(x)


def head(cin: int, cout: int, squash: type[nn.Module] | None) -> nn.Module:
    """An output layer: a biased 3x3 convolution and a squashing function (sigmoid or
    tanh), or, for ``squash=None``, an unbiased 3x3 convolution (the grid changes)."""
    if squash is None:
        return nn.Conv2d(cin, cout, 3, padding=1, bias=False)
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=True), squash())


def run_heads(feature: Tensor, heads: Sequence[nn.Module]) -> list[Tensor]:
    """Several :func:`head` outputs from one convolution over ``feature``.

    Their weights are stacked so the (large) feature map is read once instead of once
    per head; each output then gets its own squashing function.
    """
    convs = [h[0] if isinstance(h, nn.Sequential) else h for h in heads]
    weight = torch.cat([c.weight for c in convs])
    biases = [c.bias if c.bias is not None else c.weight.new_zeros(c.out_channels) for c in convs]
    # plain layout: each output's channels are then one contiguous block
    out = F.conv2d(feature, weight, torch.cat(biases), padding=1).contiguous()
    outputs = []
    start = 0
    for h, c in zip(heads, convs, strict=True):
        part = out[:, start:start + c.out_channels]
        start += c.out_channels
        if isinstance(h, nn.Sequential):
            part = torch.sigmoid(part) if isinstance(h[1], nn.Sigmoid) else torch.tanh(part)
        outputs.append(part)
    return outputs


def pose_planes(pose: Tensor, like: Tensor) -> Tensor:
    """The pose as constant planes the size of ``like`` (to concatenate as channels)."""
    n, c = pose.shape
    return pose.view(n, c, 1, 1).expand(n, c, like.shape[2], like.shape[3])

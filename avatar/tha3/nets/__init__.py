"""THA3's five networks, built with the published architecture numbers.

The sizes below are those the official weights were trained with; they are the same
for all four variants, which differ only in separable vs plain convolutions (and the
float type they were stored in). ``build_networks`` makes untrained networks;
``load_networks`` fills them from the official state dicts with ``strict=True``.

One naming difference is mapped explicitly: the *standard* face morpher keeps its
encoder-decoder layers at its top level (``downsample_blocks.0.0.weight``), while ours,
like the separable one, keeps them under ``body.`` (``body.downsample_blocks.0.0.weight``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from avatar.tha3.nets.bodies import PoserEncoderDecoder, ResizeConvEncoderDecoder, ResizeConvUNet
from avatar.tha3.nets.editor import Editor
from avatar.tha3.nets.eyebrow import EyebrowDecomposer, EyebrowMorphingCombiner
from avatar.tha3.nets.face import FaceMorpher
from avatar.tha3.nets.rotator import TwoAlgoFaceBodyRotator

__all__ = ["build_networks", "load_networks", "adapt_state_dict"]

IMAGE_CHANNELS = 4  # RGBA
EYEBROW_POSE, FACE_POSE, ROTATION_POSE = 12, 27, 6
LEAKY_SLOPE = 0.1  # the rotator and editor; the eyebrow and face networks use ReLU
_BODY_PREFIXES = ("downsample_blocks.", "bottleneck_blocks.", "upsample_blocks.")


def build_networks(separable: bool) -> dict[str, nn.Module]:
    """The five untrained networks, keyed by their weight file names."""
    c, s = IMAGE_CHANNELS, separable

    def poser_body(size: int, cin: int, pose: int, bottleneck: int) -> PoserEncoderDecoder:
        return PoserEncoderDecoder(size, cin, pose, start=64, bottleneck_size=bottleneck,
                                   num_bottleneck=6, max_channels=512, separable=s, slope=0.0)

    rotator_body = ResizeConvEncoderDecoder(256, c + ROTATION_POSE, start=64, bottleneck_size=32,
                                            num_bottleneck=6, max_channels=512, separable=s,
                                            slope=LEAKY_SLOPE)
    editor_body = ResizeConvUNet(512, 2 * c + 2 + ROTATION_POSE, start=32, bottleneck_size=64,
                                 num_bottleneck=6, max_channels=512, separable=s, slope=LEAKY_SLOPE)
    return {
        "eyebrow_decomposer": EyebrowDecomposer(poser_body(128, c, 0, 16), 64, c),
        "eyebrow_morphing_combiner": EyebrowMorphingCombiner(
            poser_body(128, 2 * c, EYEBROW_POSE, 16), 64, c),
        "face_morpher": FaceMorpher(poser_body(192, c, FACE_POSE, 24), 64, c),
        "two_algo_face_body_rotator": TwoAlgoFaceBodyRotator(rotator_body, 64, c),
        "editor": Editor(editor_body, 32, c),
    }


def adapt_state_dict(name: str, state: dict[str, Tensor]) -> dict[str, Tensor]:
    """``state`` with the standard face morpher's top-level layer names moved under ``body.``."""
    if name != "face_morpher" or any(key.startswith("body.") for key in state):
        return state
    return {("body." + key if key.startswith(_BODY_PREFIXES) else key): value
            for key, value in state.items()}


def load_networks(state_dicts: dict[str, dict[str, Tensor]],
                  separable: bool) -> dict[str, nn.Module]:
    """The five networks holding the given weights (strict: every name must match).

    They are built without memory and take the loaded tensors as they are (float16
    files give float16 networks); :func:`avatar.tha3.runtime.place` converts them.
    """
    with torch.device("meta"):
        networks = build_networks(separable)
    for name, network in networks.items():
        network.load_state_dict(adapt_state_dict(name, state_dicts[name]), strict=True, assign=True)
        network.eval()
    return networks

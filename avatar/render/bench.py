"""Frame times of the avatar renderer, for judging it on a given machine.

Draws an animated avatar (idle life: blinks, gaze, sway; and a mouth cycling
through the visemes) into an off-screen framebuffer and waits for each frame to
finish, so the time includes rasterising, not only issuing GL calls. Nothing
asserts on these numbers; they are printed.

    python -m avatar.render.bench [MODEL] [--frames 200] [--size 1280x720]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROBOT = ROOT / "tests" / "assets" / "vrm" / "vrm-addon-for-blender" / "debug_robot_vrm1.vrm"
VISEMES = ("aa", "ih", "ou", "ee", "oh")


@dataclass(frozen=True)
class BenchResult:
    model: str
    backend: str
    gl_renderer: str
    size: tuple[int, int]
    frames: int
    frame_ms: list[float]  # per frame, draw + glFinish
    cpu_ms: list[float]  # per frame, the draw call alone
    upload_ms: list[float]  # per frame, morph blending and uploads

    @staticmethod
    def percentile(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]

    def summary(self) -> str:
        p = self.percentile
        return (
            f"{self.model} at {self.size[0]}x{self.size[1]}, {self.frames} frames, "
            f"{self.backend} on {self.gl_renderer}\n"
            f"  frame (draw + finish): p50 {p(self.frame_ms, 50):.2f} ms  "
            f"p99 {p(self.frame_ms, 99):.2f} ms  mean {statistics.fmean(self.frame_ms):.2f} ms\n"
            f"  draw call (CPU side):  p50 {p(self.cpu_ms, 50):.2f} ms  "
            f"p99 {p(self.cpu_ms, 99):.2f} ms\n"
            f"  morph blend + upload:  p50 {p(self.upload_ms, 50):.3f} ms  "
            f"p99 {p(self.upload_ms, 99):.3f} ms"
        )


def run(model_path: str | Path = ROBOT, frames: int = 200, size: tuple[int, int] = (1280, 720),
        backend: str = "auto", samples: int = 0, warmup: int = 10) -> BenchResult:
    from avatar.life import IdleLife
    from avatar.render.snapshot import OffscreenTarget, gl_context
    from avatar.vrm import load_vrm

    model = load_vrm(model_path)
    width, height = size
    life = IdleLife(seed=1)
    frame_ms: list[float] = []
    cpu_ms: list[float] = []
    upload_ms: list[float] = []
    with gl_context(backend) as (used, gl_renderer):
        from OpenGL import GL

        from avatar.render.renderer import AvatarRenderer

        renderer = AvatarRenderer(model)
        target = OffscreenTarget(width, height, samples)
        try:
            for i in range(warmup + frames):
                now = i / 30.0
                state = life.frame(now, speaking=0.6)
                expressions = dict(state.expressions)
                expressions[VISEMES[(i // 3) % len(VISEMES)]] = 0.5 + 0.5 * ((i % 3) / 2)
                started = time.perf_counter()
                target.begin()
                renderer.draw(width, height, expressions=expressions, bone_rotations=state.bones,
                              look_at=state.look_at, time_s=now, dt=1 / 30.0)
                GL.glFinish()
                elapsed = (time.perf_counter() - started) * 1000
                if i >= warmup:
                    frame_ms.append(elapsed)
                    cpu_ms.append(renderer.stats.cpu_ms)
                    upload_ms.append(renderer.stats.upload_ms)
        finally:
            renderer.close()
            target.delete()
    return BenchResult(Path(model_path).name, used, gl_renderer, size, frames, frame_ms, cpu_ms,
                       upload_ms)


def main(argv: Sequence[str] | None = None) -> int:
    from avatar.render.snapshot import _size

    parser = argparse.ArgumentParser(prog="python -m avatar.render.bench",
                                     description="Time the avatar renderer.")
    parser.add_argument("model", nargs="?", type=Path, default=ROBOT)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--size", type=_size, default=(1280, 720))
    parser.add_argument("--samples", type=int, default=0, help="MSAA samples (the overlay uses 0)")
    parser.add_argument("--backend", choices=("auto", "egl", "qt"), default="auto")
    args = parser.parse_args(argv)
    result = run(args.model, args.frames, args.size, args.backend, args.samples)
    print(result.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

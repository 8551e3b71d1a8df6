#!/usr/bin/env python3
"""The overlay's frame time and lip-sync error, with the default avatar speaking.

Plays 10 s of speech on the overlay's speech clock (advanced in real time, as a sound
card would), and for each frame does what the window does: samples the mouth and the
idle life at the clock, draws the avatar at 1280x720 off-screen and waits for the GPU.
Reports frame time p50/p99 (and the frame rate that allows), and how far the mouth on
a finished frame is from the audio being heard then (goal: never more than one frame,
33 ms at 30 fps). Goal: >= 30 FPS under Mesa llvmpipe, >= 60 FPS on a GPU.

    .venv/bin/python scripts/bench_overlay.py [--frames 300] [--size 1280x720] [--json PATH]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.bench_io import write_json  # noqa: E402


def speech(rate: int = 22050, seconds: float = 10.0):
    """A tone with a viseme every 90 ms: enough to keep the mouth busy."""
    from avatar.lipsync.timeline import VisemeTimeline

    n = int(rate * seconds)
    pcm = (np.sin(np.arange(n) * 2 * np.pi * 180 / rate) * 6000).astype(np.int16)
    cycle = ["sil", "aa", "PP", "E", "oh", "ih", "ou", "FF", "aa", "oh"]
    step = int(0.09 * rate)
    keys = [[i, cycle[(i // step) % len(cycle)]] for i in range(0, n, step)]
    return pcm, VisemeTimeline.from_dict({"format": "vtbot.visemes/1", "sample_rate": rate,
                                          "n_samples": n, "keys": keys})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--fps", type=float, default=30.0, help="the overlay's frame pacing")
    ap.add_argument("--backend", choices=("auto", "egl", "qt"), default="auto")
    ap.add_argument("--lead", type=float, default=0.03, help="overlay.lead_s: the mouth samples this far ahead")
    ap.add_argument("--vfx", choices=("fireworks", "confetti", "hearts", "sparkles", "rain"),
                    help="also draw this effect (intensity 3, started every 3 s) around the avatar")
    ap.add_argument("--json", type=Path, default=None,
                    help="default scripts/results/bench_overlay[_VFX].json")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    if args.json is None:
        args.json = ROOT / "scripts" / "results" / f"bench_overlay{'_' + args.vfx if args.vfx else ''}.json"

    from avatar.default import default_avatar_path
    from avatar.life import IdleLife, mouth_energy
    from avatar.render.snapshot import OffscreenTarget, gl_context
    from avatar.vrm import load_vrm
    from overlay.mouth import MouthDriver
    from overlay.speech_clock import SpeechClock

    model = load_vrm(default_avatar_path())
    pcm, timeline = speech()
    clock = SpeechClock(22050)
    clock.add("bench", 0, "benchmark speech", pcm, 22050, timeline)
    mouth = MouthDriver(clock, lead_s=args.lead, latency_s=0.0)
    life = IdleLife(seed=1)
    frame_ms, sync_ms, particles = [], [], []
    with gl_context(args.backend) as (backend, gl_renderer):
        from OpenGL import GL

        from avatar.render.renderer import AvatarRenderer

        from bot.link import protocol
        from overlay.vfx import VfxPlayer
        from overlay.vfx.gl_points import ParticleRenderer

        renderer = AvatarRenderer(model)
        target = OffscreenTarget(width, height, 0)
        vfx = VfxPlayer(seed=1)
        points = {layer: ParticleRenderer() for layer in vfx.layers}
        period = 1.0 / args.fps
        t0 = last = time.perf_counter()
        owed = 0.0
        try:
            for i in range(args.frames + 10):
                now = time.perf_counter()
                owed += (now - last) * clock.rate  # the sound card's clock, in real time
                last = now
                n = int(owed)
                owed -= n
                if n:
                    clock.fill(np.empty(n, dtype=np.int16))
                heard = mouth.heard_sample()
                weights = mouth.weights()
                state = life.frame(now - t0, mouth_energy(weights))
                expressions = {**state.expressions, **weights}
                started = time.perf_counter()
                target.begin()
                if args.vfx:
                    if i % 90 == 0:
                        vfx.play(protocol.vfx(args.vfx, 3.0))
                    vfx.step(period, width / height)
                    points["back"].draw(vfx.layers["back"], width, height, additive=True)
                renderer.draw(width, height, expressions=expressions, bone_rotations=state.bones,
                              look_at=state.look_at, time_s=now - t0, dt=period)
                if args.vfx:
                    points["front"].draw(vfx.layers["front"], width, height)
                    particles.append(vfx.count)
                GL.glFinish()
                done = time.perf_counter()
                if i >= 10:
                    frame_ms.append((done - started) * 1000)
                    # the audio heard when the frame is ready, against the sample the mouth shows
                    heard_then = clock.cursor + (done - last) * clock.rate
                    sync_ms.append((heard_then - heard) / clock.rate * 1000)
                time.sleep(max(0.0, period - (time.perf_counter() - now)))
        finally:
            renderer.close()
            for p in points.values():
                p.close()
            target.delete()

    f = np.array(frame_ms)
    s = np.abs(np.array(sync_ms))
    result = {
        "model": "mochi.vrm", "size": [width, height], "frames": len(f), "backend": backend,
        "gl_renderer": gl_renderer, "pacing_fps": args.fps, "lead_s": args.lead,
        "frame_ms": {"p50": round(float(np.percentile(f, 50)), 2), "p99": round(float(np.percentile(f, 99)), 2),
                     "mean": round(float(f.mean()), 2)},
        "fps_possible_p50": round(1000 / float(np.percentile(f, 50)), 1),
        "fps_possible_p99": round(1000 / float(np.percentile(f, 99)), 1),
        "mouth_vs_audio_ms": {"p50": round(float(np.percentile(s, 50)), 2), "p99": round(float(np.percentile(s, 99)), 2),
                              "max": round(float(s.max()), 2)},
        "vfx": args.vfx, "particles_max": max(particles, default=0),
        "goal": {"fps_llvmpipe": 30, "fps_gpu": 60, "mouth_vs_audio_ms": 33},
        "machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()},
    }
    extra = f" and {args.vfx} (up to {result['particles_max']} particles)" if args.vfx else ""
    print(f"overlay at {width}x{height} with Mochi speaking{extra}, {backend} on {gl_renderer}:")
    print(f"  frame time p50 {result['frame_ms']['p50']} ms, p99 {result['frame_ms']['p99']} ms "
          f"(allows {result['fps_possible_p50']} FPS at p50, {result['fps_possible_p99']} at p99)")
    m = result["mouth_vs_audio_ms"]
    print(f"  mouth vs audio when the frame is ready: p50 {m['p50']} ms, p99 {m['p99']} ms, max {m['max']} ms")
    return write_json(args.json, result)


if __name__ == "__main__":
    raise SystemExit(main())

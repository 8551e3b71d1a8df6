#!/usr/bin/env python3
"""Effects: frame time with many live particles, and how fast an event becomes a
frame with its effect in it (and, with OBS, a scene switch).

1. Particles: 2,000 and 10,000 live particles of every shape (sparks with streaks,
   confetti, hearts, stars) at 1280x720: simulate + build vertices + draw + glFinish,
   per frame. Goal: 10,000 at >= 60 FPS on a GPU; 2,000 at >= 30 FPS under llvmpipe.
2. Event → first effect frame: a cheer published on the bus (rules, journal, link)
   reaches an overlay's link client as a `vfx` message, which starts the effect and
   draws its first frame. Goal p50 <= 100 ms.
3. Event → OBS scene switch (with --obs, needs Debian's obs-studio): the same cheer
   with an `obs.scene` rule, until OBS reports the new program scene, with OBS's
   "Cut" transition (a Fade adds its own 300 ms). Goal p50 <= 100 ms.

    .venv/bin/python scripts/bench_vfx.py [--frames 200] [--events 30] [--obs] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.bench_io import write_json  # noqa: E402

W, H = 1280, 720


def fill(pool, n: int, rng: np.random.Generator) -> None:
    """Exactly n long-lived particles of every shape, moving about."""
    from overlay.vfx.particles import Batch

    pool.clear()
    per = n // 4
    aspect = W / H
    for shape, streak, size in ((0, 0.07, 0.02), (1, 0.0, 0.025), (2, 0.0, 0.06), (3, 0.0, 0.05)):
        k = per if shape < 3 else n - 3 * per
        pool.add(Batch(pos=np.c_[rng.uniform(0, aspect, k), rng.uniform(0, 1, k)],
                       vel=rng.normal(0, 0.3, (k, 2)), life=1e9, size=size, color=rng.uniform(0.3, 1, (k, 4)),
                       shape=shape, streak=streak, drag=0.2, spin=rng.uniform(-3, 3, k), wobble=0.01))


def bench_particles(frames: int, backend: str) -> dict:
    from avatar.render.snapshot import OffscreenTarget, gl_context
    from overlay.vfx.particles import Particles

    rng = np.random.default_rng(1)
    out = {}
    with gl_context(backend) as (used, gl_renderer):
        from OpenGL import GL

        from overlay.vfx.gl_points import ParticleRenderer

        target = OffscreenTarget(W, H, 0)
        renderer = ParticleRenderer()
        try:
            for n in (2000, 10000):
                pool = Particles(capacity=n)
                fill(pool, n, rng)
                times = []
                for i in range(frames + 10):
                    t0 = time.perf_counter()
                    target.begin()
                    GL.glClearColor(0, 0, 0, 0)
                    GL.glClear(GL.GL_COLOR_BUFFER_BIT)
                    pool.step(1 / 60)
                    renderer.draw(pool, W, H, additive=True)
                    GL.glFinish()
                    if i >= 10:
                        times.append((time.perf_counter() - t0) * 1000)
                t = np.array(times)
                out[str(n)] = {"p50_ms": round(float(np.percentile(t, 50)), 2),
                               "p99_ms": round(float(np.percentile(t, 99)), 2),
                               "fps_p50": round(1000 / float(np.percentile(t, 50)), 1)}
                print(f"  {n:>6} particles: frame p50 {out[str(n)]['p50_ms']} ms, p99 {out[str(n)]['p99_ms']} ms "
                      f"({out[str(n)]['fps_p50']} FPS at p50)")
        finally:
            renderer.close()
            target.delete()
    return {"backend": used, "gl_renderer": gl_renderer, "size": [W, H], "frames": frames, "particles": out}


async def bench_event_to_frame(events: int, obs_env: dict | None) -> dict:
    """The bus, the link and an overlay client in one process, as in `vtbot run`."""
    from bot.link.server import LinkServer
    from bot.stream_events import LinkOverlay
    from events.actions import ActionRunner
    from events.bus import EventBus
    from events.journal import Journal
    from events.model import StreamEvent
    from events.rules import parse_rules
    from overlay.link_client import LinkClient
    from overlay.vfx import VfxPlayer

    token = "bench-token-0123456789abcdef"
    server = LinkServer(token, port=0, persona="Mochi")
    await server.start()
    arrived: asyncio.Queue[float] = asyncio.Queue()
    player = VfxPlayer(seed=1)

    def on_event(event: dict) -> None:
        if event.get("type") == "vfx":
            player.play(event)  # what the window does on its next tick
            player.step(1 / 60, W / H)
            player.layers["back"].take_dirty()  # what the window uploads
            arrived.put_nowait(time.perf_counter())

    client = LinkClient(server.url, token, name="bench", on_event=on_event)
    runner = asyncio.create_task(client.run(first_delay=0.05))
    await asyncio.wait_for(client.connected.wait(), 10)
    obs = None
    rules = [{"name": "cheer", "on": "cheer", "do": [{"vfx": "fireworks"}]}]
    if obs_env is not None:
        rules[0]["do"].append({"obs.scene": {"scene": "Celebration"}})
        obs = obs_env["client"]
    with tempfile.TemporaryDirectory() as tmp:
        bus = EventBus(parse_rules({"rules": rules}), Journal(Path(tmp) / "j.sqlite3"),
                       ActionRunner(overlay=LinkOverlay(server), obs=obs), gap_s=0)
        await bus.start()
        to_frame, to_scene = [], []
        for i in range(events):
            if obs_env is not None:
                await obs_env["reset"]()
            t0 = time.perf_counter()
            await bus.publish(StreamEvent(type="cheer", id=f"bench-{i}", source="trigger", user="Bench", bits=100))
            to_frame.append((await asyncio.wait_for(arrived.get(), 10) - t0) * 1000)
            if obs_env is not None:
                to_scene.append((await obs_env["scene_reached"]("Celebration", t0)) * 1000)
            await bus.idle()
        await bus.close()
        bus.journal.close()
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
    await server.close()

    def stats(v: list[float]) -> dict:
        a = np.array(v)
        return {"p50_ms": round(float(np.percentile(a, 50)), 2), "p95_ms": round(float(np.percentile(a, 95)), 2),
                "max_ms": round(float(a.max()), 2), "n": len(a)}

    out = {"event_to_first_vfx_frame": stats(to_frame)}
    print(f"  event → first effect frame: p50 {out['event_to_first_vfx_frame']['p50_ms']} ms, "
          f"p95 {out['event_to_first_vfx_frame']['p95_ms']} ms")
    if to_scene:
        out["event_to_obs_scene"] = stats(to_scene)
        print(f"  event → OBS scene switched: p50 {out['event_to_obs_scene']['p50_ms']} ms, "
              f"p95 {out['event_to_obs_scene']['p95_ms']} ms")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--events", type=int, default=30)
    ap.add_argument("--backend", choices=("auto", "egl", "qt"), default="auto")
    ap.add_argument("--obs", action="store_true", help="also time the OBS scene switch (starts a headless OBS)")
    ap.add_argument("--json", type=Path, default=ROOT / "scripts" / "results" / "bench_vfx.json")
    args = ap.parse_args()

    print(f"particles at {W}x{H}:")
    result: dict = {"particles": bench_particles(args.frames, args.backend)}
    print("events:")
    if args.obs:
        sys.path.insert(0, str(ROOT / "scripts"))
        from bench_obs_env import obs_environment

        result["events"] = asyncio.run(obs_environment(lambda env: bench_event_to_frame(args.events, env)))
    else:
        result["events"] = asyncio.run(bench_event_to_frame(args.events, None))
    result["goal"] = {"fps_10000_gpu": 60, "fps_2000_llvmpipe": 30, "event_to_frame_p50_ms": 100,
                      "event_to_obs_scene_p50_ms": 100}
    result["machine"] = {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()}
    return write_json(args.json, result)


if __name__ == "__main__":
    raise SystemExit(main())

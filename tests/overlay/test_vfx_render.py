"""Every effect draws: each one rendered with real OpenGL (EGL, no display needed) at
a moment when it is in full swing, with visible, coloured, correctly transparent
pixels; the PNGs are kept next to the test's tmp_path for a person to look at."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.link.protocol import VFX_KINDS

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, sys
from pathlib import Path
import numpy as np
from avatar.render.snapshot import gl_context, OffscreenTarget, save_png
from bot.link import protocol
from overlay.vfx import VfxPlayer
from overlay.vfx.gl_points import ParticleRenderer
from overlay.vfx.player import ADDITIVE
from OpenGL import GL

W, H = 480, 640
out = {}
with gl_context("egl"):
    target = OffscreenTarget(W, H, 0)
    for kind in protocol.VFX_KINDS:
        player = VfxPlayer(seed=4)
        player.play(protocol.vfx(kind, 2.0))
        for _ in range(int(1.4 * 60)):
            player.step(1 / 60, W / H)
        target.begin()
        GL.glClearColor(0, 0, 0, 0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT)
        for layer, pool in player.layers.items():
            points = ParticleRenderer()
            points.draw(pool, W, H, additive=ADDITIVE[layer])
            points.close()
        pixels = target.read()
        save_png(pixels, W, H, Path(sys.argv[1]) / f"{kind}.png")
        rgba = np.frombuffer(pixels, np.uint8).reshape(H, W, 4).astype(int)
        seen = rgba[..., 3] > 0
        out[kind] = {"visible": int(seen.sum()), "premultiplied_ok": bool((rgba[..., :3].max(-1) <= rgba[..., 3] + 1)[seen].mean() > 0.5),
                     "colours": int(len({tuple(c // 32) for c in rgba[seen][:, :3]}))}
    target.delete()
print(json.dumps(out))
"""


def test_every_effect_draws_what_it_should(tmp_path):
    env = {**os.environ, "PYOPENGL_PLATFORM": "egl", "PYTHONPATH": str(ROOT), "LIBGL_ALWAYS_SOFTWARE": "1"}
    env.pop("DISPLAY", None)
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env, capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0 and "EGL" in r.stderr and "NoContext" in r.stderr:
        pytest.skip(f"no EGL context here: {r.stderr.strip().splitlines()[-1]}")
    assert r.returncode == 0, r.stderr[-3000:]
    import json

    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert set(got) == set(VFX_KINDS)
    for kind, seen in got.items():
        assert seen["visible"] > 500, kind  # plenty drawn
        assert seen["colours"] >= 2, kind  # not one flat blob
        assert seen["premultiplied_ok"], kind  # transparent where nothing is drawn, no halos
        assert (tmp_path / f"{kind}.png").stat().st_size > 1000


PARITY = r"""
import json
import numpy as np
from avatar.render.snapshot import gl_context, OffscreenTarget
from overlay.vfx.particles import Batch, Particles
from overlay.vfx.gl_points import ParticleRenderer
from OpenGL import GL

W, H = 400, 400
cases = [dict(gravity=0.8, drag=1.5), dict(gravity=0.3, drag=0.0), dict(gravity=-0.1, drag=0.4, spin=2.0)]
out = []
with gl_context("egl"):
    target = OffscreenTarget(W, H, 0)
    for case in cases:
        pool = Particles(capacity=4)
        pool.add(Batch(pos=np.array([[0.3, 0.4]]), vel=np.array([[0.35, 0.6]]), life=5.0, size=0.03,
                       color=np.array([1.0, 1.0, 1.0, 1.0]), **case))
        for _ in range(42):
            pool.step(1 / 60)
        cpu = pool.state_at_now()["pos"][0]
        points = ParticleRenderer()
        target.begin()
        GL.glClearColor(0, 0, 0, 0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT)
        points.draw(pool, W, H)
        points.close()
        a = np.frombuffer(target.read(), np.uint8).reshape(H, W, 4)[..., 3].astype(float)
        ys, xs = np.nonzero(a)
        w = a[ys, xs]
        gpu_px = [float((xs * w).sum() / w.sum()) + 0.5, float(H - ((ys * w).sum() / w.sum()) - 0.5)]
        out.append({"cpu_px": [float(cpu[0] * H), float(cpu[1] * H)], "gpu_px": gpu_px})
    target.delete()
print(json.dumps(out))
"""


def test_the_gpu_moves_particles_as_the_cpu_formula_does():
    env = {**os.environ, "PYOPENGL_PLATFORM": "egl", "PYTHONPATH": str(ROOT), "LIBGL_ALWAYS_SOFTWARE": "1"}
    env.pop("DISPLAY", None)
    r = subprocess.run([sys.executable, "-c", PARITY], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    import json

    for case in json.loads(r.stdout.strip().splitlines()[-1]):
        dx, dy = (g - c for g, c in zip(case["gpu_px"], case["cpu_px"]))
        assert abs(dx) < 1.0 and abs(dy) < 1.0, case  # the shader's flight matches, to a pixel

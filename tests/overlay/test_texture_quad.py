"""A 2D avatar frame drawn as a textured quad with real OpenGL (EGL): contained in the
window, centred, standing on the bottom edge, transparent around it, not flipped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from overlay.texture_quad import fit_rect

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json
import numpy as np
from avatar.render.snapshot import gl_context, OffscreenTarget
from overlay.texture_quad import TextureQuad
from OpenGL import GL

W, H = 400, 300
img = np.zeros((64, 64, 4), np.uint8)
img[:32, :, :] = [255, 0, 0, 255]     # top half red
img[32:, :, :] = [0, 0, 255, 255]     # bottom half blue
img[:, :8, :] = 0                     # a transparent stripe on the left
with gl_context("egl"):
    target, quad = OffscreenTarget(W, H, 0), TextureQuad()
    quad.upload(img)
    target.begin()
    GL.glClearColor(0, 0, 0, 0)
    GL.glClear(GL.GL_COLOR_BUFFER_BIT)
    quad.draw(W, H)
    px = np.frombuffer(target.read(), np.uint8).reshape(H, W, 4)  # top row first
    quad.close()
    target.delete()
at = lambda x, y: px[y, x].tolist()  # (x, y) from the top-left, as a person reads a picture
print(json.dumps({"top": at(200, 40), "bottom": at(200, 260), "left_of_image": at(20, 150),
                  "stripe": at(55, 150), "image_left_edge": at(95, 150)}))
"""


def test_fit_rect_contains_and_stands_on_the_bottom():
    assert fit_rect(512, 512, 400, 300) == pytest.approx((-0.75, -1.0, 0.75, 1.0))
    x0, y0, x1, y1 = fit_rect(512, 512, 300, 600)
    assert (x0, x1) == pytest.approx((-1.0, 1.0)) and y0 == -1.0 and y1 == pytest.approx(0.0)


def test_a_frame_is_drawn_upright_and_transparent_around(tmp_path):
    env = {**os.environ, "PYOPENGL_PLATFORM": "egl", "PYTHONPATH": str(ROOT), "LIBGL_ALWAYS_SOFTWARE": "1"}
    env.pop("DISPLAY", None)
    r = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["top"] == [255, 0, 0, 255] and got["bottom"] == [0, 0, 255, 255]  # not upside down
    assert got["left_of_image"][3] == 0  # the window around the image stays see-through
    assert got["stripe"][3] == 0  # and so does the image's own transparency
    assert got["image_left_edge"][3] == 255

"""On-screen transparency: on a composited X display, the desktop shows through the
overlay window wherever it draws nothing (what OBS's capture with "Allow
Transparency" and a streamer's own eyes see)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(any(shutil.which(t) is None for t in ("xvfb-run", "xcompmgr", "import")),
                                reason="xvfb-run, xcompmgr or ImageMagick missing: scripts/setup.sh test installs them")


def pixel(png: Path, x: int, y: int) -> tuple[int, ...]:
    out = subprocess.run(["convert", str(png), "-format", f"%[fx:int(255*p{{{x},{y}}}.r)],"
                          f"%[fx:int(255*p{{{x},{y}}}.g)],%[fx:int(255*p{{{x},{y}}}.b)]", "info:"],
                         capture_output=True, text=True, check=True).stdout
    return tuple(int(v) for v in out.split(","))


def test_desktop_shows_through_the_overlay(tmp_path):
    env = {**os.environ, "LIBGL_ALWAYS_SOFTWARE": "1", "PYTHONPATH": str(ROOT)}
    env.pop("VTBOT_CONFIG", None)
    shot = tmp_path / "screen.png"
    r = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1280x800x24 +extension Composite +extension GLX",
                        sys.executable, str(ROOT / "tests" / "overlay" / "compositor_check.py"),
                        str(tmp_path / "state.json"), str(shot)],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and shot.exists(), r.stdout[-3000:] + r.stderr[-3000:]
    blue = (40, 120, 200)
    assert pixel(shot, 50, 50) == blue  # the desktop, outside the overlay
    assert pixel(shot, 300, 300) == blue  # inside the overlay, where it draws nothing: see-through
    caption = pixel(shot, 145, 585)  # the caption's dark box, inside the overlay
    assert sum(caption) < sum(blue) / 2

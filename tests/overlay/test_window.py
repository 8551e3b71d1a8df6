"""The overlay window under Xvfb with Mesa's software OpenGL: transparent where nothing
is drawn, captions while the avatar speaks, hotkeys reaching the bot as commands."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("xvfb-run") is None,
                                reason="xvfb-run missing: scripts/setup.sh test installs it")


def run_check(tmp_path: Path, chroma: str = "-") -> dict:
    env = {**os.environ, "LIBGL_ALWAYS_SOFTWARE": "1", "PYTHONPATH": str(ROOT)}
    env.pop("VTBOT_CONFIG", None)
    r = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1280x800x24 +extension GLX",
                        sys.executable, str(ROOT / "tests" / "overlay" / "window_check.py"),
                        str(tmp_path / "talking.png"), chroma],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_transparent_window_captions_and_hotkeys(tmp_path):
    got = run_check(tmp_path)
    assert got["connected"]
    assert got["avatar_error"] is None
    assert got["idle_corner"][3] == 0  # nothing drawn there: see-through
    assert got["idle_center"][3] == 255  # the avatar's face: opaque
    assert got["caption_seen"] and got["caption_opaque_pixels"] > 50
    assert got["talking_corner"][3] == 0
    assert got["commands_arrived"] and got["commands"] == [["skip", ""], ["vfx", "fireworks"]]
    assert got["skipped_locally"]  # skip silenced this overlay at once, too
    assert got["vfx_started"] and got["vfx_burst"] and got["vfx_particles"] > 100
    # fireworks drawn where the window was see-through; gone after (her hair's sway aside)
    assert got["vfx_new_pixels"] > 2000 and got["vfx_after_new_pixels"] < 200, got
    assert got["vfx_over"]
    assert got["help_shown"] and got["state_saved"]
    assert got["expression"] == ["happy", 1.0]  # the expression hotkey shows the next emotion
    w0, h0, w1, h1 = got["wheel_grew"]
    assert (w1, h1) == (round(w0 * 1.1), round(h0 * 1.1))  # the wheel scales the window


def test_chroma_key_fills_the_background(tmp_path):
    got = run_check(tmp_path, "#00ff00")
    assert got["idle_corner"] == [0, 255, 0, 255]


def test_demo_opens_the_overlay_window_when_there_is_a_display(tmp_path):
    (tmp_path / "vtbot.yaml").write_text(
        "persona:\n  max_reply_sentences: 1\n"
        "demo:\n  lines:\n    - {user: coolguy42, text: \"hi Mochi!\"}\n"
        "link:\n  port: 0\n")
    env = {**os.environ, "LIBGL_ALWAYS_SOFTWARE": "1", "COLUMNS": "200", "PYTHONPATH": str(ROOT)}
    env.pop("VTBOT_CONFIG", None)
    r = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1280x800x24 +extension GLX",
                        sys.executable, "-m", "bot.cli", "demo", "--no-play"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    assert "overlay window opened" in out and "overlay 'window' connected" in out
    assert "first audio" in out and "overlay 'window' disconnected" in out


def test_a_tha3_avatar_that_cannot_load_falls_back_to_the_vrm(tmp_path):
    env = {**os.environ, "LIBGL_ALWAYS_SOFTWARE": "1", "PYTHONPATH": str(ROOT)}
    r = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1280x800x24 +extension GLX",
                        sys.executable, str(ROOT / "tests" / "overlay" / "tha3_fallback_check.py"), str(tmp_path)],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert "avatar.tha3.image is not set" in got["avatar_error"]  # says what is missing
    assert got["vrm_drawn"] and not got["tha3_view"] and got["face"][3] == 255  # Mochi stands in


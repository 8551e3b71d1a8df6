"""The soak run as a test: the whole bot under 50 chat messages/s plus alerts keeps
answering, sheds what it cannot take and fails nothing unseen.

It runs until five answers and five alerts were heard, however long that takes on this
machine (the duration is only a safety limit). Rates, latency and memory are machine
properties: `scripts/soak.py --check` measures them (10 minutes), not this test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_soak_keeps_answering_under_heavy_chat(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "VTBOT_CONFIG"}
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "soak.py"), "--duration", "900",
                        "--until-answered", "5", "--until-alerts", "5", "--interval", "2",
                        "--rate", "50", "--out", str(tmp_path), "--quiet"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1200)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    run = json.loads((tmp_path / "soak.json").read_text())
    s = run["summary"]
    assert s["answered"] >= 5 and s["alerts_played"] >= 5, s  # the bot kept talking
    assert s["max_queue"] <= 30 and s["unhandled_errors"] == 0, s  # bounded, nothing failed unseen
    assert s["why"].get("blocked: rate", 0) > 0  # chat beyond 2 accepted lines/s is shed, not queued
    assert (tmp_path / "soak.png").stat().st_size > 10_000

"""Two minutes of the soak test: the whole bot at 50 chat messages/s plus alerts, and
memory must stay flat after warm-up (the full run is `scripts/soak.py`, 10 minutes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_two_minute_soak_keeps_memory_flat_and_keeps_answering(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "VTBOT_CONFIG"}
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "soak.py"), "--duration", "120",
                        "--rate", "50", "--out", str(tmp_path), "--quiet", "--check"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=420)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-4000:]
    run = json.loads((tmp_path / "soak.json").read_text())
    s = run["summary"]
    assert s["received_per_s"] >= 45  # the simulated chat kept its rate
    assert s["memory_flat"] and s["rss_growth_after_warmup_mb"] <= 25, s
    assert s["answered"] >= 5 and s["alerts_played"] >= 5, s  # the bot kept talking
    assert s["max_queue"] <= 30 and s["unhandled_errors"] == 0, s  # bounded, nothing failed unseen
    assert s["why"].get("blocked: rate", 0) > 0  # chat beyond 2 accepted lines/s is shed, not queued
    assert (tmp_path / "soak.png").stat().st_size > 10_000

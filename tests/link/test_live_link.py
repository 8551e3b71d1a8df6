"""`vtbot run` with an overlay connected over the link: what the streamer types is
answered, and the answer arrives at the overlay as audio + visemes; the overlay's
hotkeys come back as commands."""

from __future__ import annotations

import asyncio
import os
import sys

import numpy as np

from overlay.link_client import LinkClient
from tests.conftest import free_port

TOKEN = "live-test-token-0123456789"


async def test_vtbot_run_serves_an_overlay(tmp_path):
    port = free_port()
    (tmp_path / "vtbot.yaml").write_text(f"audio:\n  play: false\nlink:\n  port: {port}\n")
    env = {**os.environ, "VTBOT_LINK_TOKEN": TOKEN, "COLUMNS": "200"}
    env.pop("VTBOT_CONFIG", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "--no-play", cwd=tmp_path, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    segments, events = [], []
    answered = asyncio.Event()

    def on_event(event: dict) -> None:
        events.append(event)
        if event["type"] == "speech.end":
            answered.set()

    client = LinkClient(f"ws://127.0.0.1:{port}/link", TOKEN, name="test-overlay",
                        on_segment=segments.append, on_event=on_event)
    runner = asyncio.create_task(client.run(first_delay=0.2))
    try:
        await asyncio.wait_for(client.connected.wait(), 120)  # models load first
        assert client.welcome["persona"] == "Mochi"
        assert (await client.command("vfx", "fireworks"))["ok"]
        assert (await client.command("vfx", "confetti 2.5"))["ok"]
        refused = await client.command("vfx", "lasers")
        assert not refused["ok"] and "unknown effect 'lasers'" in refused["message"]
        assert (await client.command("mute"))["message"].startswith("Mochi is muted")
        assert (await client.command("unmute"))["ok"]
        proc.stdin.write(b"hey Mochi, what is your favourite game?\n")
        await proc.stdin.drain()
        await asyncio.wait_for(answered.wait(), 120)
        kinds = [e["type"] for e in events if e["type"] != "result"]
        # mute told the overlay to drop what it held ("stop"), then the answer came
        assert kinds == ["welcome", "vfx", "vfx", "overlay", "speech.start", "speech.end"]
        assert next(e for e in events if e["type"] == "overlay")["name"] == "stop"
        effects = [(e["name"], e["params"]["intensity"]) for e in events if e["type"] == "vfx"]
        assert effects == [("fireworks", 1.0), ("confetti", 2.5)]
        assert segments and all(s.visemes.n_samples == len(s.pcm) for s in segments)
        assert sum(len(s.pcm) for s in segments) > 22050 // 2 and np.abs(segments[0].pcm).max() > 1000
        end = next(e for e in events if e["type"] == "speech.end")
        assert end["text"].startswith(segments[0].caption)
    finally:
        runner.cancel()
        proc.stdin.close()
        out = (await asyncio.wait_for(proc.communicate(), 120))[0].decode()
    assert proc.returncode == 0, out
    assert "overlay link: ws://127.0.0.1" in out

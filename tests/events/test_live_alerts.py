"""`vtbot run` with alerts: `vtbot trigger` rehearses a cheer, the overlay gets the
effect (scaled with the bits) and hears the thank-you line; a repeat delivery is
ignored; a bad rules file stops the start with the file, rule and key."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from overlay.link_client import LinkClient
from tests.conftest import free_port

TOKEN = "live-alerts-token-0123456789"
TRIGGER = "trigger-token-0123456789abcdef"
RULES = """rules:
  - name: cheer
    on: cheer
    when: bits >= 100
    do:
      - vfx: {kind: fireworks, scale: bits, per: 100}
      - say: "Thanks {user} for {bits} bits!"
      - expression: happy
  - name: follow
    on: follow
    do:
      - react: "{user} just followed the channel and said: {message}"
"""


def trigger(tmp_path, env, *args):
    return subprocess.run([sys.executable, "-m", "bot.cli", "trigger", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)


async def test_a_rehearsed_cheer_reaches_the_overlay(tmp_path):
    port, tport = free_port(), free_port()
    (tmp_path / "rules.yaml").write_text(RULES)
    (tmp_path / "vtbot.yaml").write_text(
        f"audio:\n  play: false\nlink:\n  port: {port}\nevents:\n  rules_file: rules.yaml\n"
        f"  journal: {tmp_path / 'journal.sqlite3'}\n  alert_gap_s: 0\n  triggers:\n    port: {tport}\n")
    env = {**os.environ, "VTBOT_LINK_TOKEN": TOKEN, "VTBOT_TRIGGER_TOKEN": TRIGGER, "COLUMNS": "200"}
    env.pop("VTBOT_CONFIG", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "--no-play", cwd=tmp_path, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    events, segments = [], []
    arrived = asyncio.Event()  # set on each event from the bot

    def on_event(event: dict) -> None:
        events.append(event)
        arrived.set()

    async def until(predicate, what: str, timeout: float = 120) -> None:
        """Wait, event by event, until ``predicate()`` holds; fail naming ``what``."""
        async def wait() -> None:
            while not predicate():
                arrived.clear()
                await arrived.wait()

        try:
            await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"no {what}; events: {[e['type'] for e in events]}") from None

    client = LinkClient(f"ws://127.0.0.1:{port}/link", TOKEN, name="test-overlay",
                        on_segment=segments.append, on_event=on_event)
    runner = asyncio.create_task(client.run(first_delay=0.2))
    try:
        await asyncio.wait_for(client.connected.wait(), 120)
        first = await asyncio.to_thread(trigger, tmp_path, env, "cheer", "--bits", "500", "--user", "Bob",
                                        "--id", "cheer-1")
        assert first.returncode == 0 and "queued" in first.stdout, first.stdout + first.stderr
        again = await asyncio.to_thread(trigger, tmp_path, env, "cheer", "--bits", "500", "--id", "cheer-1")
        assert again.returncode == 0 and "already seen" in again.stdout
        small = await asyncio.to_thread(trigger, tmp_path, env, "cheer", "--bits", "5")
        assert "no rule applies" in small.stdout
        wrong = await asyncio.to_thread(trigger, tmp_path, {**env, "VTBOT_TRIGGER_TOKEN": "nope-" * 5}, "follow")
        assert wrong.returncode == 1 and "token is missing or wrong" in wrong.stderr
        await until(lambda: any(e["type"] == "expression" for e in events), "expression")
        kinds = [e["type"] for e in events if e["type"] not in ("result", "welcome")]
        assert kinds == ["vfx", "speech.start", "speech.end", "expression"]
        followed = await asyncio.to_thread(trigger, tmp_path, env, "follow", "--user", "Ann", "--message", "hi!")
        assert "queued" in followed.stdout
        await until(lambda: sum(e["type"] == "speech.end" for e in events) >= 2, "second speech.end")
        starts = [e for e in events if e["type"] == "speech.start"]
        assert starts[-1]["viewer"] == "Stream alert" and "Ann just followed" in starts[-1]["prompt"]
        assert [e for e in events if e["type"] == "speech.end"][-1]["text"]  # the brain reacted aloud
        vfx = next(e for e in events if e["type"] == "vfx")
        assert (vfx["name"], vfx["params"]["intensity"]) == ("fireworks", 5.0)
        end = next(e for e in events if e["type"] == "speech.end")
        assert end["text"] == "Thanks Bob for 500 bits!" and segments
    finally:
        runner.cancel()
        proc.stdin.close()
        out = (await asyncio.wait_for(proc.communicate(), 120))[0].decode()
    assert proc.returncode == 0, out
    assert "alerts: 2 rules" in out
    assert TRIGGER not in out


def test_a_bad_rules_file_stops_the_start(tmp_path):
    (tmp_path / "rules.yaml").write_text("rules:\n  - on: cheer\n    do:\n      - vfx: lasers\n")
    (tmp_path / "vtbot.yaml").write_text(f"audio:\n  play: false\nlink:\n  enabled: false\n"
                                         f"events:\n  rules_file: rules.yaml\n  journal: {tmp_path / 'j.sqlite3'}\n")
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("VTBOT_CONFIG", None)
    r = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--no-play"], cwd=tmp_path, env=env,
                       input="", capture_output=True, text=True, timeout=180)
    assert r.returncode == 2
    assert "rules.yaml: rule 'cheer #1'.do[0].vfx: unknown effect 'lasers'" in r.stdout + r.stderr

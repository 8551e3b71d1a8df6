"""A full `vtbot run` with every secret set, poked where secrets travel (wrong tokens at
each endpoint, a refused overlay, OBS and donation services that cannot be reached, a
DEBUG log file): no secret value appears in its output, its log file, its audit log or
`vtbot doctor`'s report."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp

from ..conftest import free_port

SECRETS = {
    "VTBOT_LINK_TOKEN": "link-S3cret-0f1e2d3c4b5a69788796",
    "VTBOT_TRIGGER_TOKEN": "trigger-S3cret-a1b2c3d4e5f60718",
    "VTBOT_OBS_PASSWORD": "obs-S3cret-pw-99887766554433",
    "VTBOT_KOFI_TOKEN": "kofi-S3cret-4ed70334-a412-4c44",
    "VTBOT_STREAMELEMENTS_TOKEN": "se-S3cret-eyJhbGciOiJIUzI1NiJ9.x",
    "VTBOT_STREAMLABS_TOKEN": "sl-S3cret-0123456789ABCDEF0123",
    "VTBOT_TWITCH_CLIENT_SECRET": "twitch-S3cret-abcdefghijklmn",
    "VTBOT_OPENAI_API_KEY": "sk-S3cret-openai-000111222333",
}


def config(tmp_path: Path, ports: dict[str, int]) -> Path:
    text = f"""
logging:
  level: DEBUG
  file: {tmp_path / 'vtbot.log'}
audio:
  play: false
link:
  port: {ports['link']}
overlay:
  auto_start: false
moderation:
  audit_log: {tmp_path / 'audit.jsonl'}
obs:
  enabled: true
  port: {ports['obs']}
events:
  journal: {tmp_path / 'journal.sqlite3'}
  triggers:
    port: {ports['triggers']}
  kofi:
    enabled: true
    port: {ports['kofi']}
  streamelements:
    enabled: true
    url: ws://127.0.0.1:{ports['se']}
  streamlabs:
    enabled: true
    url: http://127.0.0.1:{ports['sl']}
"""
    path = tmp_path / "vtbot.yaml"
    path.write_text(text)
    return path


async def poke(ports: dict[str, int]) -> list[int]:
    """Right and wrong secrets at every door; the statuses, to know the doors were there."""
    statuses = []
    trigger = f"http://127.0.0.1:{ports['triggers']}/trigger"
    kofi = f"http://127.0.0.1:{ports['kofi']}/kofi"
    async with aiohttp.ClientSession() as s:
        for token in (SECRETS["VTBOT_KOFI_TOKEN"], SECRETS["VTBOT_TRIGGER_TOKEN"]):
            async with s.post(trigger, json={"type": "cheer", "user": "Leaky", "bits": 100, "message": "hi"},
                              headers={"Authorization": f"Bearer {token}"}) as r:
                statuses.append(r.status)
        for token in (SECRETS["VTBOT_TRIGGER_TOKEN"], SECRETS["VTBOT_KOFI_TOKEN"]):
            data = {"verification_token": token, "message_id": f"m-{token[:4]}", "type": "Donation",
                    "from_name": "Leaky", "amount": "3.00", "currency": "USD", "is_public": True,
                    "message": "hello", "timestamp": "2026-11-23T10:00:00Z"}
            async with s.post(kofi, data={"data": json.dumps(data)}) as r:
                statuses.append(r.status)
        async with s.ws_connect(f"ws://127.0.0.1:{ports['link']}/link") as ws:
            await ws.send_str(json.dumps({"type": "hello", "protocol": 1, "token": SECRETS["VTBOT_OBS_PASSWORD"],
                                          "client": "overlay", "name": "intruder"}))
            await ws.receive(timeout=5)
            statuses.append(ws.close_code or 0)
    return statuses


# what OBS and the donation services log each time a connection fails (then they retry)
FAILURES = ("OBS: disconnected", "streamelements: disconnected", "streamlabs: disconnected")


async def read_until(proc: asyncio.subprocess.Process, out: bytearray, done: Callable[[str], bool],
                     what: str, timeout: float) -> None:
    """Read the run's output into ``out`` until ``done(output so far)``; fail naming ``what``."""
    async def read() -> None:
        while not done(out.decode(errors="replace")):
            line = await proc.stdout.readline()
            assert line, f"the run ended before {what}: " + out.decode(errors="replace")[-3000:]
            out.extend(line)

    try:
        await asyncio.wait_for(read(), timeout)
    except TimeoutError:
        raise AssertionError(f"no {what} in {timeout:.0f} s: " + out.decode(errors="replace")[-3000:]) from None


async def run_and_poke(tmp_path: Path, env: dict[str, str], ports: dict[str, int]) -> tuple[str, list[int]]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "--plain", "--no-play", cwd=tmp_path, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out = bytearray()
    try:
        await read_until(proc, out, lambda text: "alerts:" in text, "start (everything up)", 300)
        statuses = await poke(ports)
        proc.stdin.write(b"hey Mochi, what is your favourite colour?\n")
        await proc.stdin.drain()
        # OBS and each donation service failed, retried and failed again: their retry paths ran
        await read_until(proc, out, lambda text: all(text.count(f) >= 2 for f in FAILURES),
                         "second failure from each of OBS, StreamElements and Streamlabs", 300)
    finally:
        proc.stdin.close()
        rest, _ = await asyncio.wait_for(proc.communicate(), 180)
        out.extend(rest)
    assert proc.returncode == 0, out.decode(errors="replace")[-3000:]
    return out.decode(errors="replace"), statuses


async def doctor(tmp_path: Path, env: dict[str, str]) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "doctor", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 180)
    return out.decode(errors="replace")


async def test_no_secret_reaches_any_output(tmp_path):
    ports = {name: free_port() for name in ("link", "obs", "triggers", "kofi", "se", "sl")}
    config(tmp_path, ports)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("VTBOT_")}, **SECRETS,
           "COLUMNS": "200", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    output, statuses = await run_and_poke(tmp_path, env, ports)
    report = await doctor(tmp_path, env)
    assert statuses == [401, 200, 401, 200, 4401], statuses  # every door was tried both ways
    assert "VTBOT_OBS_PASSWORD" in report or "obs_password" in report  # doctor shows secrets as set
    log_file = (tmp_path / "vtbot.log").read_text()
    assert "DEBUG" in log_file and "obs" in log_file.lower()  # the log really saw the failing parts
    places = {"run output": output, "log file": log_file, "doctor": report,
              "audit log": (tmp_path / "audit.jsonl").read_text() if (tmp_path / "audit.jsonl").exists() else ""}
    leaks = [(name, where) for name, value in SECRETS.items() for where, text in places.items()
             if value in text or value[:16] in text]
    assert leaks == [], leaks

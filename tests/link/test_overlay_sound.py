"""`vtbot overlay` on a PC with a sound device: every sample the bot sends reaches the
device, in order (ALSA's file plugin stands in for the sound card)."""

from __future__ import annotations

import asyncio
import os
import sys

import numpy as np

from bot.link.server import LinkServer, LinkSink
from bot.speech.segment import Utterance, UtteranceStats

from .test_overlay_core import segment

TOKEN = "sound-test-token-0123456789"


async def test_overlay_plays_every_sample(alsa_capture, tmp_path):
    home, raw = alsa_capture
    server = LinkServer(TOKEN, port=0)
    await server.start()
    env = {**os.environ, "HOME": str(home), "VTBOT_LINK_TOKEN": TOKEN}
    env.pop("VTBOT_CONFIG", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "overlay", "--headless", "--connect", server.url, cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        assert await server.wait_client(timeout=60), "the overlay did not connect"
        sink = LinkSink(server)
        utt = Utterance("u1", "viewer", "hi")
        segs = [segment("u1", 0), segment("u1", 1, seconds=0.4)]
        await sink.start(utt)
        for s in segs:
            await sink.segment(s)
        await sink.finish(utt, UtteranceStats(text="caption 0 caption 1"))
        assert await server.wait_heard("u1", timeout=30)
    finally:
        proc.terminate()
        out = (await asyncio.wait_for(proc.communicate(), 20))[0].decode()
        await server.close()
    # ALSA's null device takes samples faster than real time, so the terminal may show no
    # caption at all (the window and core tests check captions); the audio must all arrive
    assert "overlay audio: 22050 Hz" in out, out
    data = np.fromfile(raw, dtype=np.int16)
    expected = np.concatenate([s.pcm for s in segs])
    # bit-exact, in order: the first non-zero sample lines the two up
    start = int(np.argmax(data != 0))
    first = int(np.argmax(expected != 0))
    assert np.array_equal(data[start:start + expected.size - first], expected[first:])

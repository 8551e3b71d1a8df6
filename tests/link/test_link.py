"""The bot↔overlay link over a real socket: token, speech frames, commands, defences."""

from __future__ import annotations

import asyncio
import json
import stat

import aiohttp
import numpy as np
import pytest

from avatar.lipsync.timeline import VisemeTimeline
from bot.link import protocol as p
from bot.link.server import LinkServer, LinkSink
from bot.link.token import load_or_create
from bot.speech.segment import SpeechSegment, Utterance, UtteranceStats
from overlay.link_client import LinkClient, LinkRefused

TOKEN = "test-token-0123456789abcdef"


@pytest.fixture
async def server():
    commands = []

    async def on_command(name, args, who):
        commands.append((name, args, who))
        return (name != "scene", f"did {name}" if name != "scene" else "OBS is not connected")

    srv = LinkServer(TOKEN, port=0, persona="Mochi", on_command=on_command)
    srv.commands = commands
    await srv.start()
    yield srv
    await srv.close()


async def connected(srv, **kw):
    client = LinkClient(srv.url, TOKEN, **kw)
    task = asyncio.create_task(client.run(retry=False))
    await asyncio.wait_for(client.connected.wait(), 5)
    return client, task


def a_segment(utt="u1", index=0, n=2205, rate=22050):
    pcm = (np.sin(np.arange(n) / 7.0) * 8000).astype(np.int16)
    keys = [(0, "sil"), (n // 3, "aa"), (2 * n // 3, "PP")]
    tl = VisemeTimeline.from_dict({"format": "vtbot.visemes/1", "sample_rate": rate, "n_samples": n,
                                   "keys": [list(k) for k in keys]})
    return SpeechSegment(utt, index, "Hello chat!", pcm, rate, tl)


async def test_speech_reaches_the_overlay_intact(server):
    got, events = [], []
    ended = asyncio.Event()

    def on_event(event: dict) -> None:
        events.append(event)
        if event["type"] == "speech.end":
            ended.set()

    client, task = await connected(server, on_segment=got.append, on_event=on_event)
    assert client.welcome["persona"] == "Mochi" and client.welcome["protocol"] == 1
    sink = LinkSink(server)
    utt = Utterance("u1", "coolguy42", "hi!")
    seg0, seg1 = a_segment(index=0), a_segment(index=1, n=4410)
    await sink.start(utt)
    await sink.segment(seg0)
    await sink.segment(seg1)
    await sink.finish(utt, UtteranceStats(text="Hello chat! Hello chat!"))
    await asyncio.wait_for(ended.wait(), 5)
    assert [e["type"] for e in events] == ["welcome", "speech.start", "speech.end"]
    assert [s.index for s in got] == [0, 1]
    assert np.array_equal(got[0].pcm, seg0.pcm) and np.array_equal(got[1].pcm, seg1.pcm)
    assert got[1].visemes == seg1.timeline and got[0].caption == "Hello chat!"
    # the bot waits for what viewers heard
    waiter = asyncio.create_task(server.wait_heard("u1", timeout=5))
    await client.playback("u1", 0, "finished")
    await client.command("skip")  # a marker: answered only after the server took the report
    assert server._heard["u1"] == {0} and not waiter.done()  # one of two segments is not heard
    await client.playback("u1", 1, "finished")
    assert await waiter
    task.cancel()


async def test_commands_come_back_with_results(server):
    client, task = await connected(server, name="studio")
    res = await client.command("skip")
    assert res == {"type": "result", "id": res["id"], "name": "skip", "ok": True, "message": "did skip"}
    res = await client.command("scene", "Just Chatting")
    assert res["ok"] is False and "OBS" in res["message"]
    assert server.commands == [("skip", "", "overlay:studio"), ("scene", "Just Chatting", "overlay:studio")]
    task.cancel()


@pytest.mark.parametrize("token, code", [("wrong-token", 4401), ("", 4401)])
async def test_a_client_without_the_token_is_refused(server, token, code):
    client = LinkClient(server.url, token)
    with pytest.raises(LinkRefused, match="wrong token"):
        await asyncio.wait_for(client.run(retry=False), 5)
    assert client.close_code == code and server.refused == 1 and not server.clients


async def test_hello_rules(server):
    async with aiohttp.ClientSession() as s:
        async with s.ws_connect(server.url) as ws:  # something else first
            await ws.send_str(json.dumps({"type": "command", "name": "skip"}))
            msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.CLOSE and ws.close_code == 4400
        async with s.ws_connect(server.url) as ws:  # a future protocol
            await ws.send_str(json.dumps({"type": "hello", "protocol": 9, "token": TOKEN}))
            await ws.receive()
            assert ws.close_code == 4426
        async with s.ws_connect(server.url) as ws:
            await ws.send_bytes(b"\x00" * 10)
            await ws.receive()
            assert ws.close_code == 4400
    assert server.refused == 3


async def test_malformed_and_oversized_frames(server):
    events = []
    client, task = await connected(server, on_event=events.append)
    for bad in ["not json", "[1,2]", json.dumps({"type": "command", "name": "rm -rf"}),
                json.dumps({"type": "nope"})]:
        await client.send_raw(bad)
    assert (await client.command("skip"))["ok"]  # a marker: its result follows the four errors
    errors = [e["message"] for e in events if e["type"] == "error"]
    assert len(errors) == 4 and errors[0].startswith("not JSON") and "name" in errors[2]
    assert client.connected.is_set()  # still served
    await client.send_raw(b"\x01\x02")  # the fifth bad frame: closed
    await asyncio.wait_for(task, 5)
    assert client.close_code == 4429

    client, task = await connected(server)
    await client.send_raw("x" * (p.MAX_CLIENT_FRAME + 10))  # beyond the size limit
    await asyncio.wait_for(task, 5)
    assert client.close_code == 1009  # message too big
    assert not server.clients


async def test_audio_frame_validation():
    pcm = np.arange(-5, 5, dtype=np.int16)
    assert p.unpack_audio(p.pack_audio(7, 22050, pcm))[0] == 7
    for frame, why in [(b"VTA", "shorter"), (b"XXXX" + b"\0" * 8, "magic"),
                       (p.pack_audio(1, 22050, pcm) + b"\0", "odd"),
                       (p.AUDIO_HEADER.pack(p.AUDIO_MAGIC, 1, 5), "sample rate")]:
        with pytest.raises(p.ProtocolError, match=why):
            p.unpack_audio(frame)


def test_token_file_is_private(tmp_path):
    path = tmp_path / "cfg" / "link-token"
    token = load_or_create(path, env={})
    assert len(token) >= 24 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create(path, env={}) == token
    assert load_or_create(path, env={"VTBOT_LINK_TOKEN": "from-env-123456789"}) == "from-env-123456789"

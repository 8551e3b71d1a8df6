"""A headless overlay end to end: speech from the bot is played on the overlay's clock,
the mouth follows it frame by frame, playback is reported back, hotkeys arrive as
commands."""

from __future__ import annotations

import asyncio

import numpy as np

from avatar.lipsync.timeline import VisemeTimeline
from bot.link.server import LinkServer, LinkSink
from bot.speech.segment import SpeechSegment, Utterance, UtteranceStats
from overlay.core import OverlayCore
from overlay.speech_clock import SpeechClock

TOKEN = "core-test-token-0123456789"


def segment(utt, index, rate=22050, seconds=0.6):
    n = int(rate * seconds)
    pcm = (np.sin(np.arange(n) / 5.0) * 9000).astype(np.int16)
    third = n // 3
    tl = VisemeTimeline.from_dict({"format": "vtbot.visemes/1", "sample_rate": rate, "n_samples": n,
                                   "keys": [[0, "sil"], [third, "aa"], [2 * third, "sil"]]})
    return SpeechSegment(utt, index, f"caption {index}", pcm, rate, tl)


def test_speech_clock_places_plays_and_skips():
    clock = SpeechClock(1000)
    a = segment("u", 0, rate=1000, seconds=0.5)
    b = segment("u", 1, rate=1000, seconds=0.5)
    clock.add("u", 0, "a", a.pcm, 1000, a.timeline)
    clock.add("u", 1, "b", b.pcm, 1000, b.timeline)
    out = np.empty(300, dtype=np.int16)
    clock.fill(out)
    assert np.array_equal(out, a.pcm[:300]) and clock.events() == [("started", "u", 0)]
    assert clock.at(200).segment.index == 0 and clock.at(200).viseme == "aa"
    assert clock.at(700).segment.index == 1  # laid end to end
    clock.fill(out)
    assert np.array_equal(out[:200], a.pcm[300:]) and np.array_equal(out[200:], b.pcm[:100])
    assert clock.events() == [("finished", "u", 0), ("started", "u", 1)]
    clock.skip()
    clock.fill(out)
    assert not out.any() and clock.events() == [("skipped", "u", 1)] and clock.idle


async def test_headless_overlay_plays_and_moves_the_mouth():
    commands = []

    async def on_command(name, args, who):
        commands.append((name, args))
        return True, name

    spoke = False
    closed_after = asyncio.Event()  # a frame with the mouth shut once the speech has played

    def on_frame(frame) -> None:
        nonlocal spoke
        spoke = spoke or frame.caption == "caption 0"
        if spoke and frame.caption == "" and frame.mouth["aa"] == 0.0:
            closed_after.set()

    server = LinkServer(TOKEN, port=0, persona="Mochi", on_command=on_command)
    await server.start()
    overlay = OverlayCore(server.url, TOKEN, play=False, fps=60, lead_s=0.0, on_frame=on_frame)
    runner = asyncio.create_task(overlay.run())
    try:
        await asyncio.wait_for(overlay.link.connected.wait(), 5)
        sink = LinkSink(server)
        utt = Utterance("u1", "coolguy42", "hi")
        await sink.start(utt)
        await sink.segment(segment("u1", 0))
        await sink.finish(utt, UtteranceStats(text="caption 0"))
        assert await server.wait_heard("u1", timeout=30)  # the overlay reported it played
        await asyncio.wait_for(closed_after.wait(), 30)
        assert (await overlay.hotkey("skip"))["ok"]
        await overlay.link.command("vfx", "fireworks")
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await server.close()
    frames = list(overlay.state.frames)
    spoken = [f for f in frames if f.caption == "caption 0"]
    open_ = [f for f in spoken if f.viseme == "aa"]
    assert len(spoken) >= 20 and len(open_) >= 6  # ~0.6 s at 60 fps; the middle third is "aa"
    assert max(f.mouth["aa"] for f in open_) > 0.8
    assert all(f.mouth["aa"] < 0.2 for f in spoken if f.viseme == "sil" and f is spoken[0])
    assert frames[-1].mouth["aa"] == 0.0 and frames[-1].caption == ""  # closed after the speech
    assert commands == [("skip", ""), ("vfx", "fireworks")]


async def test_the_bot_stops_an_overlays_buffered_speech():
    """Skip, mute and panic on the bot's side reach the overlay: what it still holds is dropped."""
    from bot.link import protocol
    from bot.live import stop_everywhere

    speaking = asyncio.Event()

    def on_frame(frame) -> None:
        if frame.caption:
            speaking.set()

    server = LinkServer(TOKEN, port=0, persona="Mochi")
    await server.start()
    overlay = OverlayCore(server.url, TOKEN, play=False, fps=60, lead_s=0.0, on_frame=on_frame)
    runner = asyncio.create_task(overlay.run())
    local = []
    try:
        await asyncio.wait_for(overlay.link.connected.wait(), 5)
        sink = LinkSink(server)
        utt = Utterance("u2", "coolguy42", "tell me a story")
        await sink.start(utt)
        for i in range(5):  # 3 s buffered at the overlay
            await sink.segment(segment("u2", i))
        await sink.finish(utt, UtteranceStats(text="a story"))
        await asyncio.wait_for(speaking.wait(), 30)
        stop_everywhere(lambda: local.append("speakers"), server)()
        assert await server.wait_heard("u2", timeout=30)  # reported skipped ...
        shown = {f.caption for f in overlay.state.frames}
        assert "caption 0" in shown and "caption 4" not in shown  # ... not played to the end
        assert overlay.clock.at(overlay.clock.cursor) is None and local == ["speakers"]
        assert protocol.overlay_action("stop") in list(overlay.state.actions)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await server.close()

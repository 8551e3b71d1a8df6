"""An answer's mood reaches the overlay: it rides on the segment, and the overlay shows
the expression when that sentence starts playing (not when it arrives)."""

from __future__ import annotations

import asyncio

from bot.emotion.reader import EmotionReader
from bot.knowledge.encoder import SentenceEncoder
from bot.link.server import LinkServer, LinkSink
from bot.speech.pipeline import Speaker
from overlay.core import OverlayCore

TOKEN = "emotion-test-token-0123456789"


def test_moods_reach_the_overlay_as_expressions(piper_engine, session_loop):
    reader = EmotionReader(SentenceEncoder())
    seen = []

    async def scenario():
        server = LinkServer(TOKEN, port=0, persona="Mochi")
        await server.start()
        overlay = OverlayCore(server.url, TOKEN, play=False, fps=60, lead_s=0.0)
        overlay.on_frame = lambda f: seen.append((f.caption, dict(f.life.expressions) if f.life else {}))
        runner = asyncio.create_task(overlay.run())
        try:
            await asyncio.wait_for(overlay.link.connected.wait(), 5)
            speaker = Speaker(piper_engine, [LinkSink(server)], mood=reader, mood_hold_s=0.5)
            stats = await speaker.say("Yay, thank you so much, I love it! Oh no, that is so sad. "
                                      "[angry] Stop spamming!")
            assert stats.utterance_id  # a fixed line is waited for like an answer
            assert await server.wait_heard(stats.utterance_id, timeout=30)  # the overlay played it all
            assert overlay.clock.idle
            return stats
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
            await server.close()

    stats = session_loop.run_until_complete(asyncio.wait_for(scenario(), 120))
    assert [m for i, m in enumerate(stats.moods) if i == 0 or stats.moods[i - 1] != m] == ["happy", "sad", "angry"]
    assert "[angry]" not in stats.text
    assert [m for m, _ in overlay_moods(seen)] == ["happy", "sad", "angry"]
    # while a sentence plays, its emotion shows on the face
    for caption_part, mood in (("love it", "happy"), ("so sad", "sad"), ("Stop spamming", "angry")):
        during = [e for c, e in seen if caption_part in c]
        assert during and max(e.get(mood, 0.0) for e in during) > 0.5, (caption_part, mood)
    assert "[angry]" not in " ".join(c for c, _ in seen)  # the tag was not spoken or captioned


def overlay_moods(seen):
    out, last = [], None
    for caption, expressions in seen:
        top = max(((k, v) for k, v in expressions.items() if k != "blink"), key=lambda kv: kv[1], default=None)
        if top and top[1] > 0.5 and top[0] != last:
            out.append(top)
            last = top[0]
    return out

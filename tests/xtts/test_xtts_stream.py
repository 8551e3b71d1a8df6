"""The XTTS voice through the real coqui-tts loading and streaming code, on a tiny
model built here with the library's own classes (the real weights cannot be
downloaded here). Runs in .venv-xtts (scripts/setup_xtts_env.sh); skipped where
torch or coqui-tts is not installed.
"""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("TTS")

from bot.config.models import XttsConfig  # noqa: E402
from bot.speech.tts.base import TTSError  # noqa: E402
from bot.speech.tts.xtts import XttsEngine  # noqa: E402

from .tiny_xtts import build_tiny_xtts, write_reference_wav  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("xtts")
    model_dir = build_tiny_xtts(root / "tiny-xtts")
    ref = root / "voice.wav"
    write_reference_wav(ref)
    return model_dir, ref


def engine_for(tiny, **over) -> XttsEngine:
    model_dir, ref = tiny
    return XttsEngine(XttsConfig(model_dir=model_dir, reference_wavs=[ref], device="cpu",
                                 stream_chunk_size=4, **over))


def test_streams_chunks_from_the_tiny_model_without_blocking_the_loop(tiny):
    """Shown by hand-offs, not timing: while the model is producing (its generator paused
    in the worker), a task on the event loop must answer it; and the second chunk is
    only produced once the consumer holds the first, so the audio streams."""
    engine = engine_for(tiny)

    async def go():
        await engine.load()
        loop = asyncio.get_running_loop()
        generating = asyncio.Event()  # set from the worker, through the loop
        loop_answered = threading.Event()  # set by a task on the loop
        consumer_has_one = threading.Event()
        seen: dict[str, object] = {}
        produce = engine._model.inference_stream

        def inference_stream(*args, **kwargs):
            """XTTS's own generator, with two checkpoints in the worker thread."""
            seen["thread"] = threading.current_thread().name
            given = 0
            for wav in produce(*args, **kwargs):
                if "loop" not in seen:  # mid-utterance: is the loop free meanwhile?
                    loop.call_soon_threadsafe(generating.set)
                    seen["loop"] = loop_answered.wait(60)
                if given and "streamed" not in seen:  # is the first chunk out already?
                    seen["streamed"] = consumer_has_one.wait(60)
                given += bool(wav.numel())
                yield wav

        engine._model.inference_stream = inference_stream

        async def answer_the_worker():
            await generating.wait()
            loop_answered.set()

        helper = asyncio.create_task(answer_the_worker())
        chunks = []
        async for chunk in engine.stream("hello chat, welcome to the stream!"):
            chunks.append(chunk)
            consumer_has_one.set()
        await asyncio.wait_for(helper, 60)
        return chunks, seen

    chunks, seen = asyncio.run(go())
    assert engine.device == "cpu" and engine.deepspeed is False
    assert engine.sample_rate == 24000
    assert seen["thread"] != threading.main_thread().name  # XTTS ran beside the loop
    assert seen["loop"] is True  # the event loop kept running while XTTS worked
    assert seen["streamed"] is True  # the first chunk was out before the next was made
    assert len(chunks) >= 2  # streamed, not one block at the end
    for c in chunks:
        assert c.pcm.dtype == np.int16 and c.pcm.ndim == 1 and c.sample_rate == 24000
        assert c.phonemes is None  # lip sync estimates from the audio
    n = sum(c.n_samples for c in chunks)
    # one GPT audio token decodes to 1024 samples at 22.05 kHz → ~1115 at 24 kHz; the
    # tiny model speaks up to its 40-token limit
    assert 2 * 1000 <= n <= 70 * 1200


def test_voice_latents_are_cached_beside_the_model(tiny):
    model_dir, _ = tiny
    engine = engine_for(tiny)
    asyncio.run(engine.load())
    cached = list(model_dir.glob("vtbot-voice-*.pt"))
    assert len(cached) == 1
    again = engine_for(tiny)
    asyncio.run(again.load())
    assert again._latents[0].shape == engine._latents[0].shape


def test_cancelling_mid_stream_stops_the_worker(tiny):
    engine = engine_for(tiny)

    async def go():
        await engine.load()
        agen = engine.stream("the quick brown fox jumps over the lazy dog.")
        async for _ in agen:
            break
        await agen.aclose()
        # the engine lock is free again: the worker stopped after its current chunk
        # (a generous wait on the lock itself, in a thread: the loop stays free)
        return await asyncio.to_thread(engine.wait_idle, 120)

    assert asyncio.run(go())


def test_the_mouth_follows_the_text_through_piper(tiny):
    """XTTS gives no phoneme timing; each chunk's timeline comes from aligning it to
    Piper reading the same text, started before the first chunk as the bot does."""
    from bot.speech.lipsync_link import TimelineBuilder

    engine = engine_for(tiny)
    text = "Hello there, thanks for the follow!"

    async def go():
        await engine.load()
        builder = TimelineBuilder()
        assert engine.phoneme_timing is False
        builder.prepare(text)
        covered, following = [], []
        async for chunk in engine.stream(text):
            assert chunk.phonemes is None and chunk.text.strip() == text
            timeline = await asyncio.to_thread(builder.timeline, chunk)
            assert builder.aligning_text
            following.append(builder._aligner.following_reference)
            covered.append((timeline.duration_s, chunk.duration_s))
        await engine.close()
        return covered, following

    covered, following = asyncio.run(go())
    assert covered and all(following)  # Piper's reference was made and followed
    for timeline_s, audio_s in covered:
        assert timeline_s == pytest.approx(audio_s, abs=0.02)

"""The XTTS voice through the real coqui-tts loading and streaming code, on a tiny
model built here with the library's own classes (the real weights cannot be
downloaded here). Runs in .venv-xtts (scripts/setup_xtts_env.sh); skipped where
torch or coqui-tts is not installed.
"""

from __future__ import annotations

import asyncio
import time

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
    engine = engine_for(tiny)

    async def go():
        await engine.load()
        ticks = 0
        stop = asyncio.Event()

        async def ticker():
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.005)

        tick_task = asyncio.create_task(ticker())
        arrivals, chunks = [], []
        t0 = time.perf_counter()
        async for chunk in engine.stream("hello chat, welcome to the stream!"):
            arrivals.append(time.perf_counter() - t0)
            chunks.append(chunk)
        stop.set()
        await tick_task
        return chunks, arrivals, ticks, time.perf_counter() - t0

    chunks, arrivals, ticks, total = asyncio.run(go())
    assert engine.device == "cpu" and engine.deepspeed is False
    assert engine.sample_rate == 24000
    assert len(chunks) >= 2  # streamed, not one block at the end
    assert arrivals[0] < total  # the first chunk came before the last
    for c in chunks:
        assert c.pcm.dtype == np.int16 and c.pcm.ndim == 1 and c.sample_rate == 24000
        assert c.phonemes is None  # lip sync estimates from the audio
    n = sum(c.n_samples for c in chunks)
    # one GPT audio token decodes to 1024 samples at 22.05 kHz → ~1115 at 24 kHz; the
    # tiny model speaks up to its 40-token limit
    assert 2 * 1000 <= n <= 70 * 1200
    assert ticks >= total / 0.005 * 0.3  # the event loop kept running while XTTS worked


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
        # the engine lock is free again soon: the worker stopped after its current chunk
        for _ in range(400):
            if not engine._lock.locked():
                return True
            await asyncio.sleep(0.05)
        return False

    assert asyncio.run(go())

"""The default voice: real Piper audio with exact phoneme timing."""

import numpy as np

from bot.speech.tts.base import AudioChunk


def speak(session_loop, engine, text):
    async def go():
        return [c async for c in engine.stream(text)]

    return session_loop.run_until_complete(go())


def test_piper_makes_real_speech_with_phonemes(piper_engine, session_loop):
    chunks = speak(session_loop, piper_engine, "Thanks for the follow, coolguy42! Welcome to the stream.")
    assert len(chunks) == 2  # one chunk per sentence: sound starts before the whole text is done
    for c in chunks:
        assert isinstance(c, AudioChunk)
        assert c.sample_rate == 22050 and c.pcm.dtype == np.int16
        assert 0.5 < c.duration_s < 5
        rms = np.sqrt(np.mean(c.pcm.astype(np.float64) ** 2))
        assert rms > 1000  # audible speech, not silence
        assert c.phonemes, "alignments must be on"
        assert c.phonemes[0].start == 0
        assert all(a.end == b.start for a, b in zip(c.phonemes, c.phonemes[1:]))
        assert c.phonemes[-1].end <= c.n_samples
        assert c.n_samples - c.phonemes[-1].end < 0.05 * c.sample_rate


def test_piper_timeline_covers_the_audio_sample_for_sample(piper_engine, session_loop):
    from bot.speech.lipsync_link import TimelineBuilder

    builder = TimelineBuilder()
    for chunk in speak(session_loop, piper_engine, "Oh wow, a raid! Hello everyone, welcome in."):
        tl = builder.timeline(chunk)
        assert tl.n_samples == chunk.n_samples and tl.sample_rate == chunk.sample_rate
        assert tl.keys[0].start == 0 and tl.keys[-1].end == chunk.n_samples
        assert all(a.end == b.start for a, b in zip(tl.keys, tl.keys[1:]))
        # the mouth opens on the vowels of real speech
        labels = tl.frame_labels(0.01)
        assert sum(lbl != "closed" for lbl in labels) > len(labels) * 0.3


def test_piper_missing_voice_file_is_a_clear_error(defaults, session_loop, tmp_path):
    import pytest

    from bot.speech.tts.base import TTSError
    from bot.speech.tts.piper_tts import PiperEngine

    cfg = defaults.config.tts.piper.model_copy(update={"model_path": tmp_path / "en_GB-x.onnx"})
    with pytest.raises(TTSError, match=r"Piper voice file\(s\) not found: .*en_GB-x.onnx"):
        session_loop.run_until_complete(PiperEngine(cfg).load())


def test_engine_without_phonemes_gets_an_estimated_timeline(piper_engine, session_loop):
    """XTTS gives no phoneme timing: the audio estimator fills in, covering the chunk exactly."""
    from bot.speech.lipsync_link import TimelineBuilder
    from bot.speech.tts.base import AudioChunk

    builder = TimelineBuilder()
    for chunk in speak(session_loop, piper_engine, "Hello there! This is a longer sentence to hear."):
        bare = AudioChunk(chunk.pcm, chunk.sample_rate, None, chunk.text)
        tl = builder.timeline(bare)
        assert tl.n_samples == bare.n_samples and tl.keys[-1].end == bare.n_samples
        labels = tl.frame_labels(0.01)
        assert sum(lbl != "closed" for lbl in labels) > len(labels) * 0.3

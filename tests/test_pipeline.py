"""The whole speaking brain: chat line → SmolLM2 → chunker → Piper → timed segments."""

import json
import wave

import numpy as np
import pytest

from bot.brain import Brain
from bot.brain.ollama_backend import OllamaBackend
from bot.config.models import LLMConfig, OllamaConfig
from bot.speech.pipeline import ChatLine, Speaker, SpeechPipeline
from bot.speech.wav_writer import WavJsonWriter

from .conftest import free_port


class Collect:
    """A sink that keeps everything it is given."""

    def __init__(self):
        self.events = []
        self.segments = []

    async def start(self, u):
        self.events.append(("start", u.id))

    async def segment(self, s):
        self.events.append(("segment", s.utterance_id))
        self.segments.append(s)

    async def finish(self, u, stats):
        self.events.append(("finish", u.id))
        self.stats = stats

    async def close(self):
        pass


def make(defaults, backend, piper_engine, sinks, filters=()):
    cfg = defaults.config
    brain = Brain(backend, cfg.persona, cfg.llm.model_copy(update={"temperature": 0.0}))
    return SpeechPipeline(brain, Speaker(piper_engine, sinks), cfg.chunker, filters)


def test_answer_is_spoken_in_timed_segments(defaults, llama_backend, piper_engine, session_loop, tmp_path):
    sink = Collect()
    writer = WavJsonWriter(tmp_path)
    pipe = make(defaults, llama_backend, piper_engine, [sink, writer])
    stats = session_loop.run_until_complete(pipe.respond(ChatLine("coolguy42", "hi! what games do you like?")))

    assert stats.error is None
    assert stats.tokens > 0 and stats.text
    assert 0 < stats.first_token_s <= stats.first_piece_s <= stats.first_audio_s <= stats.total_s
    assert sink.events[0][0] == "start" and sink.events[-1][0] == "finish"
    assert [s.index for s in sink.segments] == list(range(len(sink.segments)))
    for seg in sink.segments:
        assert seg.timeline.n_samples == len(seg.pcm)
        assert seg.caption and seg.caption in stats.text
    total = sum(len(s.pcm) for s in sink.segments)
    assert abs(stats.audio_s - total / 22050) < 1e-6

    # files: the WAV and the JSON timeline agree sample for sample
    (wav_path,) = tmp_path.glob("001_coolguy42.wav")
    doc = json.loads(wav_path.with_suffix(".json").read_text())
    with wave.open(str(wav_path)) as w:
        assert w.getframerate() == 22050 and w.getnframes() == total
    assert doc["visemes"]["n_samples"] == total
    assert doc["reply"] == stats.text and doc["viewer"] == "coolguy42"
    # the brain remembers what was said, for the next viewer
    assert pipe.brain.memory.messages()[-1].content == stats.text


def test_sentence_cap_and_piece_filter(defaults, llama_backend, piper_engine, session_loop):
    sink = Collect()
    dropped = []

    def no_first_piece(piece):
        if piece.index == 0:
            dropped.append(piece)
            return None
        return piece

    pipe = make(defaults, llama_backend, piper_engine, [sink], [no_first_piece])
    pipe.brain.persona = pipe.brain.persona.model_copy(update={"max_reply_sentences": 1})
    stats = session_loop.run_until_complete(pipe.respond(ChatLine("pixelpanda", "tell me a long story")))
    assert dropped and dropped[0].text not in stats.text  # the filter's verdict is final
    assert stats.text.count(".") + stats.text.count("!") + stats.text.count("?") <= 2


def test_dead_brain_is_reported_and_the_bot_goes_on(defaults, piper_engine, session_loop):
    sink = Collect()
    dead = OllamaBackend(OllamaConfig(host=f"http://127.0.0.1:{free_port()}"), timeout_s=1)
    cfg = defaults.config
    brain = Brain(dead, cfg.persona, LLMConfig(retry_attempts=1))
    pipe = SpeechPipeline(brain, Speaker(piper_engine, [sink]), cfg.chunker)
    stats = session_loop.run_until_complete(pipe.respond(ChatLine("coolguy42", "hello?")))
    assert stats.error and "not reachable" in stats.error
    assert sink.segments == [] and sink.events[-1][0] == "finish"


def test_say_speaks_fixed_text(piper_engine, session_loop):
    sink = Collect()
    stats = session_loop.run_until_complete(
        Speaker(piper_engine, [sink]).say("Hello chat, *waves* welcome back! Let's go."))
    assert stats.error is None and stats.pieces == 3
    assert [s.caption for s in sink.segments] == ["Hello chat,", "welcome back!", "Let's go."]
    assert stats.text == "Hello chat, welcome back! Let's go."
    audio = np.concatenate([s.pcm for s in sink.segments])
    assert audio.size / 22050 == pytest.approx(stats.audio_s, abs=1e-9)

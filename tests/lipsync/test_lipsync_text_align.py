"""Forced alignment of a piece's text to its audio, whole and streamed, and the live
path that uses it for voices without phoneme timing (XTTS)."""

from __future__ import annotations

import numpy as np
import pytest

from avatar.lipsync.audio import estimate_timeline
from avatar.lipsync.evaluate import compare, compare_frames
from avatar.lipsync.forced import ChainSettings, ChunkedViterbi, build_graph
from avatar.lipsync.text_align import TextVisemeAligner, align_text
from avatar.lipsync.text_units import Unit, UnitKind, symbol_units, text_units
from avatar.lipsync.timeline import VisemeTimeline
from avatar.lipsync.visemes import SILENCE

VOWEL = UnitKind.VOWEL


def test_text_becomes_sounds_with_optional_pauses():
    units = text_units("Hi mom, hi.")
    visemes = [u.viseme for u in units]
    kinds = [u.kind for u in units]
    assert kinds[0] is UnitKind.PAUSE and kinds[-1] is UnitKind.PAUSE
    assert "PP" in visemes  # the lips close for the m's
    assert visemes.count("PP") == 2
    pauses = [u for u in units[1:-1] if u.kind is UnitKind.PAUSE]
    # between the first two words, and at the comma (one pause, not two)
    assert len(pauses) == 2 and not pauses[0].clause and pauses[1].clause
    assert not any(a.kind is b.kind is UnitKind.PAUSE for a, b in zip(units, units[1:]))


def test_length_marks_make_long_vowels_and_unknown_symbols_are_skipped():
    units = symbol_units(["h", "ˈ", "i", "ː", "☃"])
    assert [u.viseme for u in units] == [SILENCE, "kk", "ih", SILENCE]
    assert units[2].long and units[2].kind is VOWEL


def _one_hot_emissions(graph, frame_units, n_units):
    """Emissions that favour the given unit in each frame."""
    e = np.full((len(frame_units), graph.size), -5.0)
    for t, u in enumerate(frame_units):
        e[t, graph.unit_of == u] = 0.0
    return e


def test_viterbi_follows_the_units_and_skips_unused_pauses():
    units = [Unit(SILENCE, UnitKind.PAUSE, clause=True), Unit("aa", VOWEL),
             Unit(SILENCE, UnitKind.PAUSE), Unit("ou", VOWEL), Unit(SILENCE, UnitKind.PAUSE, clause=True)]
    graph = build_graph(units, ChainSettings())
    frames = [1] * 10 + [3] * 10  # no pause between the two vowels, none at the ends
    path = ChunkedViterbi(graph).push(_one_hot_emissions(graph, frames, len(units)), last=False)
    assert graph.unit_of[path].tolist() == frames


def test_streamed_viterbi_never_goes_back():
    units = [Unit(SILENCE, UnitKind.PAUSE, clause=True)] + [
        Unit(v, VOWEL) for v in ("aa", "ih", "ou", "E", "oh")] + [Unit(SILENCE, UnitKind.PAUSE, clause=True)]
    graph = build_graph(units, ChainSettings())
    frames = [0] * 5 + [1] * 8 + [2] * 8 + [3] * 8 + [4] * 8 + [5] * 8 + [6] * 5
    emissions = _one_hot_emissions(graph, frames, len(units))
    viterbi = ChunkedViterbi(graph)
    path = np.concatenate([viterbi.push(emissions[lo:lo + 7]) for lo in range(0, len(frames), 7)])
    assert np.all(np.diff(path) >= 0)
    assert np.mean(graph.unit_of[path] == np.array(frames)) > 0.9


@pytest.fixture(scope="module")
def noisy_piper():
    """A Piper sentence spoken slower than Piper's usual pace, without its random
    noise so every run hears the same audio, with its true alignment."""
    from piper import SynthesisConfig

    from avatar.lipsync.piper_speech import synthesize

    text = "Would you rather eat a lemon or a raw onion?"
    (utt,) = synthesize(text, SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, length_scale=1.15))
    reference = VisemeTimeline.from_phonemes(utt.phonemes, utt.sample_rate, len(utt.audio))
    return text, utt.audio, utt.sample_rate, reference


def test_knowing_the_text_beats_the_audio_alone(noisy_piper):
    text, audio, rate, reference = noisy_piper
    aligned = compare(reference, align_text(audio, rate, text))
    alone = compare(reference, estimate_timeline(audio, rate))
    assert aligned.open_closed_accuracy >= 0.9
    assert aligned.vowel_frames_accuracy >= 0.65
    assert aligned.vowel_frames_accuracy > alone.vowel_frames_accuracy + 0.1


def test_streaming_in_chunks_covers_each_chunk_and_stays_close(noisy_piper):
    text, audio, rate, reference = noisy_piper
    aligner = TextVisemeAligner(text)
    step = int(0.4 * rate)
    parts = []
    for lo in range(0, len(audio), step):
        timeline = aligner.push(audio[lo:lo + step], rate)
        assert timeline.n_samples == len(audio[lo:lo + step])
        parts.append(timeline)
    streamed = compare(reference, VisemeTimeline.concat(parts))
    whole = compare(reference, align_text(audio, rate, text))
    assert streamed.open_closed_accuracy >= whole.open_closed_accuracy - 0.05
    assert streamed.vowel_frames_accuracy >= whole.vowel_frames_accuracy - 0.1


def test_speech_past_the_text_falls_back_to_the_audio(noisy_piper):
    _, audio, rate, _ = noisy_piper
    # the voice says a whole sentence, but the text claims only "oh"
    timeline = align_text(audio, rate, "Oh.")
    labels = timeline.frame_labels()
    assert sum(label != "closed" for label in labels) > 0.4 * len(labels)


def test_live_path_aligns_textual_chunks_without_phonemes(noisy_piper):
    """The XTTS path: chunks with text and no phonemes go through the text aligner,
    a new piece (chunk 0) gets a new aligner, and each timeline covers its chunk."""
    from bot.speech.lipsync_link import TimelineBuilder
    from bot.speech.tts.base import AudioChunk, float_to_int16

    text, audio, rate, reference = noisy_piper
    pcm = float_to_int16(audio)
    step = int(0.5 * rate)
    builder = TimelineBuilder()
    parts = []
    for n, lo in enumerate(range(0, len(pcm), step)):
        chunk = AudioChunk(pcm[lo:lo + step], rate, None, text, {"engine": "xtts", "chunk": n})
        timeline = builder.timeline(chunk)
        assert builder.aligning_text
        assert timeline.n_samples == chunk.n_samples and timeline.sample_rate == rate
        parts.append(timeline)
    live = compare(reference, VisemeTimeline.concat(parts))
    alone = compare(reference, estimate_timeline(audio, rate))
    assert live.vowel_frames_accuracy > alone.vowel_frames_accuracy + 0.05

    first = builder._aligner
    builder.timeline(AudioChunk(pcm[:step], rate, None, text, {"chunk": 0}))
    assert builder._aligner is not first  # the same words again are a new piece


def test_live_path_without_text_estimates_from_audio(noisy_piper):
    from bot.speech.lipsync_link import TimelineBuilder
    from bot.speech.tts.base import AudioChunk, float_to_int16

    _, audio, rate, _ = noisy_piper
    builder = TimelineBuilder()
    timeline = builder.timeline(AudioChunk(float_to_int16(audio), rate, None, ""))
    assert not builder.aligning_text
    assert timeline.n_samples == len(audio)


def test_without_a_phonemizer_or_piper_the_live_path_falls_back(monkeypatch, noisy_piper):
    import avatar.lipsync.text_align as text_align
    from avatar.lipsync.text_units import PhonemizerMissing
    from bot.speech.lipsync_link import TimelineBuilder
    from bot.speech.tts.base import AudioChunk, float_to_int16

    def missing(text):
        raise PhonemizerMissing("no espeak here")

    monkeypatch.setattr(text_align, "text_units", missing)
    text, audio, rate, _ = noisy_piper
    builder = TimelineBuilder(use_reference=False)
    timeline = builder.timeline(AudioChunk(float_to_int16(audio), rate, None, text))
    assert not builder.aligning_text and timeline.n_samples == len(audio)


def test_pooled_frames_helper_agrees_with_compare(noisy_piper):
    text, audio, rate, reference = noisy_piper
    hyp = align_text(audio, rate, text)
    assert compare(reference, hyp) == compare_frames(reference.frame_visemes(), hyp.frame_visemes())

"""Lip sync that follows Piper reading the known text: streamed DTW, the fusion with
the loudness gate, the live per-piece aligner, and the bot's path through it."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from avatar.lipsync.align import dtw_match
from avatar.lipsync.audio import StreamingVisemeEstimator, estimate_timeline
from avatar.lipsync.evaluate import compare
from avatar.lipsync.fuse import FuseSettings, fuse
from avatar.lipsync.live_align import LiveTextAligner, start_reference
from avatar.lipsync.reference_align import (
    PiperReference,
    ReferenceAlignSettings,
    ReferenceUnavailable,
    align_with_reference,
)
from avatar.lipsync.stream_dtw import StreamingDTW
from avatar.lipsync.timeline import VisemeTimeline
from avatar.lipsync.visemes import SILENCE


def test_streamed_dtw_matches_the_whole_table_and_answers_every_row():
    rng = np.random.default_rng(3)
    for _ in range(4):
        query = rng.normal(size=(int(rng.integers(5, 60)), 3))
        reference = rng.normal(size=(int(rng.integers(5, 60)), 3))
        assert np.array_equal(StreamingDTW(reference).push(query, last=True),
                              dtw_match(query, reference))
        dtw = StreamingDTW(reference)
        parts = [dtw.push(query[lo:lo + 6]) for lo in range(0, len(query), 6)]
        assert sum(len(p) for p in parts) == len(query)
        assert all(0 <= j < len(reference) for p in parts for j in p)


def test_streamed_dtw_follows_a_slowed_copy():
    reference = np.repeat(np.arange(10.0), 3)[:, None]
    query = np.repeat(np.arange(10.0), 5)[:, None]  # the same, 5/3 as slow
    dtw = StreamingDTW(reference)
    match = np.concatenate([dtw.push(query[lo:lo + 7]) for lo in range(0, len(query), 7)])
    assert np.array_equal(reference[match, 0], query[:, 0])


def test_the_gate_decides_closed_and_the_text_the_shape():
    aligned = ["aa", "aa", SILENCE, "PP", "ou", "ih"]
    heard = [SILENCE, "E", "E", "nn", "ih", "ih"]
    assert fuse(aligned, heard) == [SILENCE, "aa", "E", "PP", "ou", "ih"]
    assert fuse(aligned, heard, FuseSettings(lip_closures_from_text=False))[3] == "nn"
    assert fuse(aligned, heard, FuseSettings(audible_pause="closed"))[2] == SILENCE
    assert fuse(aligned, heard, FuseSettings(vowels_under_gate=True))[0] == "aa"


@pytest.fixture(scope="module")
def slow_piper():
    """A Piper sentence spoken slower than Piper's usual pace, with Piper's random
    timing but a fixed seed-free config (noise off), and its true alignment."""
    from piper import SynthesisConfig

    from avatar.lipsync.piper_speech import synthesize

    text = "Would you rather eat a lemon or a raw onion?"
    (utt,) = synthesize(text, SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, length_scale=1.3))
    reference = VisemeTimeline.from_phonemes(utt.phonemes, utt.sample_rate, len(utt.audio))
    return text, utt.audio, utt.sample_rate, reference


def test_following_piper_beats_the_audio_alone(slow_piper):
    text, audio, rate, reference = slow_piper
    aligned = compare(reference, align_with_reference(audio, rate, text))
    alone = compare(reference, estimate_timeline(audio, rate))
    assert aligned.open_closed_accuracy >= alone.open_closed_accuracy
    assert aligned.vowel_frames_accuracy >= 0.75
    assert aligned.vowel_frames_accuracy > alone.vowel_frames_accuracy + 0.1


def _stream(aligner: LiveTextAligner, audio: np.ndarray, rate: int, step_s: float):
    step = int(step_s * rate)
    parts = []
    for lo in range(0, len(audio), step):
        timeline = aligner.push(audio[lo:lo + step], rate)
        assert timeline.n_samples == len(audio[lo:lo + step])
        parts.append(timeline)
    return VisemeTimeline.concat(parts)


def test_a_piece_waits_for_piper_from_its_first_chunk(slow_piper):
    text, audio, rate, reference = slow_piper
    settings = ReferenceAlignSettings()
    pending = start_reference(text, lambda t: PiperReference.of_text(t, settings))
    aligner = LiveTextAligner(text, StreamingVisemeEstimator(), pending, settings=settings)
    step = int(0.5 * rate)
    first = aligner.push(audio[:step], rate)
    assert aligner.following_reference and first.n_samples == step
    rest = [aligner.push(audio[lo:lo + step], rate) for lo in range(step, len(audio), step)]
    live = compare(reference, VisemeTimeline.concat([first, *rest]))
    alone = compare(reference, estimate_timeline(audio, rate))
    assert live.vowel_frames_accuracy > alone.vowel_frames_accuracy + 0.1
    assert live.open_closed_accuracy >= alone.open_closed_accuracy


def test_chunks_before_the_switch_do_not_wait_and_are_caught_up(slow_piper):
    text, audio, rate, reference = slow_piper
    release = threading.Event()
    settings = ReferenceAlignSettings()

    def slow_reference(t: str):
        assert release.wait(10)
        return PiperReference.of_text(t, settings)

    pending = start_reference(text, slow_reference)
    aligner = LiveTextAligner(text, StreamingVisemeEstimator(), pending, reference_from_chunk=1,
                              settings=settings)
    step = int(0.5 * rate)
    first = aligner.push(audio[:step], rate)  # answered while Piper is still held
    assert first.n_samples == step and not aligner.following_reference
    release.set()
    rest = [aligner.push(audio[lo:lo + step], rate) for lo in range(step, len(audio), step)]
    assert aligner.following_reference
    live = compare(reference, VisemeTimeline.concat([first, *rest]))
    alone = compare(reference, estimate_timeline(audio, rate))
    assert live.vowel_frames_accuracy > alone.vowel_frames_accuracy + 0.1


def test_a_late_reference_is_waited_for_once(slow_piper):
    text, audio, rate, _ = slow_piper
    release = threading.Event()
    pending = start_reference(text, lambda t: release.wait(10) and None)
    aligner = LiveTextAligner(text, StreamingVisemeEstimator(), pending, reference_wait_s=0.05)
    step = int(0.5 * rate)
    timelines = [aligner.push(audio[lo:lo + step], rate) for lo in range(0, 3 * step, step)]
    release.set()
    assert not aligner.following_reference and all(t.n_samples == step for t in timelines)


def test_without_piper_the_units_carry_the_piece(slow_piper):
    text, audio, rate, reference = slow_piper

    def unavailable(t: str):
        raise ReferenceUnavailable("no Piper here")

    aligner = LiveTextAligner(text, StreamingVisemeEstimator(), start_reference(text, unavailable))
    timeline = _stream(aligner, audio, rate, 0.5)
    assert aligner.reference_unavailable and not aligner.following_reference
    alone = compare(reference, estimate_timeline(audio, rate))
    assert compare(reference, timeline).open_closed_accuracy >= alone.open_closed_accuracy - 0.02


def test_live_builder_follows_piper_and_stops_asking_once_it_is_missing(monkeypatch, slow_piper):
    from bot.speech.lipsync_link import TimelineBuilder
    from bot.speech.tts.base import AudioChunk, float_to_int16

    text, audio, rate, reference = slow_piper
    pcm = float_to_int16(audio)
    step = int(0.5 * rate)
    builder = TimelineBuilder()
    parts = [builder.timeline(AudioChunk(pcm[lo:lo + step], rate, None, text, {"chunk": n}))
             for n, lo in enumerate(range(0, len(pcm), step))]
    assert builder._aligner.following_reference
    live = compare(reference, VisemeTimeline.concat(parts))
    assert live.vowel_frames_accuracy > compare(reference, estimate_timeline(audio, rate)).vowel_frames_accuracy

    calls = []

    def unavailable(t, settings):
        calls.append(t)
        raise ReferenceUnavailable("no Piper here")

    monkeypatch.setattr(PiperReference, "of_text", staticmethod(unavailable))
    builder.prepare("Hello there.")
    for piece in ("Hello there.", "Second piece."):
        builder.prepare(piece)
        for n, lo in enumerate(range(0, 2 * step, step)):
            builder.timeline(AudioChunk(pcm[lo:lo + step], rate, None, piece, {"chunk": n}))
    assert calls == ["Hello there."] and builder.aligning_text


def test_prepared_reference_is_used_for_its_piece(slow_piper):
    from bot.speech.lipsync_link import TimelineBuilder
    from bot.speech.tts.base import AudioChunk, float_to_int16

    text, audio, rate, _ = slow_piper
    builder = TimelineBuilder()
    builder.prepare(text)
    prepared = builder._prepared[text]
    builder.timeline(AudioChunk(float_to_int16(audio[: rate // 2]), rate, None, text, {"chunk": 0}))
    assert builder._aligner._pending is None and prepared.done()
    assert builder._aligner.following_reference and text not in builder._prepared


def test_lipsync_file_with_text_warps_onto_piper(michael, michael_reference):
    from avatar.lipsync.files import lipsync_file

    path, text = michael
    audio, rate, reference = michael_reference
    timeline = lipsync_file(path, text)
    assert timeline.n_samples == len(audio)
    assert compare(reference, timeline).open_closed_accuracy >= 0.85

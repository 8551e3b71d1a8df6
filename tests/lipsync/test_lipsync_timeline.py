"""Viseme timelines: exact coverage, merging rules, smooth sampling, JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from avatar.lipsync.timeline import VisemeKey, VisemeTimeline
from avatar.lipsync.timing import TimedPhoneme
from avatar.lipsync.visemes import VRM_SHAPES
from bot.speech.tts.base import AudioChunk, float_to_int16

SR = 22050
MAX_STEP_PER_10MS = 0.35  # the 60 ms raised-cosine blend moves at most ~1/3 per 10 ms


def spans(*pairs: tuple[str, int]) -> list[TimedPhoneme]:
    out, position = [], 0
    for phoneme, length in pairs:
        out.append(TimedPhoneme(phoneme, position, position + length))
        position += length
    return out


def runs(timeline: VisemeTimeline) -> list[tuple[str, int]]:
    return [(k.viseme, k.end - k.start) for k in timeline.keys]


def test_marks_give_their_time_to_neighbouring_sounds():
    phonemes = spans(("^", 100), ("h", 50), ("ˈ", 30), ("ɛ", 70), ("ː", 20), (" ", 41),
                     ("m", 60), (".", 90), ("$", 10))
    timeline = VisemeTimeline.from_phonemes(phonemes, SR, 471)
    # stress -> next vowel, length -> previous vowel, word gap split 20 / 21
    assert runs(timeline) == [("sil", 100), ("kk", 50), ("E", 30 + 70 + 20 + 20),
                              ("PP", 21 + 60), ("sil", 100)]


def test_diphthong_phones_are_split_nucleus_first():
    timeline = VisemeTimeline.from_phonemes(spans(("aj", 100)), 16000, 100)
    assert runs(timeline) == [("aa", 60), ("ih", 40)]


def test_gaps_and_lead_in_are_silence_and_overlaps_clipped():
    phonemes = [TimedPhoneme("m", 10, 20), TimedPhoneme("ɑ", 30, 50), TimedPhoneme("s", 45, 60)]
    timeline = VisemeTimeline.from_phonemes(phonemes, SR, 60)
    assert runs(timeline) == [("sil", 10), ("PP", 10), ("sil", 10), ("aa", 20), ("SS", 10)]


def test_short_spans_are_padded_with_silence():
    timeline = VisemeTimeline.from_phonemes(spans(("ɑ", 1000)), SR, 1300)
    assert runs(timeline) == [("aa", 1000), ("sil", 300)]


def test_slightly_long_spans_are_trimmed_at_the_end():
    timeline = VisemeTimeline.from_phonemes(spans(("ɑ", 1000), ("s", 500)), SR, 1200)
    assert runs(timeline) == [("aa", 1000), ("SS", 200)]


def test_far_off_spans_are_scaled_to_the_audio():
    timeline = VisemeTimeline.from_phonemes(spans(("ɑ", 5000), ("s", 5000)), SR, 20000)
    assert runs(timeline) == [("aa", 10000), ("SS", 10000)]


@given(
    st.lists(st.tuples(st.sampled_from(["ˈ", "ː", " ", "^", "ɑ", "m", "aj", "", "s", ","]),
                       st.integers(0, 3000)), max_size=40),
    st.integers(0, 60000),
)
def test_any_phonemes_cover_any_length_exactly(pairs, n_samples):
    timeline = VisemeTimeline.from_phonemes(spans(*pairs), SR, n_samples)
    assert timeline.n_samples == n_samples
    assert sum(k.end - k.start for k in timeline.keys) == n_samples
    for a, b in zip(timeline.keys, timeline.keys[1:]):
        assert a.end == b.start and a.viseme != b.viseme


def test_real_piper_chunks_are_covered_sample_for_sample(piper_sentences):
    assert len(piper_sentences) == 2
    for utt in piper_sentences:
        chunk = AudioChunk(float_to_int16(utt.audio), utt.sample_rate, utt.phonemes)
        # Piper's per-phoneme sample counts add up to the audio exactly
        assert utt.phonemes[-1].end == chunk.n_samples
        timeline = VisemeTimeline.from_phonemes(chunk.phonemes, chunk.sample_rate, chunk.n_samples)
        assert timeline.keys[0].start == 0 and timeline.keys[-1].end == chunk.n_samples
        assert timeline.keys[0].viseme == "sil" and timeline.keys[-1].viseme == "sil"
        assert {"aa", "E", "ih"} <= {k.viseme for k in timeline.keys}


def test_concat_joins_chunks(piper_sentences):
    parts = [VisemeTimeline.from_phonemes(u.phonemes, u.sample_rate, len(u.audio))
             for u in piper_sentences]
    whole = VisemeTimeline.concat(parts)
    assert whole.n_samples == sum(len(u.audio) for u in piper_sentences)
    first = parts[0].n_samples
    assert whole.frame_visemes()[: int(first / 220.5)] == parts[0].frame_visemes()
    with pytest.raises(ValueError):
        VisemeTimeline.concat([parts[0], VisemeTimeline.silent(10, 16000)])


def test_validation_rejects_gaps_overlaps_and_unknown_visemes():
    with pytest.raises(ValueError):
        VisemeTimeline(SR, 10, (VisemeKey(0, 4, "aa"), VisemeKey(5, 10, "sil")))
    with pytest.raises(ValueError):
        VisemeTimeline(SR, 10, (VisemeKey(0, 6, "aa"), VisemeKey(5, 10, "sil")))
    with pytest.raises(ValueError):
        VisemeTimeline(SR, 10, (VisemeKey(0, 10, "xx"),))
    with pytest.raises(ValueError):
        VisemeTimeline(SR, 11, (VisemeKey(0, 10, "aa"),))
    assert VisemeTimeline.silent(0, SR).keys == ()


def test_blending_is_continuous_and_bounded(piper_sentences):
    for utt in piper_sentences:
        timeline = VisemeTimeline.from_phonemes(utt.phonemes, utt.sample_rate, len(utt.audio))
        times = np.arange(-0.1, timeline.duration_s + 0.1, 0.01)
        track = timeline.weights_track(times)
        assert track.min() >= 0.0 and track.sum(axis=1).max() <= 1.0 + 1e-9
        assert np.abs(np.diff(track, axis=0)).max() <= MAX_STEP_PER_10MS
        assert track[0].sum() == 0.0 and track[-1].sum() == 0.0  # closed outside the chunk
        for t, row in zip(times[::7], track[::7]):
            sampled = timeline.weights_at(float(t))
            assert list(sampled) == list(VRM_SHAPES)
            assert np.allclose(list(sampled.values()), row)


def test_worst_case_jumps_between_extreme_shapes_are_bounded():
    # open vowel / closed lips alternating at every possible short length
    pairs = [(v, n) for n in (50, 120, 300, 700, 1500, 4000) for v in ("ɑ", "m", "u", "")]
    timeline = VisemeTimeline.from_phonemes(spans(*pairs), 16000, sum(n for _, n in pairs))
    for offset in np.linspace(0, 0.01, 5, endpoint=False):
        track = timeline.weights_track(np.arange(0, timeline.duration_s, 0.01) + offset)
        assert np.abs(np.diff(track, axis=0)).max() <= MAX_STEP_PER_10MS


def test_long_vowels_reach_full_shape_and_short_closures_stay_open():
    timeline = VisemeTimeline.from_phonemes(
        spans(("ɑ", 3200), ("m", 320), ("ɑ", 3200)), 16000, 6720)  # 200 ms, 20 ms, 200 ms
    assert timeline.weights_at(0.1)["aa"] == pytest.approx(1.0)
    assert timeline.weights_at(0.21)["aa"] > 0.3  # a 20 ms "m" does not close the mouth
    long = VisemeTimeline.from_phonemes(
        spans(("ɑ", 3200), ("m", 1600), ("ɑ", 3200)), 16000, 8000)  # a 100 ms "m" closes it
    assert long.weights_at(0.25)["aa"] == pytest.approx(0.0)


def test_frame_labels_are_vowel_classes_per_10ms():
    timeline = VisemeTimeline.from_phonemes(spans(("", 1600), ("ɛ", 800), ("u", 800)), 16000, 3200)
    labels = timeline.frame_labels()
    assert len(labels) == 20
    assert labels[:10] == ["closed"] * 10 and labels[10:15] == ["ee"] * 5
    assert labels[15:] == ["ou"] * 5


def test_json_round_trip(piper_sentences):
    utt = piper_sentences[0]
    timeline = VisemeTimeline.from_phonemes(utt.phonemes, utt.sample_rate, len(utt.audio))
    text = json.dumps(timeline.to_dict(), separators=(",", ":"))
    back = VisemeTimeline.from_dict(json.loads(text))
    assert back == timeline
    assert len(text) < 16 * len(timeline.keys) + 100  # compact: ~[start,"vis"] per key
    assert json.loads(text)["keys"][0] == [0, "sil"]
    with pytest.raises(ValueError):
        VisemeTimeline.from_dict({**timeline.to_dict(), "format": "other"})
    with pytest.raises(ValueError):
        VisemeTimeline.from_dict({**timeline.to_dict(), "n_samples": 5})

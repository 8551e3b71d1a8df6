"""Frame agreement figures on small hand-made timelines."""

from __future__ import annotations

import pytest

from avatar.lipsync.evaluate import compare, compare_frames
from avatar.lipsync.timeline import VisemeTimeline


def test_identical_timelines_agree_fully(piper_sentences):
    utt = piper_sentences[0]
    timeline = VisemeTimeline.from_phonemes(utt.phonemes, utt.sample_rate, len(utt.audio))
    agreement = compare(timeline, timeline)
    assert agreement.frames == int(len(utt.audio) / 220.5)
    assert agreement.open_closed_accuracy == agreement.vowel_class_accuracy == 1.0
    assert agreement.vowel_frames_accuracy == 1.0
    assert all(s.precision == 1.0 for s in agreement.per_class.values() if s.reference_frames)


def test_counts_on_a_small_example():
    reference = ["sil", "sil", "aa", "aa", "E", "SS", "ou", "PP"]
    hypothesis = ["sil", "aa", "aa", "oh", "E", "ih", "sil", "PP", "extra"]
    a = compare_frames(reference, hypothesis)
    assert a.frames == 8
    # closed/open differs at frames 1 and 6
    assert a.open_closed_accuracy == pytest.approx(6 / 8)
    # classes: closed closed aa aa ee ih ou closed vs closed aa aa oh ee ih closed closed
    assert a.vowel_class_accuracy == pytest.approx(5 / 8)
    # reference vowels at frames 2, 3, 4, 6 (SS is a consonant): hits at 2 and 4
    assert (a.vowel_frames, a.vowel_frames_accuracy) == (4, 0.5)
    assert a.confusion["ou"]["closed"] == 1
    closed = a.per_class["closed"]
    assert (closed.reference_frames, closed.hypothesis_frames) == (3, 3)
    assert closed.precision == pytest.approx(2 / 3) and closed.recall == pytest.approx(2 / 3)
    assert a.to_dict()["per_class"]["aa"] == {
        "precision": 0.5, "recall": 0.5, "f1": 0.5, "reference_frames": 2, "hypothesis_frames": 2}

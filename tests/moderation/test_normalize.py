"""The normaliser undoes the Unicode disguises chat uses, and reports what it removed."""

import pytest

from bot.moderation.normalize import normalize


@pytest.mark.parametrize("text, folded", [
    ("ｆｕｌｌｗｉｄｔｈ", "fullwidth"),  # NFKC
    ("𝐛𝐨𝐥𝐝 𝓼𝓬𝓻𝓲𝓹𝓽", "bold script"),  # mathematical alphanumerics
    ("ⓒⓘⓡⓒⓛⓔⓓ", "circled"),
    ("h\u200be\u200cl\u200dl\u2060o\ufeff", "hello"),  # zero-width characters
    ("p\u0430yp\u0430l", "paypal"),  # Cyrillic а
    ("\u0455c\u0430m", "scam"),  # Cyrillic ѕ and а
    ("Café Crème", "cafe creme"),  # accents folded for matching only
    ("tab\tand\nnewline", "tab and newline"),
])
def test_folded_form_undoes_disguises(text, folded):
    assert normalize(text).folded == folded


def test_display_form_keeps_what_the_viewer_meant():
    n = normalize("  Café   crème  ")
    assert n.text == "Café crème"
    assert normalize("Привет мир").text == "Привет мир"  # other scripts stay readable


def test_controls_and_invisibles_are_removed_and_counted():
    n = normalize("a\x00b\x07c")
    assert n.text == "a b c" and n.removed_controls == 2
    n = normalize("x\u200by\u2800z")  # zero-width space and a braille blank
    assert n.text == "xyz" and n.removed_format == 2


def test_bidi_override_is_flagged():
    n = normalize("\u202eevil\u202c")
    assert n.bidi and n.text == "evil"
    assert not normalize("plain").bidi


def test_zalgo_is_flattened_and_flagged():
    zalgo = "h̷̢̛̞̙e̶̡̜l̸̰̈́l̷̢̛o̵̧̍"
    n = normalize(zalgo)
    assert n.folded == "hello"
    assert n.mark_flood and n.marks >= 10
    assert len(n.text) < len(zalgo)
    accents = normalize("déjà vu")
    assert not accents.mark_flood and accents.text == "déjà vu"


def test_huge_input_is_handled():
    n = normalize("a\u0301" * 5000 + "\x00" * 100)
    assert n.folded.startswith("aaaa")

"""The mood reader: tags the model writes, and the embedding classifier on lines it
has never seen."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.emotion.reader import EmotionReader
from bot.emotion.tags import mood_tag_filter, split_tag
from bot.knowledge.encoder import SentenceEncoder
from bot.speech.chunker import Piece

HELD_OUT = yaml.safe_load(Path(__file__).with_name("held_out.yaml").read_text())


@pytest.fixture(scope="module")
def reader():
    return EmotionReader(SentenceEncoder(), min_score=0.3)


def test_accuracy_on_held_out_lines(reader):
    results = [(want, line, reader.read(line).name) for want, lines in HELD_OUT.items() for line in lines]
    accuracy = sum(want == got for want, _, got in results) / len(results)
    print(f"mood accuracy {accuracy:.2f} over {len(results)} lines")
    assert accuracy >= 0.8, [(line, want, got) for want, line, got in results if want != got]
    for want in HELD_OUT:  # every emotion is recognised at least three times in five
        assert sum(w == want == g for w, _, g in results) >= 3, want


def test_tags(reader):
    assert split_tag("[happy] Yay!") == ("happy", "Yay!")
    assert split_tag(" (Surprised) whoa") == ("surprised", "whoa")
    assert split_tag("*sad* oh no") == ("sad", "oh no")
    assert split_tag("[smug] heh") == (None, "heh")  # unknown tags are not read aloud either
    assert split_tag("I said [happy] once") == (None, "I said [happy] once")
    mood = reader.read("[angry] Thanks for the sub!")
    assert (mood.name, mood.source) == ("angry", "tag")  # the model's own tag wins


def test_tag_filter():
    piece = Piece("[happy] Yay, we won!", "[happy] Yay, we won!", 0, True)
    out = mood_tag_filter(piece)
    assert out.text == "Yay, we won!" and out.emotion == "happy" and out.raw == piece.raw
    assert mood_tag_filter(Piece("[relaxed]", "[relaxed]", 0, False)) is None
    plain = Piece("hello", "hello", 0, True)
    assert mood_tag_filter(plain) is plain

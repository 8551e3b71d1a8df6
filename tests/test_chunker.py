"""The chunker: early first piece, sentence pieces, nothing unspeakable read aloud."""

import asyncio
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config.models import ChunkerConfig
from bot.speech.chunker import Chunker, chunk_stream
from bot.speech.speakable import speakable


def pieces_of(text: str, sizes: list[int] | None = None, cfg: ChunkerConfig | None = None,
              truncated: bool = False):
    c = Chunker(cfg)
    out = []
    i = 0
    sizes = sizes or [3]
    k = 0
    while i < len(text):
        n = max(1, sizes[k % len(sizes)])
        out += c.feed(text[i:i + n])
        i += n
        k += 1
    out += c.flush(truncated=truncated)
    return out


def test_first_piece_leaves_at_first_clause_then_sentences():
    ps = pieces_of("Oh hi coolguy42, great to see you here! I love ramen, pizza, and tea. Bye now.")
    assert [p.text for p in ps] == [
        "Oh hi coolguy42,", "great to see you here!", "I love ramen, pizza, and tea.", "Bye now."]
    assert [p.ends_sentence for p in ps] == [False, True, True, True]
    assert [p.index for p in ps] == [0, 1, 2, 3]


def test_short_opening_clause_waits_for_enough_text():
    ps = pieces_of("Oh, well, I think so. Yes.", cfg=ChunkerConfig(first_piece_min_chars=10))
    assert ps[0].text == "Oh, well, I think so."


def test_markdown_emoji_urls_and_stage_directions_are_not_spoken():
    text = ("**Honestly** I love pizza 🍕🍕 *twirls hair* more than ramen (laughs). "
            "Check [my site](https://mochi.example/x) or https://example.com/a.b?c=1 now! "
            "# Heading\n- first item\n- second `item`\n")
    spoken = " ".join(p.text for p in pieces_of(text))
    assert "pizza more than ramen." in spoken
    for bad in ("*", "🍕", "twirls", "laughs", "http", "example.com", "#", "`", "[", "("):
        assert bad not in spoken
    assert "my site" in spoken and "second item" in spoken


def test_no_boundary_inside_numbers_abbreviations_or_actions():
    ps = pieces_of("It costs 3.50 dollars, e.g. cheap. Mr. Smith said *pauses, then smiles* yes.",
                   cfg=ChunkerConfig(first_piece_min_chars=40))
    assert [p.text for p in ps] == ["It costs 3.50 dollars, e.g. cheap.", "Mr. Smith said yes."]


def test_overlong_sentence_is_cut_at_a_clause_or_space():
    words = " ".join(f"word{i}" for i in range(80))
    ps = pieces_of(words + ".", cfg=ChunkerConfig(max_piece_chars=60, first_piece_min_chars=5))
    assert all(len(p.raw) <= 60 for p in ps)
    assert " ".join(p.text for p in ps).replace(".", "") == words


def test_truncated_reply_ends_on_a_clause_not_mid_sentence():
    ps = pieces_of("You should try Hades. It has great combat, lovely music, and so it",
                   truncated=True)
    assert [p.text for p in ps] == ["You should try Hades.", "It has great combat, lovely music."]
    assert pieces_of("Sure thing! and then the", truncated=True)[-1].text == "Sure thing!"


def test_chunk_stream_async():
    async def deltas():
        for t in ["Hel", "lo there,", " friend", "! How", " are you?"]:
            yield t

    async def collect():
        return [p async for p in chunk_stream(deltas())]

    assert [p.text for p in asyncio.run(collect())] == ["Hello there,", "friend!", "How are you?"]


alphabet = st.sampled_from(list("abcde fghij ,.!?;:*()[]`#-\n'\"0123") + ["🍕", "https://x.io/a.b ", "Mr. "])
texts = st.lists(alphabet, max_size=120).map("".join)


@settings(max_examples=300)
@given(texts, st.lists(st.integers(1, 12), min_size=1, max_size=8))
def test_pieces_do_not_depend_on_token_boundaries(text, sizes):
    whole = [(p.text, p.ends_sentence) for p in pieces_of(text, [len(text) + 1])]
    split = [(p.text, p.ends_sentence) for p in pieces_of(text, sizes)]
    assert whole == split


@settings(max_examples=300)
@given(texts, st.lists(st.integers(1, 12), min_size=1, max_size=8))
def test_pieces_are_clean_nonempty_and_keep_the_words(text, sizes):
    ps = pieces_of(text, sizes)
    for p in ps:
        assert p.text and p.text == p.text.strip()
        assert any(c.isalnum() for c in p.text)
        assert not re.search(r"[*`#\[\]()🍕]|https?://", p.text)
    # every spoken word is a word of the cleaned whole text, in order
    spoken = re.findall(r"\w+", " ".join(p.text for p in ps))
    assert spoken == re.findall(r"\w+", speakable(text))


def test_repeat_guard_drops_a_sentence_said_moments_ago():
    from bot.speech.chunker import Piece
    from bot.speech.repeat_guard import RepeatGuard

    guard = RepeatGuard(window=3)
    p = lambda t: Piece(t, t, 0, True)  # noqa: E731
    assert guard(p("I'm so glad you're here!")) is not None
    assert guard(p("Thank you!")) is not None
    assert guard(p("Thank you!")) is not None  # short lines may repeat
    assert guard(p("i'm SO glad, you're here")) is None  # same words, other case and punctuation
    for t in ("one two three four", "five six seven eight", "nine ten eleven twelve"):
        guard(p(t))
    assert guard(p("I'm so glad you're here!")) is not None  # out of the window again

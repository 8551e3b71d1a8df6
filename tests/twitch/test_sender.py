"""Chat posts stay within Twitch's limits: 500 characters, 20 (or 100) per 30 s."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from bot.twitch.sender import MAX_CHARS, ChatSender, SlidingWindow, split_message

words = st.text(alphabet=st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=30)
sentences = st.lists(words, min_size=1, max_size=30).map(lambda ws: " ".join(ws) + ".")


@given(st.lists(sentences, min_size=1, max_size=60))
def test_split_keeps_every_word_under_the_limit(parts):
    text = " ".join(parts)
    pieces = split_message(text)
    assert all(0 < len(p) <= MAX_CHARS for p in pieces)
    assert " ".join(pieces).split() == text.split()  # nothing lost, nothing added


def test_split_prefers_sentences_and_cuts_giant_words():
    text = ("A" * 300 + ". ") + ("b" * 300 + ".")
    assert split_message(text) == ["A" * 300 + ".", "b" * 300 + "."]
    giant = split_message("x" * 1200)
    assert [len(p) for p in giant] == [500, 500, 202] and giant[0].endswith("…")
    assert split_message("  ") == []


def test_sliding_window():
    now = [0.0]
    w = SlidingWindow(limit=3, window_s=30, clock=lambda: now[0])
    for _ in range(3):
        assert w.wait_time() == 0
        w.mark()
    assert w.wait_time() == 30
    now[0] = 29.0
    assert w.wait_time() == 1
    now[0] = 30.0
    assert w.wait_time() == 0


async def test_sender_paces_and_survives_rejections():
    loop = asyncio.get_running_loop()
    sent: list[tuple[float, str]] = []

    async def post(text, reply_to):
        if text == "bad":
            raise RuntimeError("msg_rejected")
        sent.append((loop.time(), text))

    sender = ChatSender(post, limit=2)
    sender.window.window_s = 0.3  # the 30 s window, shrunk for the test
    sender.start()
    for text in ["one", "bad", "two", "three"]:
        sender.say(text)
    await sender.flush(5)
    await sender.stop()
    assert [t for _, t in sent] == ["one", "two", "three"]
    assert sender.failed == 1 and sender.sent == 3
    assert sent[2][0] - sent[0][0] >= 0.29  # the third message waited for the window


async def test_long_answer_is_split_and_threaded_once():
    got = []

    async def post(text, reply_to):
        got.append((text, reply_to))

    sender = ChatSender(post)
    sender.start()
    n = sender.say(("This sentence is long enough. " * 40).strip(), reply_to="msg-1")
    await sender.flush(5)
    await sender.stop()
    assert n == len(got) >= 3
    assert got[0][1] == "msg-1" and all(r is None for _, r in got[1:])

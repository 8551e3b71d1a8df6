"""Which messages become prompts, per policy."""

import random

from bot.chat.message import ChatMessage
from bot.chat.queue import Priority
from bot.chat.triage import Triager


def t(policy="mentions", **kw):
    return Triager(policy, ["Mochi"], bot_login="mochibot", rng=random.Random(1), **kw)


def test_ask_command_mentions_and_replies():
    tr = t()
    assert tr.classify(ChatMessage("!ask what is your name?", "a"), "!ask what is your name?").text == "what is your name?"
    assert tr.classify(ChatMessage("!ask", "a"), "!ask") is None
    assert tr.classify(ChatMessage("hey mochi how are you", "a"), "hey mochi how are you").why == "mention"
    assert tr.classify(ChatMessage("@MochiBot hi", "a", mentions=("mochibot",)), "@MochiBot hi").why == "mention"
    assert tr.classify(ChatMessage("sure", "a", reply_to_login="mochibot"), "sure").why == "reply"
    assert tr.classify(ChatMessage("mochimochi is a food", "a"), "mochimochi is a food") is None
    assert tr.classify(ChatMessage("gg", "a"), "gg") is None


def test_cheers_are_paid_prompts_without_the_cheermote():
    got = t().classify(ChatMessage("Cheer100 sing me a song", "a", bits=100), "Cheer100 sing me a song")
    assert got.priority is Priority.EVENT and got.text == "sing me a song"


def test_policies():
    assert t("ask").classify(ChatMessage("hey mochi", "a"), "hey mochi") is None
    assert t("ask").classify(ChatMessage("!ask hi", "a"), "!ask hi").priority is Priority.ASK
    half = t("all", sample_rate=0.5)
    sampled = [half.classify(ChatMessage(f"line {i}", "a"), f"line {i}") for i in range(200)]
    hits = [s for s in sampled if s is not None]
    assert 60 < len(hits) < 140 and all(s.priority is Priority.CHAT for s in hits)
    assert t("all", sample_rate=1.0).classify(ChatMessage("!lurk", "a"), "!lurk") is None  # other bots' commands

"""The monitor behind the dashboard: rolling timings, chat verdict rows, connections,
warnings (redacted), all bounded."""

from __future__ import annotations

import logging

import pytest

from bot.chat.flow import Received
from bot.chat.message import ChatMessage
from bot.chat.queue import Offer, Priority
from bot.chat.triage import Triage
from bot.dashboard.wiring import logs_to_monitor, source_row, twitch_row
from bot.logs import add_secret, setup_logging
from bot.moderation.gate import Verdict
from bot.monitor import BotMonitor, RollingStat
from bot.speech.segment import Utterance, UtteranceStats


def test_rolling_percentiles_over_the_window():
    stat = RollingStat(window=100)
    assert stat.p50 is None and stat.last is None
    for v in range(1, 201):  # only the last 100 (101..200) count
        stat.add(v / 1000)
    stat.add(None)
    stat.add(float("nan"))
    assert stat.count == 200 and len(stat) == 100
    assert stat.p50 == pytest.approx(0.150) and stat.p95 == pytest.approx(0.195)
    assert stat.last == pytest.approx(0.200)


def _verdict(allowed, reason="ok", detail=""):
    return Verdict(allowed, reason, detail, "text")


def test_chat_rows_carry_the_verdict_and_hide_blocked_words():
    monitor = BotMonitor(persona="Mochi", history=3)
    msg = ChatMessage("hey Mochi", "coolguy42")
    monitor.on_received(msg, Received(_verdict(True), Triage(Priority.ASK, "hey", "mention"),
                                      Offer(True, "queued")), 0.0001)
    monitor.on_received(ChatMessage("a slur here", "troll"), Received(_verdict(False, "blocklist", "listed")), 0.0002)
    monitor.on_received(ChatMessage("again", "x"), Received(None), 0.0)
    ok, blocked, repeat = monitor.chat
    assert (ok.allowed, ok.outcome) == (True, "mention: queued")
    assert (blocked.allowed, blocked.text, blocked.outcome) == (False, "(hidden)", "blocked: blocklist (listed)")
    assert repeat.allowed is None
    monitor.on_received(ChatMessage("more", "y"), Received(_verdict(True)), 0.0)
    assert len(monitor.chat) == 3 and monitor.chat_total == 4  # bounded history, counted total
    assert monitor.counts["blocked"] == 1 and monitor.timings["moderation"].count == 4


async def test_speech_progress_timings_and_health():
    monitor = BotMonitor(persona="Mochi")
    monitor.describe("LLM", "llama.cpp · SmolLM2")
    utt = Utterance("u1", "coolguy42", "hi")
    await monitor.start(utt)
    assert monitor.now is not None and monitor.now.viewer == "coolguy42"
    await monitor.finish(utt, UtteranceStats(first_token_s=0.1, first_audio_s=0.4, tts_first_chunk_s=0.15,
                                             text="Hello!", utterance_id="u1"))
    assert monitor.now is not None and monitor.last_answer == "Hello!"  # still being heard
    monitor.on_answer_end(None, None, "heard")
    assert monitor.now is None
    assert monitor.timings["first_audio"].last == 0.4 and monitor.timings["tts_first_chunk"].last == 0.15
    assert monitor.chat[-1].user == "Mochi" and monitor.chat[-1].outcome == "to coolguy42"
    await monitor.finish(Utterance("u2", "b", "x"), UtteranceStats(error="brain: Ollama is not running"))
    llm = next(r for r in monitor.connections() if r.name == "LLM")
    assert llm.state == "down" and "Ollama is not running" in llm.detail
    await monitor.finish(Utterance("u3", "c", "y"), UtteranceStats(first_token_s=0.1, text="ok"))
    llm = next(r for r in monitor.connections() if r.name == "LLM")
    assert (llm.state, llm.detail) == ("up", "llama.cpp · SmolLM2")  # recovered


def test_connection_rows_and_a_broken_probe():
    class State:
        status, detail, reconnects = "reconnecting", "socket closed (4006)", 2

    row = twitch_row(State())
    assert row.state == "connecting" and "socket closed (4006)" in row.detail and "2 reconnects" in row.detail
    assert source_row("OBS", "disconnected: refused; retrying in 4 s").state == "down"
    monitor = BotMonitor()
    monitor.add_probe("OBS", lambda: 1 / 0)
    assert monitor.connections()[0].state == "down"  # shown as trouble, never raised


@pytest.fixture
def own_logging():
    """setup_logging replaces the root handlers; put the test runner's back after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


def test_log_lines_reach_the_panel_redacted(tmp_path, own_logging):
    setup_logging("INFO", ["hunter2-secret-token"], rich_console=False)
    monitor = BotMonitor()
    log = logging.getLogger("vtbot.test")
    with logs_to_monitor(monitor):
        log.warning("connecting with hunter2-secret-token")
        add_secret("later-learned-token")
        try:
            raise RuntimeError("refused: later-learned-token")
        except RuntimeError:
            log.exception("OBS failed")
    messages = [row.message for row in monitor.log]
    assert messages[0] == "connecting with ********"
    assert "later-learned-token" not in messages[1] and "RuntimeError: refused: ********" in messages[1]
    assert all(not isinstance(h, type(monitor.log_handler())) for h in logging.getLogger().handlers)

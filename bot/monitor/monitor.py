"""The bot's state for people: recent chat with verdicts, what is being said, recent
alerts, connections, warnings, and rolling stage timings.

`BotMonitor` only watches. It plugs in where data already flows (a chat-flow
observer, a speech sink, the event bus's listener, a logging handler) and keeps
bounded histories, so hours of chat cost the same memory as minutes. Connections are
read through probes, small functions asked on each refresh, so no component has to
know that a dashboard exists.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.speech.segment import SpeechSegment, Utterance, UtteranceStats

from .rolling import RollingStat

#: stage → what it measures (seconds), in the order the dashboard lists them
STAGES = {
    "moderation": "input gate, per chat message",
    "llm_first_token": "prompt accepted → the brain's first token",
    "tts_first_chunk": "first piece sent to the voice → its first audio",
    "first_audio": "prompt accepted → first audio (time to first audio)",
}

UP, DOWN, CONNECTING, OFF = "up", "down", "connecting", "off"


@dataclass(slots=True)
class ChatRow:
    at: float
    user: str
    text: str
    allowed: bool | None  # None: a repeated delivery, ignored
    reason: str  # the gate's reason ("ok", "blocklist", ...)
    outcome: str  # what became of it: "queued", "chat", "blocked", the queue's refusal ...


@dataclass(slots=True)
class SpeakingNow:
    utterance_id: str
    viewer: str | None
    prompt: str
    started: float  # monotonic
    captions: list[str] = field(default_factory=list)
    audio_s: float = 0.0  # made so far

    @property
    def caption(self) -> str:
        return " ".join(self.captions)

    def progress(self, now: float) -> tuple[float, float]:
        """(seconds since the first audio was made, seconds of audio made so far)."""
        return (min(self.audio_s, max(0.0, now - self.started)), self.audio_s)


@dataclass(slots=True)
class EventRow:
    at: float
    what: str  # queued, played, duplicate, no rule, skipped, resumed
    kind: str
    who: str
    summary: str
    actions: list[tuple[str, str, str]] = field(default_factory=list)  # (action, state, detail)
    key: str = ""


@dataclass(slots=True)
class LogRow:
    at: float
    level: str
    name: str
    message: str


@dataclass(slots=True)
class ConnectionRow:
    name: str
    state: str  # up, down, connecting, off
    detail: str = ""


Probe = Callable[[], ConnectionRow]


class BotMonitor:
    def __init__(self, *, persona: str = "avatar", history: int = 200, window: int = 200,
                 clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic):
        self.persona = persona
        self.clock = clock
        self.monotonic = monotonic
        self.chat_total = 0  # rows ever added (the deques keep only the newest)
        self.log_total = 0
        self.chat: deque[ChatRow] = deque(maxlen=history)
        self.events: deque[EventRow] = deque(maxlen=history)
        self.log: deque[LogRow] = deque(maxlen=history)
        self.timings = {stage: RollingStat(window) for stage in STAGES}
        self.counts: Counter[str] = Counter()
        self.now: SpeakingNow | None = None
        self.last_answer: str = ""
        self._probes: dict[str, Probe] = {}
        self._health: dict[str, ConnectionRow] = {}
        self._names: dict[str, str] = {}

    # -- connections -------------------------------------------------------------------

    def add_probe(self, name: str, probe: Probe) -> None:
        self._probes[name] = probe

    def set_health(self, name: str, state: str, detail: str = "") -> None:
        """For parts with no connection object of their own (the brain, the voice)."""
        self._health[name] = ConnectionRow(name, state, detail)

    def connections(self) -> list[ConnectionRow]:
        rows = []
        for name, probe in self._probes.items():
            try:
                rows.append(probe())
            except Exception as e:  # noqa: BLE001 - one broken probe must not blank the panel
                rows.append(ConnectionRow(name, DOWN, f"cannot tell: {type(e).__name__}"))
        return rows + list(self._health.values())

    # -- chat flow observer ------------------------------------------------------------

    def on_received(self, msg: Any, got: Any, moderation_s: float) -> None:
        self.timings["moderation"].add(moderation_s)
        verdict = got.verdict
        if verdict is None:
            self.counts["duplicate"] += 1
            allowed, reason, outcome = None, "repeat", "ignored (delivered twice)"
        elif not verdict.allowed:
            self.counts["blocked"] += 1
            self.counts[f"blocked: {verdict.reason}"] += 1
            allowed, reason = False, verdict.reason
            outcome = f"blocked: {verdict.reason}" + (f" ({verdict.detail})" if verdict.detail else "")
        elif got.offer is None:
            self.counts["chat"] += 1
            allowed, reason, outcome = True, "ok", "chat"
        else:
            self.counts["queued" if got.offer.accepted else "not queued"] += 1
            if not got.offer.accepted:
                self.counts[f"not queued: {got.offer.reason.split(' (')[0]}"] += 1
            allowed, reason = True, "ok"
            outcome = f"{got.triage.why}: {got.offer.reason}" if got.triage else got.offer.reason
        # a blocked line is shown by its verdict only: the words are in the audit log
        text = msg.text if allowed is not False else "(hidden)"
        self.add_chat(ChatRow(self.clock(), msg.user_name or msg.user_login, text, allowed,
                              reason, outcome))

    def add_chat(self, row: ChatRow) -> None:
        self.chat.append(row)
        self.chat_total += 1

    def on_answer_start(self, prompt: Any) -> None:
        self.counts["answering"] += 1

    def on_answer_end(self, prompt: Any, stats: UtteranceStats | None, outcome: str) -> None:
        self.counts[outcome] += 1
        self.now = None  # heard (or skipped): the voice is quiet now

    # -- speech sink -------------------------------------------------------------------

    async def start(self, utterance: Utterance) -> None:
        self.now = SpeakingNow(utterance.id, utterance.viewer, utterance.prompt, self.monotonic())

    async def segment(self, segment: SpeechSegment) -> None:
        now = self.now
        if now is None or now.utterance_id != segment.utterance_id:
            return
        if not now.captions or now.captions[-1] != segment.caption:
            now.captions.append(segment.caption)
        if now.audio_s == 0.0:
            now.started = self.monotonic()
        now.audio_s += segment.duration_s

    async def finish(self, utterance: Utterance, stats: UtteranceStats) -> None:
        self.timings["llm_first_token"].add(stats.first_token_s)
        self.timings["tts_first_chunk"].add(stats.tts_first_chunk_s)
        self.timings["first_audio"].add(stats.first_audio_s)
        error = stats.error or ""
        if error.startswith("brain:"):
            self._mark_trouble("LLM", error.removeprefix("brain:").strip())
        elif stats.first_token_s is not None:
            self._mark_fine("LLM")
        if error.startswith("voice:"):
            self._mark_trouble("TTS", error.removeprefix("voice:").strip())
        elif stats.first_audio_s is not None:
            self._mark_fine("TTS")
        if stats.text:
            self.last_answer = stats.text
            self.add_chat(ChatRow(self.clock(), self.persona, stats.text, True, "answer",
                                  f"to {utterance.viewer}" if utterance.viewer else "said"))
        # `now` stays until the flow says the answer was heard: playback outlasts generation

    async def close(self) -> None:
        return None

    def describe(self, name: str, detail: str) -> None:
        """Name the brain or the voice (what is shown while it works)."""
        self._names[name] = detail
        self.set_health(name, UP, detail)

    def _mark_trouble(self, name: str, detail: str) -> None:
        self.set_health(name, DOWN, f"last answer failed: {detail}")

    def _mark_fine(self, name: str) -> None:
        row = self._health.get(name)
        if row is None or row.state != UP:
            self.set_health(name, UP, self._names.get(name, ""))

    # -- events ------------------------------------------------------------------------

    def on_event(self, what: str, event: Any, alert: Any) -> None:
        """The event bus's listener: an alert queued, played, skipped ..."""
        from events.bus import describe_event

        actions = list(getattr(alert, "results", None) or [])
        self.counts[f"alert {what}"] += 1
        if what == "played":
            for row in reversed(self.events):  # the row shown while it waited
                if row.key == event.key and row.what in ("queued", "resumed"):
                    row.what, row.actions = what, actions
                    return
        self.events.append(EventRow(self.clock(), what, str(event.type), event.who,
                                    describe_event(event), actions, event.key))

    # -- logging -----------------------------------------------------------------------

    def log_handler(self, level: int = logging.WARNING) -> logging.Handler:
        return MonitorLogHandler(self, level)


class MonitorLogHandler(logging.Handler):
    """Keeps warnings and errors (already redacted by the filters it shares) for the screen."""

    def __init__(self, monitor: BotMonitor, level: int = logging.WARNING):
        super().__init__(level)
        self.monitor = monitor

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_text:
                message += " — " + record.exc_text.strip().splitlines()[-1]
            elif record.exc_info and record.exc_info[1] is not None:
                message += f" — {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
            self.monitor.log.append(LogRow(record.created, record.levelname, record.name, message))
            self.monitor.log_total += 1
            if record.levelno >= logging.ERROR:
                self.monitor.counts["errors"] += 1
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)

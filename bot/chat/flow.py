"""chat message → input gate → triage → prompt queue → brain and voice, one at a time.

Every source (Twitch, the console, scripted chat) hands its messages to
:meth:`ChatFlow.receive`; :meth:`ChatFlow.run` answers the queue in priority order
and waits for each answer to be heard before the next. Skip, mute and clear act on
the answer being spoken and on the queue; pausing the AI and manual approval hold
prompts in the queue (an alert's fixed line still plays); panic does all at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.moderation.audit import AuditLog
from bot.moderation.gate import InputGate, OutputGate, Verdict
from bot.speech.pipeline import ChatLine, SpeechPipeline
from bot.speech.segment import UtteranceStats

from .message import ChatMessage
from .queue import Offer, Priority, Prompt, PromptQueue
from .triage import Triage, Triager

log = logging.getLogger(__name__)

AnswerHook = Callable[[Prompt, UtteranceStats], Awaitable[None]]


class FlowObserver(Protocol):
    """Watches the flow without changing it (the dashboard, the soak test's counters)."""

    def on_received(self, msg: ChatMessage, got: Received, moderation_s: float) -> None: ...
    def on_answer_start(self, prompt: Prompt) -> None: ...
    def on_answer_end(self, prompt: Prompt, stats: UtteranceStats | None, outcome: str) -> None: ...


@dataclass(slots=True)
class Received:
    """What happened to one incoming message."""

    verdict: Verdict | None  # None: a duplicate delivery, ignored
    triage: Triage | None = None
    offer: Offer | None = None


def _login(prompt: Prompt) -> str | None:
    """The account a prompt came from, for its viewer notes (alerts and the console have none)."""
    return prompt.message.user_login if prompt.message.source in ("twitch", "script") else None


class ChatFlow:
    def __init__(self, gate: InputGate, triager: Triager, queue: PromptQueue,
                 pipeline: SpeechPipeline | None, audit: AuditLog, *,
                 wait_heard: Callable[[UtteranceStats], Awaitable[object]] | None = None,
                 stop_sound: Callable[[], None] | None = None,
                 on_answer: AnswerHook | None = None, dedupe: int = 5000,
                 output_gate: OutputGate | None = None, manual_approval: bool = False):
        self.gate = gate
        self.output_gate = output_gate
        self.triager = triager
        self.queue = queue
        self.pipeline = pipeline
        self.audit = audit
        self.wait_heard = wait_heard
        self.stop_sound = stop_sound
        self.on_answer = on_answer
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._dedupe = dedupe
        self._current: asyncio.Task[UtteranceStats] | None = None
        self._current_prompt: Prompt | None = None
        self._unmuted = asyncio.Event()
        self._unmuted.set()
        self.answered = 0
        self.skipped = 0
        self.failed = 0
        self._picking = False  # between taking a prompt and starting its answer
        self.ai_paused = False  # the brain answers nothing; fixed alert lines still play
        self.manual_approval = manual_approval  # the streamer approves each prompt first
        self.observers: list[FlowObserver] = []
        queue.hold = self._held

    def _held(self, prompt: Prompt) -> bool:
        if prompt.verbatim:
            return False  # an alert's own line: no brain involved
        return self.ai_paused or (self.manual_approval and not prompt.approved)

    # -- in ------------------------------------------------------------------------------

    def receive(self, msg: ChatMessage) -> Received:
        """Moderate one message and queue it if it is a prompt. Never raises for bad input."""
        if msg.message_id:
            if msg.message_id in self._seen:
                log.debug("duplicate delivery of %s ignored", msg.message_id)
                self._notify("on_received", msg, Received(None), 0.0)
                return Received(None)
            self._seen[msg.message_id] = None
            if len(self._seen) > self._dedupe:
                self._seen.popitem(last=False)
        started = time.perf_counter()
        verdict = self.gate.check(msg)
        moderation_s = time.perf_counter() - started
        self.audit.record("input", verdict, **msg.audit_fields())
        got = Received(verdict)
        if verdict.allowed:
            triage = self.triager.classify(msg, verdict.text)
            if triage is not None:
                offer = self.queue.offer(msg, triage.text, triage.priority)
                log.info("%s from %s: %s (%s)", triage.why, msg.user_login,
                         offer.reason, f"{len(self.queue)} waiting")
                got = Received(verdict, triage, offer)
        self._notify("on_received", msg, got, moderation_s)
        return got

    def ask(self, msg: ChatMessage, question: str, priority) -> Received:
        """A prompt that a command or event makes (``!ask``, a paid message): moderated
        like chat, then queued at ``priority``."""
        verdict = self.gate.check_text(question)
        self.audit.record("input", verdict, **msg.audit_fields())
        if not verdict.allowed:
            return Received(verdict)
        offer = self.queue.offer(msg, verdict.text, priority)
        return Received(verdict, Triage(priority, verdict.text, "command"), offer)

    async def speak_event(self, text: str, *, viewer: str, key: str, verbatim: bool,
                          timeout: float = 300.0) -> str:
        """An alert's line (`verbatim`) or a reaction prompt for the brain, spoken in turn
        with the answers (events go first); returns once heard, or why it was not.

        A fixed line passes the output gate (it may carry a viewer's name or message);
        a reaction prompt passes the input gate like chat. Muted, nothing is queued.
        """
        if self.muted:
            return "muted"
        if verbatim:
            verdict = self.output_gate.check(text) if self.output_gate is not None else None
            where = "output"
        else:
            verdict = self.gate.check_text(text)
            where = "input"
        msg = ChatMessage(text, f"alert:{key}"[:100], viewer, source="event")
        if verdict is not None:
            self.audit.record(where, verdict, **msg.audit_fields())
            if not verdict.allowed:
                return f"blocked by moderation ({verdict.reason})"
            text = verdict.text if not verbatim else text
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        offer = self.queue.offer(msg, text, Priority.EVENT, verbatim=verbatim, done=done)
        if not offer.accepted:
            return f"not queued: {offer.reason}"
        # asyncio.wait, not wait_for: on Python 3.11, wait_for returns the result and
        # swallows a cancel that arrives as `done` resolves (a shutdown that cancels the
        # answer loop and the alerts together then never ends); waiting never cancels `done`
        finished, _ = await asyncio.wait({done}, timeout=timeout)
        if not finished:
            return f"not heard within {timeout:g} s"
        return done.result()

    # -- out -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Answer prompts until cancelled."""
        if self.pipeline is None:
            raise RuntimeError("ChatFlow.run needs a speech pipeline")
        while True:
            await self._unmuted.wait()
            self._picking = False
            prompt = await self.queue.get()
            self._picking = True
            if not self._unmuted.is_set():
                self.queue.offer(prompt.message, prompt.text, prompt.priority)  # keep it for later
                continue
            try:
                await self.answer(prompt)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - one failed answer never ends the stream
                self.failed += 1
                log.exception("answering %s failed; going on with the next prompt", prompt.viewer)
            finally:
                self._picking = False

    async def answer(self, prompt: Prompt) -> UtteranceStats | None:
        outcome = "skipped"
        stats = None
        self._notify("on_answer_start", prompt)
        try:
            stats = await self._answer(prompt)
            outcome = "heard" if stats is not None else outcome
            return stats
        except Exception:
            outcome = "failed"
            raise
        finally:
            if prompt.done is not None and not prompt.done.done():
                prompt.done.set_result(outcome)
            self._notify("on_answer_end", prompt, stats, outcome)

    def _notify(self, hook: str, *args: object) -> None:
        """Tell observers (the dashboard); one that fails is logged, never the flow's problem."""
        for observer in self.observers:
            try:
                getattr(observer, hook)(*args)
            except Exception:  # noqa: BLE001
                log.exception("flow observer %s failed", type(observer).__name__)

    async def _answer(self, prompt: Prompt) -> UtteranceStats | None:
        if not prompt.verbatim:
            deep = self.gate.deep_check(prompt.text)
            if not deep.allowed:
                self.audit.record("input", deep, **prompt.message.audit_fields())
                return None
        assert self.pipeline is not None
        speech = (self.pipeline.speaker.say(prompt.text, viewer=prompt.viewer) if prompt.verbatim
                  else self.pipeline.respond(ChatLine(prompt.viewer, prompt.text, login=_login(prompt))))
        self._current = asyncio.create_task(speech, name=f"answer-{prompt.message.user_login}")
        self._current_prompt = prompt
        try:
            stats = await self._current
            if self.wait_heard is not None:
                await self.wait_heard(stats)
        except asyncio.CancelledError:
            if self._current is not None and self._current.cancelled() and not _cancelling():
                self.skipped += 1
                return None  # skipped: the loop goes on
            raise
        finally:
            self._current = None
            self._current_prompt = None
        self.answered += 1
        if self.on_answer is not None and stats.text:
            try:
                await self.on_answer(prompt, stats)
            except Exception:  # noqa: BLE001 - a failed chat post never stops the voice
                log.exception("posting the answer failed")
        return stats

    # -- controls ------------------------------------------------------------------------

    @property
    def speaking(self) -> bool:
        return self._current is not None and not self._current.done()

    @property
    def current(self) -> Prompt | None:
        """The prompt being answered now, if any."""
        return self._current_prompt if self.speaking else None

    @property
    def muted(self) -> bool:
        return not self._unmuted.is_set()

    def skip(self) -> bool:
        """Stop the answer being spoken (and what is still buffered for the speakers)."""
        if self.stop_sound is not None:
            self.stop_sound()
        if self.speaking:
            assert self._current is not None
            self._current.cancel()
            return True
        return False

    def mute(self) -> None:
        self._unmuted.clear()
        self.skip()

    def unmute(self) -> None:
        self._unmuted.set()

    def clear(self) -> int:
        return self.queue.clear()

    def pause_ai(self) -> None:
        """The brain answers nothing until `resume_ai`; prompts wait (and may expire)."""
        self.ai_paused = True
        current = self.current
        if current is not None and not current.verbatim:
            self.skip()

    def resume_ai(self) -> None:
        self.ai_paused = False
        self.queue.wake()

    def set_manual_approval(self, on: bool) -> None:
        self.manual_approval = on
        self.queue.wake()

    def panic(self) -> str:
        """Silence now, drop every waiting prompt, pause the AI: one key, nothing said after."""
        self.ai_paused = True
        self.mute()
        cleared = self.clear()
        log.warning("PANIC: silenced, %d waiting prompts dropped, AI paused", cleared)
        return f"silenced, {cleared} waiting prompts dropped, AI paused and muted"

    def resume(self) -> None:
        """Undo panic: unmuted, AI answering again."""
        self.unmute()
        self.resume_ai()

    async def idle(self, timeout: float = 300.0) -> None:
        """Wait until nothing is queued or being said (scripted input at its end)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (len(self.queue) or self.speaking or self._picking) and loop.time() < deadline:
            await asyncio.sleep(0.05)


def _cancelling() -> bool:
    """Whether the task running this code is itself being cancelled (shutdown)."""
    task = asyncio.current_task()
    return bool(task is not None and task.cancelling())


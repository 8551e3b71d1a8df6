"""The chat flow with the real brain (SmolLM2) and voice (Piper): moderation, triage,
queue order, the output gate cutting an answer, skip and mute."""

import asyncio
import json

from bot.chat.flow import ChatFlow
from bot.chat.message import ChatMessage
from bot.chat.queue import Priority, PromptQueue
from bot.chat.triage import Triager
from bot.moderation.audit import AuditLog
from bot.moderation.gate import Moderator
from bot.moderation.output_guard import OutputGuard

from ..test_pipeline import Collect, make


def build(defaults, llama_backend, piper_engine, tmp_path, *, words=(), replacement="Let's talk about something else."):
    mcfg = defaults.config.moderation.model_copy(update={"audit_log": tmp_path / "audit.jsonl",
                                                         "words": list(words), "replacement": replacement})
    mod = Moderator(mcfg, classifier=False)
    audit = AuditLog(mcfg.audit_log)
    sink = Collect()
    pipe = make(defaults, llama_backend, piper_engine, [sink],
                [OutputGuard(mod.output, audit, mcfg.replacement)])
    answers = []

    async def on_answer(prompt, stats):
        answers.append((prompt.message.user_login, prompt.text, stats.text))

    flow = ChatFlow(mod.input, Triager("mentions", ["Mochi"], bot_login="mochibot"), PromptQueue(),
                    pipe, audit, on_answer=on_answer)
    return flow, sink, answers, audit


class Holds:
    """Records what the queue's hold check said, prompt by prompt: the answer loop
    consults it when it looks for work, so a held prompt shows it was seen and held."""

    def __init__(self, flow: ChatFlow):
        self.said: list[tuple[str, bool]] = []
        self._hold = flow.queue.hold
        flow.queue.hold = self

    def __call__(self, prompt) -> bool:
        held = self._hold(prompt)
        self.said.append((prompt.viewer, held))
        return held

    def held(self, *viewers: str) -> bool:
        return all((v, True) in self.said for v in viewers)


class MuteGate(asyncio.Event):
    """The flow's unmuted event, noting when the answer loop stops at it while muted."""

    def __init__(self) -> None:
        super().__init__()
        self.set()
        self.parked = asyncio.Event()

    async def wait(self) -> bool:
        if not self.is_set():
            self.parked.set()
        return await super().wait()


async def until(condition, timeout: float = 60.0) -> None:
    """Wait for ``condition``; the timeout is only a safety net."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.02)


def test_messages_are_moderated_triaged_and_answered_in_order(defaults, llama_backend, piper_engine,
                                                              session_loop, tmp_path):
    flow, sink, answers, audit = build(defaults, llama_backend, piper_engine, tmp_path)
    got = [
        flow.receive(ChatMessage("Mochi you are a b1tch", "troll", message_id="1")),
        flow.receive(ChatMessage("nice stream everyone", "lurker", message_id="2")),
        flow.receive(ChatMessage("hey Mochi, what is your favourite food?", "coolguy42", message_id="3")),
        flow.receive(ChatMessage("hey Mochi, what is your favourite food?", "coolguy42", message_id="3")),
        flow.receive(ChatMessage("Cheer50 Mochi sing for me", "bigspender", bits=50, message_id="4")),
    ]
    assert got[0].verdict.reason == "blocklist" and got[0].offer is None
    assert got[1].verdict.allowed and got[1].triage is None  # chat, not a prompt
    assert got[2].offer.accepted
    assert got[3].verdict is None  # the same delivery twice (EventSub is at-least-once)
    assert got[4].triage.priority is Priority.EVENT

    async def answer_two():
        for _ in range(2):
            await flow.answer(flow.queue.pop())

    session_loop.run_until_complete(answer_two())
    assert [a[0] for a in answers] == ["bigspender", "coolguy42"]  # paid first
    assert answers[0][1] == "Mochi sing for me" and all(a[2] for a in answers)
    audit.close()
    rows = [json.loads(r) for r in (tmp_path / "audit.jsonl").read_text().splitlines()]
    inputs = [r for r in rows if r["gate"] == "input"]
    assert [r["user"] for r in inputs] == ["troll", "lurker", "coolguy42", "bigspender"]
    assert sum(r["gate"] == "output" for r in rows) >= 2  # every spoken piece was checked


def test_output_gate_cuts_the_answer_and_says_the_safe_line(defaults, llama_backend, piper_engine,
                                                           session_loop, tmp_path):
    # words a model cannot avoid, blocked for this test: its first piece is refused (the
    # prompt goes straight into the queue, since the input gate would refuse it too)
    flow, sink, answers, audit = build(defaults, llama_backend, piper_engine, tmp_path,
                                       words=["the", "a", "i", "you", "is", "to", "and", "of", "it",
                                              "cats", "think", "what", "do", "mochi"])
    flow.queue.offer(ChatMessage("x", "coolguy42"), "what do you think of cats?", Priority.ASK)
    stats = session_loop.run_until_complete(flow.answer(flow.queue.pop()))
    assert stats.cut and "output gate: blocklist" in stats.cut
    assert stats.text == "Let's talk about something else."
    assert [s.caption for s in sink.segments] and {s.caption for s in sink.segments} == {stats.text}
    # what was blocked never reaches the conversation memory
    assert flow.pipeline.brain.memory.messages()[-1].content == stats.text


def test_skip_and_mute(defaults, llama_backend, piper_engine, session_loop, tmp_path):
    flow, sink, answers, audit = build(defaults, llama_backend, piper_engine, tmp_path)
    flow.pipeline.brain.persona = flow.pipeline.brain.persona.model_copy(update={"max_reply_sentences": 6})

    gate = flow._unmuted = MuteGate()

    async def scenario():
        flow.receive(ChatMessage("Mochi tell me a very long story about dragons", "a"))
        flow.receive(ChatMessage("Mochi say hi to chat", "b"))
        runner = asyncio.create_task(flow.run())
        while not sink.segments:  # the first answer is being spoken
            await asyncio.sleep(0.01)
        assert flow.speaking and flow.skip()
        while flow.answered < 1:  # the next prompt is answered after the skip
            await asyncio.sleep(0.02)
        flow.mute()
        assert flow.muted
        flow.receive(ChatMessage("Mochi are you there?", "c"))
        await asyncio.wait_for(gate.parked.wait(), 60)  # the answer loop stopped, muted
        assert len(flow.queue) == 1 and flow.answered == 1  # muted: waits
        flow.unmute()
        while flow.answered < 2:
            await asyncio.sleep(0.02)
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)

    session_loop.run_until_complete(asyncio.wait_for(scenario(), 120))
    assert flow.skipped == 1
    assert [a[0] for a in answers] == ["b", "c"]


def test_pause_approval_and_panic(defaults, llama_backend, piper_engine, session_loop, tmp_path):
    """Pausing the AI holds prompts, manual approval answers only what the streamer lets
    through, and panic silences, empties the queue and pauses, while alert lines still
    play once resumed."""
    flow, sink, answers, audit = build(defaults, llama_backend, piper_engine, tmp_path)
    stops = []
    flow.stop_sound = lambda: stops.append("stop")

    holds = Holds(flow)

    async def scenario():
        runner = asyncio.create_task(flow.run())
        flow.pause_ai()
        flow.receive(ChatMessage("Mochi what is your name?", "a"))
        await until(lambda: holds.held("a"))  # the answer loop saw it and held it
        assert flow.answered == 0 and len(flow.queue) == 1  # paused: it waits
        flow.resume_ai()
        await until(lambda: flow.answered == 1)

        flow.set_manual_approval(True)
        flow.receive(ChatMessage("Mochi say something rude", "b"))
        flow.receive(ChatMessage("Mochi say hi to chat", "c"))
        await until(lambda: holds.held("b", "c"))
        assert flow.answered == 1 and len(flow.queue) == 2
        assert flow.queue.reject().viewer == "b"  # the streamer says no
        assert flow.queue.approve().viewer == "c"
        await until(lambda: flow.answered == 2)

        flow.set_manual_approval(False)
        flow.pipeline.brain.persona = flow.pipeline.brain.persona.model_copy(update={"max_reply_sentences": 6})
        flow.receive(ChatMessage("Mochi tell me a very long story about dragons", "d"))
        flow.receive(ChatMessage("Mochi and another one", "e"))
        await until(lambda: flow.speaking)
        said = flow.panic()
        assert "1 waiting prompts dropped" in said and flow.muted and flow.ai_paused
        await until(lambda: not flow.speaking)
        assert len(flow.queue) == 0 and stops  # the speakers (and overlays) were told to stop
        flow.receive(ChatMessage("Mochi are you there?", "f"))
        heard = await asyncio.wait_for(
            flow.speak_event("Thanks for the raid!", viewer="g", key="r1", verbatim=True), 60)
        assert heard == "muted" and len(flow.queue) == 1  # muted: alerts are not queued either
        flow.resume()
        await until(lambda: flow.answered == 3)  # f's question, once resumed
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)

    session_loop.run_until_complete(asyncio.wait_for(scenario(), 180))
    assert [a[0] for a in answers] == ["a", "c", "f"]
    assert flow.skipped == 1


def test_a_cancelled_alert_line_stays_cancelled_when_it_is_heard_at_that_moment(
        defaults, llama_backend, piper_engine, session_loop, tmp_path):
    """Shutting down cancels the alert worker while the answer loop resolves the line's
    future in the same turn; the alert must end, not carry on to its next action (on
    Python 3.11 asyncio.wait_for returned the result and swallowed the cancel: a soak's
    shutdown then hung on the next alert line)."""
    flow, _, _, _ = build(defaults, llama_backend, piper_engine, tmp_path)

    async def scenario():
        line = asyncio.create_task(
            flow.speak_event("Thanks for the raid!", viewer="g", key="r2", verbatim=True))
        await until(lambda: len(flow.queue) == 1)
        done = flow.queue.snapshot()[0].done
        done.set_result("heard")  # resolved and cancelled in the same turn of the loop
        line.cancel()
        results = await asyncio.gather(line, return_exceptions=True)
        return results[0]

    outcome = session_loop.run_until_complete(asyncio.wait_for(scenario(), 60))
    assert isinstance(outcome, asyncio.CancelledError)

"""Faults during a stream: the LLM server dies mid-answer, the voice raises, an overlay
drops mid-speech, a task fails where nobody awaits it. Each is reported (log, monitor),
the bot recovers, and the next answer is spoken."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import time

from bot.brain.openai_backend import OpenAIBackend
from bot.chat.flow import ChatFlow
from bot.chat.message import ChatMessage
from bot.chat.queue import PromptQueue
from bot.chat.triage import Triager
from bot.config.models import OpenAIConfig
from bot.link.server import LinkServer, LinkSink
from bot.moderation.audit import AuditLog
from bot.moderation.gate import Moderator
from bot.monitor import BotMonitor
from bot.supervisor import Supervisor
from overlay.core import OverlayCore

from ..conftest import free_port
from ..llama_server import start_llama_server
from ..test_pipeline import Collect, make

TOKEN = "fault-test-token-0123456789"


def flow_for(defaults, backend, voice, tmp_path, sinks, monitor):
    mcfg = defaults.config.moderation.model_copy(update={"audit_log": tmp_path / "audit.jsonl"})
    mod = Moderator(mcfg, classifier=False)
    pipe = make(defaults, backend, voice, [*sinks, monitor])
    flow = ChatFlow(mod.input, Triager("mentions", ["Mochi"]), PromptQueue(), pipe, AuditLog(mcfg.audit_log))
    flow.observers.append(monitor)
    monitor.describe("LLM", backend.describe())
    monitor.describe("TTS", "piper")
    return flow


async def until(condition, timeout=90.0, what="condition"):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        assert loop.time() < end, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def row(monitor, name):
    return next(r for r in monitor.connections() if r.name == name)


class DyingServerBackend(OpenAIBackend):
    """The real client; ``after_first_sentence`` runs once, between two streamed tokens,
    once the next sentence has begun (so the first one is queued for the voice): the server dies mid-answer whatever the
    speed of the machine (killing it when the first audio arrives raced a fast model
    that had already sent its whole answer)."""

    after_first_sentence = None

    async def stream(self, messages, params):
        text = ""
        async for delta in super().stream(messages, params):
            yield delta
            text += delta
            if self.after_first_sentence and re.search(r"[.!?]\s+\S", text):  # the chunker has cut it
                action, self.after_first_sentence = self.after_first_sentence, None
                action()


def test_llm_server_dies_mid_answer_and_comes_back(defaults, piper_engine, session_loop, tmp_path, caplog):
    port = free_port()
    proc, url = start_llama_server(port, tmp_path / "server.log")
    # A safety net, not a limit: a dead server fails at once (reset, refused), while a live
    # one reading its prompt cold on a loaded machine took over 5 s, and a 5 s read timeout
    # failed those answers (the cut one unspoken, the one after the restart unanswered).
    backend = DyingServerBackend(OpenAIConfig(base_url=url, model="smollm2"), timeout_s=120)
    monitor, sink = BotMonitor(persona="Mochi"), Collect()
    flow = flow_for(defaults, backend, piper_engine, tmp_path, [sink], monitor)
    brain = flow.pipeline.brain
    brain.persona = brain.persona.model_copy(update={"max_reply_sentences": 8, "max_reply_tokens": 200})
    brain.llm = brain.llm.model_copy(update={"retry_attempts": 2})
    stats = []
    flow.on_answer = None

    async def scenario():
        nonlocal proc
        await backend.load()
        runner = asyncio.create_task(flow.run())
        try:

            def die():
                proc.kill()  # the LLM server dies while the answer is being generated
                proc.wait(10)

            backend.after_first_sentence = die
            flow.receive(ChatMessage("Mochi tell me a very long story about a dragon and a knight", "a"))
            await until(lambda: flow.answered + flow.failed >= 1, what="the cut answer")
            stats.append(sink.stats)
            assert row(monitor, "LLM").state == "down"
            flow.receive(ChatMessage("Mochi are you still there?", "b"))  # while it is down
            await until(lambda: flow.answered + flow.failed >= 2, what="the refused answer")
            stats.append(sink.stats)
            proc, _ = start_llama_server(port, tmp_path / "server.log")  # back, same port
            flow.receive(ChatMessage("Mochi say hi to chat", "c"))
            await until(lambda: flow.answered + flow.failed >= 3, what="the answer after recovery")
            stats.append(sink.stats)
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
            await backend.close()

    try:
        with caplog.at_level(logging.WARNING):
            session_loop.run_until_complete(asyncio.wait_for(scenario(), 240))
    finally:
        proc.kill()
        proc.wait(10)
    cut, refused, recovered = stats
    assert cut.error and cut.error.startswith("brain:") and cut.first_audio_s is not None  # spoke, then cut
    assert refused.error and "not reachable" in refused.error and refused.audio_s == 0
    assert recovered.error is None and recovered.text and recovered.audio_s > 0.5
    assert row(monitor, "LLM").state == "up"
    assert flow.failed == 0  # reported on the answer, never an unhandled failure
    assert any("retrying" in r.getMessage() for r in caplog.records)  # the brain backed off


class FlakyVoice:
    """Real Piper, except that one request raises the way a crashed ONNX session would."""

    def __init__(self, engine, fail_on: int):
        self.engine = engine
        self.fail_on = fail_on
        self.calls = 0
        self.name = engine.name

    @property
    def sample_rate(self):
        return self.engine.sample_rate

    async def load(self):
        await self.engine.load()

    async def close(self):
        pass

    async def stream(self, text):
        self.calls += 1
        if self.calls == self.fail_on:
            raise RuntimeError("ONNXRuntimeError: session crashed")
        async for chunk in self.engine.stream(text):
            yield chunk


def test_voice_raising_ends_that_answer_only(defaults, llama_backend, piper_engine, session_loop, tmp_path):
    monitor, sink = BotMonitor(persona="Mochi"), Collect()
    flow = flow_for(defaults, llama_backend, FlakyVoice(piper_engine, fail_on=1), tmp_path, [sink], monitor)
    errors = []

    async def scenario():
        runner = asyncio.create_task(flow.run())
        try:
            flow.receive(ChatMessage("Mochi what is your name?", "a"))
            await until(lambda: flow.answered >= 1, what="the failed answer")
            errors.append(sink.stats.error)
            assert row(monitor, "TTS").state == "down"
            flow.receive(ChatMessage("Mochi say hi to chat", "b"))
            await until(lambda: flow.answered >= 2, what="the next answer")
            errors.append(sink.stats.error)
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)

    session_loop.run_until_complete(asyncio.wait_for(scenario(), 120))
    assert errors == ["voice: RuntimeError: ONNXRuntimeError: session crashed", None]
    assert row(monitor, "TTS").state == "up" and sink.stats.audio_s > 0.3


def test_overlay_drops_mid_speech_and_reconnects(defaults, llama_backend, piper_engine, session_loop, tmp_path):
    monitor = BotMonitor(persona="Mochi")

    async def scenario():
        server = LinkServer(TOKEN, port=0, persona="Mochi")
        await server.start()
        flow = flow_for(defaults, llama_backend, piper_engine, tmp_path, [LinkSink(server)], monitor)
        flow.wait_heard = lambda stats: server.wait_heard(stats.utterance_id, timeout=stats.audio_s + 5)
        brain = flow.pipeline.brain
        brain.persona = brain.persona.model_copy(update={"max_reply_sentences": 6})
        overlay = OverlayCore(server.url, TOKEN, play=False, fps=30, lead_s=0.0)
        overlay_task = asyncio.create_task(overlay.run())
        runner = asyncio.create_task(flow.run())
        try:
            await asyncio.wait_for(overlay.link.connected.wait(), 10)
            flow.receive(ChatMessage("Mochi tell me a long story about the sea", "a"))
            await until(lambda: overlay.clock.at(overlay.clock.cursor) is not None, what="speech at the overlay")
            overlay.link._ws._conn.transport.abort()  # the network drops under the overlay
            await until(lambda: flow.answered >= 1, what="the bot to go on without it")
            await asyncio.wait_for(overlay.link.connected.wait(), 15)  # it came back by itself
            since = time.perf_counter()  # frames carry perf_counter times
            flow.receive(ChatMessage("Mochi say hi to chat", "b"))
            await until(lambda: flow.answered >= 2, what="the next answer")
            assert len(server.clients) == 1
            spoken = [f for f in list(overlay.state.frames) if f.t > since and f.caption]
            assert spoken, "the reconnected overlay showed the next answer"
        finally:
            runner.cancel()
            overlay_task.cancel()
            await asyncio.gather(runner, overlay_task, return_exceptions=True)
            await server.close()

    session_loop.run_until_complete(asyncio.wait_for(scenario(), 180))


def test_no_task_error_goes_unseen(caplog):
    supervisor = Supervisor()
    runs = []

    async def job():
        runs.append(1)
        if len(runs) < 3:
            raise ValueError(f"bug number {len(runs)}")
        await asyncio.sleep(3600)

    async def scenario():
        supervisor.install()

        async def orphan():
            raise KeyError("nobody awaits me")

        task = asyncio.get_running_loop().create_task(orphan(), name="orphan-task")
        await asyncio.wait([task], timeout=5)  # it failed; wait() leaves its error unread
        del task
        gc.collect()
        keeper = asyncio.create_task(supervisor.keep_running("answers", job))
        await until(lambda: len(runs) >= 3, timeout=20, what="two restarts")
        keeper.cancel()
        await asyncio.gather(keeper, return_exceptions=True)

    with caplog.at_level(logging.ERROR):
        asyncio.run(scenario())  # a loop of its own: the handler and the orphan stay here
    messages = [r.getMessage() for r in caplog.records]
    assert supervisor.unhandled == 1
    assert any("unhandled error in orphan-task" in m for m in messages)
    # the traceback is kept (a redacting filter may have turned it into text already)
    assert any("nobody awaits me" in (r.exc_text or "") or (r.exc_info and "nobody awaits me" in str(r.exc_info[1]))
               for r in caplog.records)
    assert supervisor.restarts["answers"] == 2
    assert any("answers ValueError: bug number 1; restarting in" in m for m in messages)

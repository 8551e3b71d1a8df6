"""The dashboard on a real chat flow (SmolLM2 + Piper), driven by keys through Textual's
pilot: verdicts, the queue, manual approval, what is being said, panic and resume."""

from __future__ import annotations

import asyncio
import io

from rich.console import Console

from bot.chat.controls import StreamControls
from bot.chat.message import ChatMessage
from bot.dashboard.actions import DashboardActions
from bot.dashboard.app import Dashboard
from bot.monitor import BotMonitor

from ..chat.test_flow import build


def _text(app, selector) -> str:
    """What a panel shows, as plain text."""
    widget = app.query_one(selector)
    if hasattr(widget, "lines"):  # RichLog
        return "\n".join(line.text for line in widget.lines)
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


async def _until(pilot, condition, timeout=60.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        assert loop.time() < end, f"timed out ({pilot.app.flow.answered} answered, queue {pilot.app.flow.queue.snapshot()}, said {pilot.app.last_said!r})"
        await pilot.pause(0.05)


def test_keys_steer_the_bot(defaults, llama_backend, piper_engine, session_loop, tmp_path):
    flow, sink, answers, audit = build(defaults, llama_backend, piper_engine, tmp_path)
    flow.wait_heard = lambda stats: asyncio.sleep(stats.audio_s)  # as long as a listener would
    monitor = BotMonitor(persona="Mochi")
    flow.observers.append(monitor)
    flow.pipeline.speaker.sinks.sinks.append(monitor)
    controls = StreamControls()
    effects = []

    async def vfx(args, by):
        effects.append((args, by))
        return f"{args}!"

    controls.register("vfx", vfx)
    typed = []

    async def on_line(text):
        typed.append(text)
        flow.receive(ChatMessage(text, "streamer", badges=frozenset({"broadcaster"})))
        return None

    app = Dashboard(monitor, flow, DashboardActions(flow, controls), persona="Mochi", on_line=on_line)

    async def scenario():
        runner = asyncio.create_task(flow.run())
        async with app.run_test(size=(180, 50)) as pilot:
            await pilot.press("f7")  # manual approval
            assert flow.manual_approval and "manual approval" in _text(app, "#status")
            flow.receive(ChatMessage("Mochi what is your favourite colour?", "coolguy42"))
            flow.receive(ChatMessage("you are a b1tch Mochi", "troll"))
            for key in "Mochi hi":
                await pilot.press("space" if key == " " else key)
            await pilot.press("enter")
            table = app.query_one("#queue")
            await _until(pilot, lambda: table.row_count == 2 and "✗ troll" in _text(app, "#chat"))
            chat = _text(app, "#chat")
            assert "✓ coolguy42: Mochi what is your favourite colour?" in chat
            assert "✗ troll: (hidden)  → blocked: blocklist" in chat
            assert typed == ["Mochi hi"]
            assert flow.answered == 0  # both wait for approval
            assert "waiting for approval" in str(table.get_row_at(0))
            await pilot.press("f6")  # reject the first waiting prompt
            assert "rejected coolguy42's prompt" in app.last_said
            await pilot.press("f5")  # approve the next
            await _until(pilot, lambda: "█" in _text(app, "#speaking"))  # speaking, the bar moving
            speaking = _text(app, "#speaking")
            assert "to streamer «Mochi hi»" in speaking and "█" in speaking
            await _until(pilot, lambda: flow.answered == 1)
            await _until(pilot, lambda: "▸ Mochi:" in _text(app, "#chat"))  # the answer joins the conversation
            assert "time to first audio" in _text(app, "#timings")
            await pilot.press("f8")
            assert effects == [("fireworks", "dashboard")]

            await pilot.press("f7")  # back to automatic
            flow.pipeline.brain.persona = flow.pipeline.brain.persona.model_copy(update={"max_reply_sentences": 6})
            flow.receive(ChatMessage("Mochi tell me a very long story about dragons", "d"))
            flow.receive(ChatMessage("Mochi and another one", "e"))
            await _until(pilot, lambda: flow.speaking)
            await pilot.press("f12")
            assert flow.muted and flow.ai_paused and len(flow.queue) == 0
            await _until(pilot, lambda: "PANIC" in _text(app, "#status"))
            await _until(pilot, lambda: not flow.speaking)
            await pilot.press("f12")  # again: resume
            assert not flow.muted and not flow.ai_paused and "resumed" in app.last_said
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)

    session_loop.run_until_complete(asyncio.wait_for(scenario(), 180))
    assert [a[0] for a in answers] == ["streamer"]

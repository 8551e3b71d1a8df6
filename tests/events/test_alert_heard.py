"""An alert keeps time with the overlay: its `say` line is played by a real overlay
core (software clock, no sound device), reported heard, and only then does the
alert's next action run, both in `vtbot run` (through the chat flow) and in the demo
(straight to the speaker)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from bot.brain import Brain
from bot.brain.ollama_backend import OllamaBackend
from bot.chat.flow import ChatFlow
from bot.chat.queue import PromptQueue
from bot.chat.triage import Triager
from bot.config.models import OllamaConfig
from bot.link.server import LinkServer, LinkSink
from bot.live import heard_waiter
from bot.moderation.audit import AuditLog
from bot.moderation.gate import Moderator
from bot.speech.pipeline import Speaker, SpeechPipeline
from bot.stream_events import FlowVoice, LinkOverlay, SpeakerVoice
from events.actions import ActionRunner
from events.bus import EventBus
from events.journal import Journal
from events.model import StreamEvent
from events.rules import parse_rules
from overlay.core import OverlayCore
from tests.conftest import free_port

TOKEN = "alert-heard-token-0123456789"
RULES = {"rules": [{"name": "cheer", "on": "cheer", "do": [
    {"say": "Thanks {user} for the {bits} bits, you are amazing!"},
    {"obs.scene": {"scene": "Thanks"}},
]}]}


class Utterances:
    """A speech sink that keeps the id of every utterance started."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    async def start(self, utterance) -> None:
        self.ids.append(utterance.id)

    async def segment(self, segment) -> None:
        pass

    async def finish(self, utterance, stats) -> None:
        pass

    async def close(self) -> None:
        pass


class WatchingObs:
    """OBS as the alert sees it; each scene switch notes whether the bot had already
    been told (by the overlay) that the last line was heard, and what the overlay held."""

    connected = True

    def __init__(self, server: LinkServer, overlay: OverlayCore, utterances: Utterances):
        self.server, self.overlay, self.utterances = server, overlay, utterances
        self.scene = "Main"
        self.switches: list[tuple[str, bool, bool]] = []  # scene, line heard, overlay idle
        self.switched = asyncio.Event()

    async def program_scene(self) -> str:
        return self.scene

    async def set_scene(self, name: str) -> None:
        heard = await self.server.wait_heard(self.utterances.ids[-1], timeout=0)  # now, no waiting
        self.switches.append((name, heard, self.overlay.clock.idle))
        self.scene = name
        self.switched.set()

    async def run_or_queue(self, description, action):
        return await action(self)


def live_voice(defaults, speaker: Speaker, server: LinkServer, tmp_path) -> tuple[FlowVoice, ChatFlow]:
    """`vtbot run`'s voice: alert lines take their turn in the chat flow, which waits
    with the same waiter `build_flow` gives it when the overlay plays the voice."""
    mcfg = defaults.config.moderation.model_copy(update={"audit_log": tmp_path / "audit.jsonl"})
    mod = Moderator(mcfg, classifier=False)
    brain = Brain(OllamaBackend(OllamaConfig(host=f"http://127.0.0.1:{free_port()}"), timeout_s=1),
                  defaults.config.persona, defaults.config.llm)  # never asked: the line is fixed
    flow = ChatFlow(mod.input, Triager("mentions", ["Mochi"], bot_login="mochibot"), PromptQueue(),
                    SpeechPipeline(brain, speaker, defaults.config.chunker), AuditLog(mcfg.audit_log),
                    wait_heard=heard_waiter(None, server), output_gate=mod.output)
    return FlowVoice(flow), flow


@pytest.mark.parametrize("path", ["live", "demo"])
def test_an_alert_line_is_heard_before_its_next_action(path, defaults, piper_engine, session_loop, tmp_path):
    async def scenario():
        server = LinkServer(TOKEN, port=0, persona="Mochi")
        await server.start()
        overlay = OverlayCore(server.url, TOKEN, play=False, fps=60, lead_s=0.0)
        overlay_task = asyncio.create_task(overlay.run())
        utterances = Utterances()
        speaker = Speaker(piper_engine, [LinkSink(server), utterances])
        obs = WatchingObs(server, overlay, utterances)
        flow_task = None
        if path == "live":
            voice, flow = live_voice(defaults, speaker, server, tmp_path)
            flow_task = asyncio.create_task(flow.run())
        else:
            voice = SpeakerVoice(SimpleNamespace(moderator=None, speaker=speaker), heard_waiter(None, server))
        journal = Journal(":memory:")
        bus = EventBus(parse_rules(RULES), journal, ActionRunner(overlay=LinkOverlay(server), voice=voice, obs=obs),
                       gap_s=0)
        await bus.start()
        try:
            await asyncio.wait_for(overlay.link.connected.wait(), 10)
            event = StreamEvent(type="cheer", id="c1", source="trigger", user="Bob", bits=500)
            assert await bus.publish(event) == "queued"
            await asyncio.wait_for(obs.switched.wait(), 60)
            await bus.idle(timeout=60)
            return obs.switches, [h["actions"] for h in journal.history()]
        finally:
            await bus.close()
            journal.close()
            tasks = [t for t in (flow_task, overlay_task) if t is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await server.close()

    switches, actions = session_loop.run_until_complete(asyncio.wait_for(scenario(), 180))
    # the scene switched once, after the overlay had played the line and said so
    assert switches == [("Thanks", True, True)]
    assert actions == [["done", "done"]]

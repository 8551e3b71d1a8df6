"""Wiring stream events into the live bot: rules, journal, bus, targets and sources.

The bus acts on the overlay through the link, on the voice through the chat flow
(alert lines take their turn with the answers), and on OBS through its client.
Sources (rehearsal triggers, Ko-fi, StreamElements, Streamlabs; Twitch EventSub
comes with the Twitch client) hand their events to `StreamEvents.publish`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.chat.flow import ChatFlow
from bot.config.loader import LoadedConfig
from bot.config.paths import state_dir
from bot.link import protocol
from bot.link.server import LinkServer
from bot.link.token import load_or_create
from events.actions import ActionRunner
from events.bus import EventBus
from events.journal import Journal
from events.model import StreamEvent
from events.rules import RulesError, load_rules
from events.sources.triggers import TriggerServer

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_RULES = ROOT / "configs" / "rules.example.yaml"
TRIGGER_ENV = "VTBOT_TRIGGER_TOKEN"
ALERT_SPEAKER = "Stream alert"


def default_journal_path() -> Path:
    return state_dir() / "events.sqlite3"


def trigger_token(loaded: LoadedConfig) -> str:
    return load_or_create(loaded.config.events.triggers.token_file, env_var=TRIGGER_ENV, name="trigger-token")


class LinkOverlay:
    """Effects and expressions for every connected overlay."""

    def __init__(self, link: LinkServer):
        self.link = link

    def vfx(self, effect: str, intensity: float, colors: tuple[str, ...]) -> int:
        self.link.broadcast(protocol.vfx(effect, intensity, list(colors)))
        return len(self.link.clients)

    def expression(self, name: str, hold_s: float) -> int:
        self.link.broadcast(protocol.expression(name, 1.0, hold_s))
        return len(self.link.clients)


class FlowVoice:
    """Alert lines and reactions, spoken in turn with the answers to chat."""

    def __init__(self, flow: ChatFlow):
        self.flow = flow

    async def say(self, text: str, event: StreamEvent) -> str:
        return await self.flow.speak_event(text, viewer=event.who, key=event.key, verbatim=True)

    async def react(self, prompt: str, event: StreamEvent) -> str:
        # the brain reads "Stream alert says: Bob just cheered 500 bits ...": the prompt
        # names the viewer itself, and the model does not take the alert for Bob's words
        return await self.flow.speak_event(prompt, viewer=ALERT_SPEAKER, key=event.key, verbatim=False)


@dataclass
class StreamEvents:
    bus: EventBus
    triggers: TriggerServer | None = None
    sources: list[Any] = field(default_factory=list)  # each with start() and close()
    obs: Any = None

    async def publish(self, event: StreamEvent) -> str:
        return await self.bus.publish(event)

    async def start(self) -> None:
        resumed = await self.bus.start()
        if resumed:
            log.warning("events: %d alert(s) from the last run resumed", resumed)
        if self.obs is not None:
            await self.obs.start()
        for part in ([self.triggers] if self.triggers else []) + self.sources:
            try:
                await part.start()
            except OSError as e:
                log.error("events: %s did not start: %s", type(part).__name__, e)

    async def close(self) -> None:
        for part in ([self.triggers] if self.triggers else []) + self.sources:
            try:
                await part.close()
            except Exception:  # noqa: BLE001 - closing the rest matters more
                log.exception("events: closing %s failed", type(part).__name__)
        await self.bus.close()
        if self.obs is not None:
            await self.obs.close()
        self.bus.journal.close()


def build_events(loaded: LoadedConfig, flow: ChatFlow, link: LinkServer | None) -> StreamEvents:
    """Everything the config asks for; a bad rules file raises RulesError (file, rule, key)."""
    cfg = loaded.config.events
    rules_path = Path(cfg.rules_file).expanduser() if cfg.rules_file else EXAMPLE_RULES
    rules = load_rules(rules_path)
    obs = None
    if loaded.config.obs.enabled:
        from events.obs.client import ObsClient

        obs = ObsClient(loaded.config.obs, loaded.secrets.obs_password)
    runner = ActionRunner(overlay=LinkOverlay(link) if link is not None else None, voice=FlowVoice(flow), obs=obs)
    journal = Journal(Path(cfg.journal).expanduser() if cfg.journal else default_journal_path())
    bus = EventBus(rules, journal, runner, gap_s=cfg.alert_gap_s)
    events = StreamEvents(bus, obs=obs)
    if cfg.triggers.enabled:
        events.triggers = TriggerServer(trigger_token(loaded), events.publish, host=cfg.triggers.host,
                                        port=cfg.triggers.port)
    events.sources += donation_sources(loaded, events.publish)
    log.info("events: %d rules from %s", len(rules.rules), rules_path)
    return events


def donation_sources(loaded: LoadedConfig, publish) -> list[Any]:
    cfg, secrets = loaded.config.events, loaded.secrets
    out: list[Any] = []
    for name, section, secret, module, cls in (
        ("Ko-fi", cfg.kofi, secrets.kofi_verification_token, "events.sources.kofi", "KofiWebhook"),
        ("StreamElements", cfg.streamelements, secrets.streamelements_token, "events.sources.streamelements",
         "StreamElementsSource"),
        ("Streamlabs", cfg.streamlabs, secrets.streamlabs_token, "events.sources.streamlabs", "StreamlabsSource"),
    ):
        if not section.enabled:
            continue
        if secret is None:
            log.error("events: %s is enabled but its token is not set (see the config's comment); skipped", name)
            continue
        import importlib

        out.append(getattr(importlib.import_module(module), cls)(section, secret, publish))
    return out


__all__ = ["RulesError", "StreamEvents", "build_events", "trigger_token"]


class SpeakerVoice:
    """The demo's voice: no chat to take turns with, so lines go straight to the
    speaker, through the same moderation gates."""

    def __init__(self, rt: Any, wait_heard: Any):
        self.rt = rt
        self.wait_heard = wait_heard

    async def say(self, text: str, event: StreamEvent) -> str:
        if self.rt.moderator is not None:
            verdict = self.rt.moderator.output.check(text)
            if not verdict.allowed:
                return f"blocked by moderation ({verdict.reason})"
        stats = await self.rt.speaker.say(text)  # the alert is not a viewer's line
        await self.wait_heard(stats)
        return "heard"

    async def react(self, prompt: str, event: StreamEvent) -> str:
        from bot.speech.pipeline import ChatLine

        if self.rt.moderator is not None:
            verdict = self.rt.moderator.input.check_text(prompt)
            if not verdict.allowed:
                return f"blocked by moderation ({verdict.reason})"
            prompt = verdict.text
        stats = await self.rt.pipeline.respond(ChatLine(ALERT_SPEAKER, prompt))
        await self.wait_heard(stats)
        return "heard"


async def play_demo_alerts(loaded: LoadedConfig, rt: Any, link: LinkServer | None, wait_heard: Any) -> int:
    """The demo's alerts through the configured rules; returns how many played."""
    cfg = loaded.config
    rules_path = Path(cfg.events.rules_file).expanduser() if cfg.events.rules_file else EXAMPLE_RULES
    journal = Journal(":memory:")
    runner = ActionRunner(overlay=LinkOverlay(link) if link is not None else None, voice=SpeakerVoice(rt, wait_heard))
    bus = EventBus(load_rules(rules_path), journal, runner, gap_s=cfg.events.alert_gap_s)
    await bus.start()
    try:
        for i, alert in enumerate(cfg.demo.alerts):
            await bus.publish(StreamEvent(source="trigger", id=f"demo-{i}", **alert.model_dump()))
        await bus.idle(timeout=600)
    finally:
        await bus.close()
        journal.close()
    return bus.counts["played"]

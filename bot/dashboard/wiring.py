"""Connects a running bot to a `BotMonitor`: the flow, the voice, alerts, connections
and warnings. Nothing here changes what the bot does."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.logs import RedactingFilter
from bot.monitor import BotMonitor
from bot.monitor.monitor import CONNECTING, DOWN, OFF, UP, ConnectionRow
from bot.speech.tts.base import describe_voice


def twitch_row(state: Any) -> ConnectionRow:
    """twitch.client.ConnectionState → a row (connected, reconnecting after n drops ...)."""
    status = {"connected": UP, "connecting": CONNECTING, "starting": CONNECTING,
              "reconnecting": CONNECTING}.get(state.status, DOWN)
    detail = state.status + (f": {state.detail}" if state.detail else "")
    if state.reconnects:
        detail += f" ({state.reconnects} reconnects)"
    return ConnectionRow("Twitch", status, detail)


def source_row(name: str, state: str) -> ConnectionRow:
    """A donation source's or OBS's state string ("connected", "disconnected: why")."""
    status = UP if state == "connected" else CONNECTING if state == "connecting" else DOWN
    return ConnectionRow(name, status, state)


def watch_bot(monitor: BotMonitor, bot: Any, *, twitch_state: Any = None) -> None:
    """Probes for every part `bot` (a LiveBot) runs, and the monitor on the flow and bus."""
    bot.flow.observers.append(monitor)
    rt = bot.runtime
    if rt.brain is not None:
        monitor.describe("LLM", rt.brain.backend.describe())
    tts = rt.tts
    monitor.describe("TTS", describe_voice(tts))
    if twitch_state is not None:
        monitor.add_probe("Twitch", lambda: twitch_row(twitch_state))
    else:
        monitor.add_probe("Twitch", lambda: ConnectionRow("Twitch", OFF, "off (twitch.enabled: false)"))
    link = bot.link
    if link is not None:
        def overlays() -> ConnectionRow:
            names = sorted(c.name for c in link.clients)
            return ConnectionRow("Overlays", UP if names else DOWN,
                                 ", ".join(names) if names else f"none connected ({link.url})")
        monitor.add_probe("Overlays", overlays)
    events = bot.events
    if events is not None:
        if events.obs is not None:
            monitor.add_probe("OBS", lambda: source_row("OBS", events.obs.state))
        for source in events.sources:
            name = type(source).__name__.removesuffix("Source").removesuffix("Webhook")
            monitor.add_probe(name, lambda s=source, n=name: source_row(n, s.state))
        previous = events.bus.listener

        def listen(what: str, event: Any, alert: Any) -> None:
            if previous is not None:
                previous(what, event, alert)
            monitor.on_event(what, event, alert)

        events.bus.listener = listen


@contextmanager
def logs_to_monitor(monitor: BotMonitor, level: int = logging.INFO) -> Iterator[None]:
    """While the dashboard owns the terminal, log records go to its panel, not the screen.

    File handlers stay; the new handler shares the terminal handler's redactor, so
    secrets learned later (refreshed tokens) are masked there too.
    """
    root = logging.getLogger()
    terminal = [h for h in root.handlers if not isinstance(h, logging.FileHandler)]
    handler = monitor.log_handler(level)
    for h in terminal:
        for f in h.filters:
            if isinstance(f, RedactingFilter):
                handler.addFilter(f)
        root.removeHandler(h)
    if not handler.filters:
        handler.addFilter(RedactingFilter(()))
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        for h in terminal:
            root.addHandler(h)

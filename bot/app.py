"""The composition root: builds brain, voice and sinks from the config."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from bot.brain import Brain, make_backend
from bot.config import LoadedConfig
from bot.moderation.audit import AuditLog
from bot.moderation.gate import Moderator
from bot.emotion.tags import mood_tag_filter
from bot.mind import Mind, build_mind, describe_mind, tag_prompt_lines
from bot.moderation.output_guard import OutputGuard
from bot.speech.pipeline import Speaker, SpeechPipeline
from bot.speech.repeat_guard import RepeatGuard
from bot.speech.player import AudioDeviceError, AudioPlayer, resolve_output_device
from bot.speech.sink import SpeechSink
from bot.speech.tts.base import TTSEngine, describe_voice
from bot.speech.tts.factory import make_tts
from bot.speech.wav_writer import WavJsonWriter

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    loaded: LoadedConfig
    tts: TTSEngine
    speaker: Speaker
    brain: Brain | None = None
    pipeline: SpeechPipeline | None = None
    player: AudioPlayer | None = None
    writer: WavJsonWriter | None = None
    sinks: list[SpeechSink] = field(default_factory=list)
    moderator: Moderator | None = None
    audit: AuditLog | None = None
    mind: Mind = field(default_factory=Mind)

    async def close(self) -> None:
        await self.mind.close()
        if self.player is not None:
            await self.player.drain(timeout=120)
        await self.speaker.sinks.close()
        await self.tts.close()
        if self.brain is not None:
            await self.brain.backend.close()
        if self.audit is not None:
            self.audit.close()


def make_player(loaded: LoadedConfig, console: Console) -> AudioPlayer | None:
    """A player for the configured device, or None (with the reason shown) if none can play."""
    audio = loaded.config.audio
    try:
        resolve_output_device(audio.output_device)
    except AudioDeviceError as e:
        console.print(f"[yellow]audio playback off: {e}[/] — speech is still written to files")
        return None
    return AudioPlayer(audio.output_device, audio.volume)


async def _timed_load(console: Console, label: str, coro) -> float:
    t = time.perf_counter()
    await coro
    took = time.perf_counter() - t
    console.print(f"[green]✓[/] {label} [dim]({took:.1f} s)[/]")
    return took


async def _load_brain(brain: Brain) -> None:
    await brain.backend.load()
    await brain.warm_up()


async def build_runtime(loaded: LoadedConfig, console: Console, *, with_brain: bool, play: bool,
                        out_dir: Path | None, extra_sinks: list[SpeechSink] | None = None,
                        demo: bool = False) -> Runtime:
    """Load the voice (and the brain, its lore, notes and moods) with visible progress;
    sinks per the options."""
    cfg = loaded.config
    tts = make_tts(cfg.tts)
    brain = Brain(make_backend(cfg.llm, loaded.secrets), cfg.persona, cfg.llm) if with_brain else None
    if brain is not None and (extra := tag_prompt_lines(loaded)):
        brain.set_system_extra(extra)
    moderator = Moderator(cfg.moderation) if with_brain else None
    mind_loading = asyncio.ensure_future(asyncio.to_thread(build_mind, loaded, demo=demo)) if with_brain else None
    with console.status("loading models…", spinner="dots"):
        loads = [_timed_load(console, f"voice: {describe_voice(tts)}", tts.load())]
        if brain is not None:
            loads.append(_timed_load(console, f"brain: {brain.backend.describe()}", _load_brain(brain)))
        if moderator is not None:
            loads.append(_timed_load(console, f"moderation: {len(moderator.lists.terms)} listed terms",
                                     asyncio.to_thread(moderator.warm_up)))
        if mind_loading is not None:
            loads.append(_timed_load(console, "knowledge, viewer memory, emotions", mind_loading))
        await asyncio.gather(*loads)
    mind = mind_loading.result() if mind_loading is not None else Mind()
    for line in describe_mind(mind):
        console.print(f"  [dim]{line}[/]")
    sinks: list[SpeechSink] = list(extra_sinks or [])
    writer = None
    if out_dir is not None:
        writer = WavJsonWriter(out_dir, write_wav=cfg.output.write_wav)
        sinks.append(writer)
    player = make_player(loaded, console) if play and cfg.audio.play else None
    if player is not None:
        sinks.append(player)
    speaker = Speaker(tts, sinks, mood=mind.mood, mood_hold_s=cfg.emotion.hold_s)
    pipeline = audit = None
    if brain is not None and moderator is not None:
        audit = AuditLog(cfg.moderation.audit_log, max_bytes=int(cfg.moderation.audit_max_mb * 1024 * 1024),
                         backups=cfg.moderation.audit_backups)
        guard = OutputGuard(moderator.output, audit, cfg.moderation.replacement)
        pipeline = SpeechPipeline(brain, speaker, cfg.chunker, [mood_tag_filter, guard, RepeatGuard()])
        mind.attach(brain)
        mind.start(cfg.knowledge.watch_s)
    return Runtime(loaded, tts, speaker, brain, pipeline, player, writer, sinks, moderator, audit, mind)

"""`vtbot doctor`: one line per dependency, model, device and service — ok, or the fix."""

from __future__ import annotations

import asyncio
import importlib
import platform
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    optional: bool = False


def _module(name: str, dist: str, fix: str, optional: bool = False) -> Check:
    try:
        mod = importlib.import_module(name)
    except Exception as e:  # noqa: BLE001 - any import failure is reported
        return Check(dist, False, f"{e.__class__.__name__}: {e} → {fix}", optional)
    from importlib.metadata import PackageNotFoundError, version

    try:
        ver = version(dist)
    except PackageNotFoundError:
        ver = getattr(mod, "__version__", "?")
    return Check(dist, True, ver, optional)


async def run_checks(console: Console, user_file: Path | None) -> bool:
    from bot.config import ConfigError, load_config

    checks: list[Check] = [Check("python", True, platform.python_version())]
    for mod, dist, fix in [
        ("llama_cpp", "llama-cpp-python", "pip install llama-cpp-python"),
        ("piper", "piper-tts", "pip install piper-tts"),
        ("onnx", "onnx", "pip install onnx (Piper phoneme timing needs it)"),
        ("onnxruntime", "onnxruntime", "pip install onnxruntime"),
        ("sounddevice", "sounddevice", "apt install libportaudio2"),
        ("ollama", "ollama", "pip install ollama"),
        ("openai", "openai", "pip install openai"),
        ("twitchio", "twitchio", "pip install 'twitchio>=3.3,<4'"),
        ("profanity_check", "alt-profanity-check", "pip install alt-profanity-check"),
        ("PySide6", "PySide6-Essentials", "pip install PySide6-Essentials (the overlay window)"),
        ("OpenGL", "PyOpenGL", "pip install PyOpenGL (the overlay window)"),
        ("obsws_python", "obsws-python", "pip install obsws-python (OBS scene changes)"),
    ]:
        checks.append(_module(mod, dist, fix))
    checks.append(_module("TTS", "coqui-tts", "pip install 'vtbot[xtts]' (only for tts.engine: xtts)",
                          optional=True))

    try:
        loaded = load_config(user_file)
        checks.append(Check("config", True, ", ".join(str(p) for p in loaded.files)))
    except ConfigError as e:
        checks.append(Check("config", False, "; ".join(e.problems)))
        loaded = None

    if loaded is not None:
        cfg = loaded.config
        checks.extend(await _model_checks(loaded))
        checks.append(_audio_check(cfg.audio.output_device, cfg.audio.play))
        checks.append(await _try("moderation", lambda: _moderation(loaded)))
        checks.append(await _twitch_check(loaded))
        checks.append(_display_check(loaded))
        checks.append(_rules_check(loaded))
        checks.append(await _obs_check(loaded))
        checks.extend(await asyncio.to_thread(_mind_checks, loaded))
    checks.append(Check("ffmpeg", shutil.which("ffmpeg") is not None,
                        "found" if shutil.which("ffmpeg") else "not found (optional: only for MP3 input to lipsync)",
                        optional=True))

    all_ok = True
    for c in checks:
        mark = "[green]ok  [/]" if c.ok else ("[yellow]warn[/]" if c.optional else "[red]FAIL[/]")
        console.print(f"{mark} {c.name:<18} {escape(c.detail)}")
        all_ok &= c.ok or c.optional
    return all_ok


async def _try(name: str, fn: Callable[[], Awaitable[str]]) -> Check:
    try:
        return Check(name, True, await fn())
    except Exception as e:  # noqa: BLE001 - the message is the point
        return Check(name, False, str(e))


async def _moderation(loaded) -> str:
    import asyncio

    from bot.moderation.gate import Moderator

    mod = Moderator(loaded.config.moderation, classifier=False)
    await asyncio.to_thread(mod.warm_up)
    m = loaded.config.moderation
    return (f"{len(mod.lists.terms)} listed terms ({', '.join(m.languages)}), "
            f"audit log {m.audit_log or 'off'}")


async def _twitch_check(loaded) -> Check:
    t = loaded.config.twitch
    if not t.enabled:
        return Check("twitch", True, "off (twitch.enabled: false): chat comes from the terminal", optional=True)
    from bot.live import TwitchSetupError, load_twitch_tokens

    try:
        _, bot, broadcaster, _ = await load_twitch_tokens(loaded)
    except TwitchSetupError as e:
        return Check("twitch", False, str(e))
    except Exception as e:  # noqa: BLE001 - network: say it, the bot retries when live
        return Check("twitch", False, f"cannot reach Twitch to check the logins ({type(e).__name__}); "
                     "the bot retries when live")
    return Check("twitch", True, f"#{broadcaster.login} as {bot.login}; logins valid")


def _mind_checks(loaded) -> list[Check]:
    """The embedding model, the lore folder and the viewer notes file."""
    from bot.knowledge.encoder import EncoderUnavailable, SentenceEncoder
    from bot.knowledge.base import SUFFIXES
    from bot.mind import viewers_path

    cfg = loaded.config
    needed = cfg.knowledge.folder is not None
    wanted = needed or cfg.emotion.enabled
    if not wanted:
        return [Check("embedding model", True, "not used (no knowledge.folder, emotion.enabled: false)", optional=True)]
    try:
        enc = SentenceEncoder(cfg.knowledge.model)
    except EncoderUnavailable as e:
        return [Check("embedding model", False, str(e), optional=not needed)]
    out = [Check("embedding model", True, f"{enc.model_dir} ({enc.dim} dimensions)")]
    folder = cfg.knowledge.folder
    if folder is None:
        out.append(Check("knowledge", True, "off (knowledge.folder not set)", optional=True))
    elif not Path(folder).is_dir():
        out.append(Check("knowledge", False, f"knowledge.folder {folder} does not exist"))
    else:
        files = [p for p in Path(folder).rglob("*") if p.suffix.lower() in SUFFIXES]
        out.append(Check("knowledge", True, f"{len(files)} lore files in {folder}"))
    if cfg.viewers.enabled:
        db = viewers_path(loaded)
        out.append(Check("viewer memory", True, f"{db}{'' if db.exists() else ' (created on first chat)'}"))
    return out


def _rules_check(loaded) -> Check:
    from bot.stream_events import EXAMPLE_RULES
    from events.rules import RulesError, load_rules

    cfg = loaded.config.events
    if not cfg.enabled:
        return Check("alert rules", True, "off (events.enabled: false)", optional=True)
    path = Path(cfg.rules_file).expanduser() if cfg.rules_file else EXAMPLE_RULES
    try:
        rules = load_rules(path)
    except RulesError as e:
        return Check("alert rules", False, str(e))
    return Check("alert rules", True, f"{len(rules.rules)} rules in {path}")


async def _obs_check(loaded) -> Check:
    cfg = loaded.config.obs
    if not cfg.enabled:
        return Check("obs", True, "off (obs.enabled: false): alerts skip their OBS actions", optional=True)
    from events.obs import ObsClient

    client = ObsClient(cfg, loaded.secrets.obs_password)
    await client.start()
    try:
        if await client.wait_connected(min(10.0, cfg.timeout_s * 3)):
            scenes = await client.scenes()
            return Check("obs", True, f"OBS {client.obs_version} at {cfg.host}:{cfg.port}; scenes: "
                                      + ", ".join(scenes[:8]))
        return Check("obs", False, f"{client.state} (OBS → Tools → WebSocket Server Settings; "
                                   "password in $VTBOT_OBS_PASSWORD)")
    finally:
        await client.close()


def _display_check(loaded) -> Check:
    from overlay.app import has_display

    if has_display():
        return Check("overlay window", True, "a display is available: vtbot run opens the window"
                     if loaded.config.overlay.auto_start else "display available (overlay.auto_start is off)")
    return Check("overlay window", True, "no display here: run `vtbot overlay` on the PC that streams, "
                 "or use --headless", optional=True)


async def _model_checks(loaded) -> list[Check]:
    from bot.brain import make_backend
    from bot.speech.tts.base import describe_voice
    from bot.speech.tts.factory import make_tts

    cfg = loaded.config
    out: list[Check] = []

    async def brain() -> str:
        backend = make_backend(cfg.llm, loaded.secrets)
        try:
            await backend.load()
            return backend.describe()
        finally:
            await backend.close()

    async def voice() -> str:
        tts = make_tts(cfg.tts)
        try:
            await tts.load()
            return f"{describe_voice(tts)} · {tts.sample_rate} Hz"
        finally:
            await tts.close()

    if cfg.llm.backend == "llamacpp":
        out.extend(await _llamacpp_checks(cfg.llm.llamacpp))
    else:
        out.append(await _try(f"brain ({cfg.llm.backend})", brain))
    out.append(await _try(f"voice ({cfg.tts.engine})", voice))
    return out


async def _llamacpp_checks(cfg) -> list[Check]:
    """llama.cpp's CPU features, then one real generation in a child process: a native
    crash there is reported with its fix instead of killing the doctor."""
    from bot.brain import selftest
    from bot.brain.llama_cpu import current_plan

    try:
        plan = current_plan(cfg.extra_buffers)
    except Exception as e:  # noqa: BLE001 - llama_cpp missing or broken: say so
        return [Check("llama.cpp CPU", False, f"{type(e).__name__}: {e}")]
    out = [Check("llama.cpp CPU", True, plan.describe())]
    model = Path(cfg.model_path).expanduser() if cfg.model_path else None
    result = await asyncio.to_thread(selftest.run, cfg.extra_buffers, model)
    detail = result.detail if result.ok else f"{result.detail} → {result.fix}"
    out.append(Check("brain (llamacpp)", result.ok, detail))
    return out


def _audio_check(device: str | None, play: bool) -> Check:
    from bot.speech.player import AudioDeviceError, resolve_output_device

    try:
        idx = resolve_output_device(device)
    except AudioDeviceError as e:
        return Check("audio output", False, f"{e} (speech is still written to files)", optional=not play)
    return Check("audio output", True, "default device" if idx is None else f"device #{idx}")

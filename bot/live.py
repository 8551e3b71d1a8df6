"""`vtbot run`: the live bot. Chat (Twitch and the console) → moderation → queue →
brain and voice, with chat commands, until Ctrl-C.

Without Twitch (``twitch.enabled: false``) the console is the chat: lines typed there
come from the broadcaster, and ``/skip``, ``/mute`` ... run the chat commands.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from bot.app import Runtime, build_runtime
from bot.chat.commands import ChatCommands
from bot.chat.controls import ActionUnavailable, StreamControls
from bot.chat.flow import ChatFlow
from bot.chat.message import ChatMessage
from bot.chat.queue import Priority, PromptQueue
from bot.chat.triage import Triager
from bot.config import LoadedConfig
from bot.link import protocol
from bot.link.server import LinkServer, LinkSink
from bot.link.token import load_or_create
from bot.logs import add_secret
from bot.overlay_process import OverlayProcess
from bot.speech.player import AudioPlayer
from bot.speech.segment import UtteranceStats
from bot.supervisor import Supervisor

log = logging.getLogger(__name__)

# waits until a spoken line was heard (or gives up); what it returns is not used
HeardWaiter = Callable[[UtteranceStats], Awaitable[object]]


class TwitchSetupError(Exception):
    """Twitch is enabled but not set up; the message says what to do."""


@dataclass
class LiveBot:
    runtime: Runtime
    flow: ChatFlow
    commands: ChatCommands
    controls: StreamControls
    twitch: object | None = None  # TwitchChat, once connected
    tasks: list[asyncio.Task] = field(default_factory=list)
    link: LinkServer | None = None
    overlay: OverlayProcess | None = None
    events: object | None = None  # StreamEvents: alerts from follows, cheers, donations ...


def make_link(loaded: LoadedConfig) -> LinkServer:
    lc = loaded.config.link
    token = load_or_create(lc.token_file)
    add_secret(token)
    return LinkServer(token, host=lc.host, port=lc.port, persona=loaded.config.persona.name,
                      server_name="vtbot")


async def start_link(server: LinkServer, console: Console) -> bool:
    """Listen for overlays; a port in use is reported and the bot goes on without."""
    try:
        await server.start()
    except OSError as e:
        console.print(f"[yellow]overlay link off:[/] cannot listen on {server.host}:{server.port} "
                      f"({e.strerror}); set link.port to a free port")
        return False
    console.print(f"[green]✓[/] overlay link: {server.url}")
    return True


def wire_link(bot: LiveBot, who: str) -> None:
    """Overlay hotkeys run as the broadcaster's commands; chat's !fireworks reaches the
    overlays through the link."""
    link = bot.link
    assert link is not None
    broadcaster = ChatMessage("", who, badges=frozenset({"broadcaster"}), source="overlay")
    names = bot.commands.names()

    async def on_command(name: str, args: str, by: str) -> tuple[bool, str]:
        if name in ("skip", "mute", "unmute", "clear") and name in names:
            reply = await bot.commands.run(name, broadcaster, args)
            return True, reply.text if reply else name
        if name in ("vfx", "scene"):
            try:
                return True, await bot.controls.run(name, args, by)
            except ActionUnavailable as e:
                return False, str(e)
        if name in ("reload", "captions", "expression"):
            link.broadcast(protocol.overlay_action(name, args))
            return True, name
        return False, f"{name} is not available"

    async def vfx(args: str, by: str) -> str:
        try:
            name, intensity = protocol.parse_vfx_args(args)
        except ValueError as e:
            raise ActionUnavailable(str(e)) from None
        if not link.clients:
            raise ActionUnavailable("no overlay is connected")
        link.broadcast(protocol.vfx(name, intensity))
        return f"{name}!"

    async def fireworks(args: str, by: str) -> str:
        return await vfx("fireworks", by)

    link.on_command = on_command
    bot.controls.register("vfx", vfx)
    bot.controls.register("fireworks", fireworks)


def stop_everywhere(local: Callable[[], None] | None, link: LinkServer) -> Callable[[], None]:
    """Skip, mute and panic silence the local speakers and every overlay's buffer at once."""
    def stop() -> None:
        if local is not None:
            local()
        link.broadcast(protocol.overlay_action("stop"))

    return stop


def heard_waiter(player: AudioPlayer | None, link: LinkServer | None) -> HeardWaiter | None:
    """What to wait on after each spoken line, answer or alert alike, before the next
    thing runs: the local speakers draining, else an overlay reporting the line heard."""
    if player is not None:
        return lambda stats: player.drain(timeout=300)
    if link is not None:
        return lambda stats: link.wait_heard(stats.utterance_id, timeout=stats.audio_s + 5)
    return None


def wire_obs_scene(bot: LiveBot, obs) -> None:
    """`!scene NAME` and the overlay's scene hotkeys switch OBS's program scene."""
    from events.obs.client import ObsRequestError

    async def scene(args: str, by: str) -> str:
        name = args.strip()
        if not name:
            raise ActionUnavailable("which scene?")
        if not obs.connected:
            raise ActionUnavailable("OBS is not connected right now (vtbot keeps trying)")
        try:
            await obs.set_scene(name)
        except ObsRequestError as e:
            raise ActionUnavailable(str(e)) from None
        return f"scene: {name}"

    bot.controls.register("scene", scene)


def build_flow(loaded: LoadedConfig, rt: Runtime,
               link: LinkServer | None = None) -> tuple[ChatFlow, ChatCommands, StreamControls]:
    """The flow and its commands; with a link (listening), lines wait for the overlay
    and skip, mute and panic silence it too."""
    cfg = loaded.config
    assert rt.moderator is not None and rt.audit is not None and rt.pipeline is not None
    q = cfg.chat.queue
    queue = PromptQueue(q.max_size, {Priority.EVENT: q.ttl_event_s, Priority.ASK: q.ttl_ask_s,
                                     Priority.CHAT: q.ttl_chat_s})
    triager = Triager(cfg.chat.policy, [cfg.persona.name, *cfg.chat.names],
                      ask_command=cfg.commands.prefix + cfg.commands.ask.name,
                      sample_rate=cfg.chat.sample_rate, min_bits=cfg.chat.min_bits,
                      bot_login=cfg.twitch.bot_login or cfg.twitch.channel)
    local_stop = rt.player.skip if rt.player is not None else None
    flow = ChatFlow(rt.moderator.input, triager, queue, rt.pipeline, rt.audit,
                    wait_heard=heard_waiter(rt.player, link),
                    stop_sound=stop_everywhere(local_stop, link) if link is not None else local_stop,
                    output_gate=rt.moderator.output,
                    manual_approval=cfg.chat.approval == "manual")
    controls = StreamControls()
    if rt.mind.viewers is not None:
        flow.observers.append(rt.mind.viewers)  # every allowed message counts toward the viewer's notes
    commands = ChatCommands(cfg.commands, flow, rt.moderator, controls, cfg.persona.name, viewers=rt.mind.viewers)
    return flow, commands, controls


async def load_twitch_tokens(loaded: LoadedConfig):
    """The stored logins, validated (and refreshed) now, as Twitch asks at start-up."""
    from .twitch.auth import AuthError, TokenStore, default_token_path, ensure_fresh

    t = loaded.config.twitch
    if not t.client_id:
        raise TwitchSetupError("twitch.client_id is empty: register an application at "
                               "dev.twitch.tv/console/apps (category Chat Bot, client type Public) "
                               "and put its Client ID in your config")
    store = TokenStore(Path(t.token_file) if t.token_file else default_token_path())
    broadcaster = store.get("broadcaster")
    bot_account = store.get("bot") if t.bot_login and t.bot_login != t.channel else broadcaster
    if broadcaster is None or bot_account is None:
        missing = "broadcaster" if broadcaster is None else "bot"
        raise TwitchSetupError(f"no saved Twitch login for the {missing} account in {store.path}: "
                               "run `vtbot auth` first")
    secret = loaded.secrets.twitch_client_secret
    client_secret = secret.get_secret_value() if secret else None
    try:
        broadcaster = await ensure_fresh(t.client_id, broadcaster, client_secret=client_secret, store=store)
        if bot_account.role == "bot":
            bot_account = await ensure_fresh(t.client_id, bot_account, client_secret=client_secret, store=store)
        else:
            bot_account = broadcaster
    except AuthError as e:
        raise TwitchSetupError(str(e)) from None
    for token in {broadcaster, bot_account}:
        add_secret(token.access_token.reveal())
        add_secret(token.refresh_token.reveal())
    if t.channel and broadcaster.login != t.channel:
        raise TwitchSetupError(f"twitch.channel is {t.channel!r} but the saved broadcaster login is "
                               f"{broadcaster.login!r}: run `vtbot auth` as the broadcaster")
    return store, bot_account, broadcaster, client_secret


async def handle_console_line(bot: LiveBot, text: str, name: str) -> str | None:
    """One line the streamer typed (terminal or dashboard): a /command, or chat to the
    avatar as the broadcaster. Returns what to show them, if anything."""
    msg = ChatMessage(text, name, badges=frozenset({"broadcaster"}), source="console")
    if text.startswith("/"):
        names = bot.commands.names()
        word, _, args = text[1:].partition(" ")
        key = next((k for k, ws in names.items() if word.lower() in ws), None)
        if key is None:
            return f"commands: {' '.join('/' + ws[0] for ws in names.values())} /quit"
        reply = await bot.commands.run(key, msg, args)
        return reply.text if reply is not None else None
    got = bot.flow.receive(msg)
    if got.verdict is not None and not got.verdict.allowed:
        return f"blocked: {got.verdict.reason} — {got.verdict.detail}"
    if got.triage is None:
        bot.flow.ask(msg, text, Priority.ASK)  # the streamer talking to the avatar
    return None


async def console_chat(bot: LiveBot, console: Console, name: str, *, keep_running: bool) -> None:
    """The terminal as chat: the streamer's lines and /commands. When stdin ends, the
    bot stops, unless ``keep_running`` (Twitch is connected): then it runs until Ctrl-C."""
    interactive = sys.stdin.isatty()
    while True:
        try:
            text = await asyncio.to_thread(input, f"{name}> " if interactive else "")
        except EOFError:
            if keep_running:
                await asyncio.Event().wait()
            await bot.flow.idle()  # scripted input: let the last answers finish
            return
        text = text.strip()
        if not text:
            continue
        if text in ("/quit", "/exit"):
            return
        shown = await handle_console_line(bot, text, name)
        if shown is not None:
            style = "yellow" if shown.startswith("blocked:") else "dim"
            console.print(f"[{style}]{escape(shown)}[/]")


async def run_dashboard(bot: LiveBot, monitor, name: str, *, twitch_state=None) -> None:
    """The terminal dashboard until the streamer quits it (Ctrl+Q or /quit)."""
    from bot.dashboard.actions import DashboardActions
    from bot.dashboard.app import Dashboard
    from bot.dashboard.wiring import logs_to_monitor, watch_bot

    watch_bot(monitor, bot, twitch_state=twitch_state)
    actions = DashboardActions(bot.flow, bot.controls)
    app = Dashboard(monitor, bot.flow, actions, persona=bot.runtime.loaded.config.persona.name,
                    on_line=lambda text: handle_console_line(bot, text, name))
    with logs_to_monitor(monitor):
        await app.run_async()


def overlay_window_wanted(loaded: LoadedConfig) -> bool:
    """The bot opens the overlay window itself when it serves the link and has a display."""
    from overlay.app import has_display

    cfg = loaded.config
    return cfg.link.enabled and cfg.overlay.auto_start and has_display()


async def open_overlay(loaded: LoadedConfig, link: LinkServer, console: Console, *, play: bool,
                       config_file: Path | None) -> OverlayProcess:
    proc = OverlayProcess(link.url, link.token, config_file=config_file,
                          play=play and loaded.config.audio.play)
    await proc.start()
    console.print("[green]✓[/] overlay window opened (it plays the voice; F1 lists its hotkeys)")
    return proc


def dashboard_wanted(choice: bool | None) -> bool:
    """The dashboard when asked, else whenever both ends of the terminal are a TTY."""
    if choice is not None:
        return choice
    return sys.stdin.isatty() and sys.stdout.isatty()


async def run_live(loaded: LoadedConfig, console: Console, *, play: bool, out_dir: Path | None,
                   console_name: str = "streamer", config_file: Path | None = None,
                   dashboard: bool = False) -> None:
    from bot.monitor import BotMonitor
    from bot.transcript import TranscriptSink

    cfg = loaded.config
    monitor = BotMonitor(persona=cfg.persona.name)
    link = make_link(loaded) if cfg.link.enabled else None
    window = link is not None and overlay_window_wanted(loaded)
    # the dashboard shows the conversation itself; the plain mode prints a transcript
    first: list = [monitor] if dashboard else [TranscriptSink(console, cfg.persona.name, None, echo_viewer=True)]
    sinks = first + ([LinkSink(link)] if link is not None else [])
    rt = await build_runtime(loaded, console, with_brain=True, play=play and not window, out_dir=out_dir,
                             extra_sinks=sinks)
    if link is not None and not await start_link(link, console):
        link = None
    flow, commands, controls = build_flow(loaded, rt, link)
    bot = LiveBot(rt, flow, commands, controls, link=link)
    if link is not None:
        wire_link(bot, console_name)
        if window:
            bot.overlay = await open_overlay(loaded, link, console, play=play, config_file=config_file)
    events = None
    if cfg.events.enabled:
        from .stream_events import RulesError, build_events

        try:
            events = build_events(loaded, flow, bot.link)
        except RulesError as e:
            console.print(f"[red]✗ {e}[/]")
            await rt.close()
            raise SystemExit(2) from None
        bot.events = events
    import gc

    gc.freeze()  # models and word lists are loaded for good: keep them out of GC passes
    supervisor = Supervisor()
    supervisor.install()
    try:
        bot.tasks.append(asyncio.create_task(supervisor.keep_running("answers", flow.run), name="answers"))
        if events is not None:
            await events.start()
            if events.obs is not None:
                wire_obs_scene(bot, events.obs)
            if events.triggers is not None:
                console.print(f"[green]✓[/] alerts: {len(events.bus.rules.rules)} rules; rehearse with "
                              "`vtbot trigger cheer --bits 500`")
        state = None
        if cfg.twitch.enabled:
            from .twitch.client import ConnectionState, TwitchChat, run_with_backoff

            store, bot_token, broadcaster, client_secret = await load_twitch_tokens(loaded)
            state = ConnectionState()

            def make() -> TwitchChat:
                client = TwitchChat(cfg.twitch, cfg.commands, bot_token=bot_token,
                                    broadcaster_token=broadcaster, flow=flow, chat_commands=commands,
                                    store=store, client_secret=client_secret, state=state,
                                    on_event=events.publish if events is not None else None)
                bot.twitch = client
                flow.on_answer = client.post_answer
                return client

            bot.tasks.append(asyncio.create_task(run_with_backoff(make, state), name="twitch"))
            console.print(f"[green]✓[/] Twitch: #{broadcaster.login} as {bot_token.login}")
        if dashboard:
            await run_dashboard(bot, monitor, console_name, twitch_state=state)
        else:
            console.print(f"[bold]{cfg.persona.name}[/] is live. Type to talk as {console_name}; "
                          "/help lists commands, /quit ends.")
            await console_chat(bot, console, console_name, keep_running=cfg.twitch.enabled)
    finally:
        for task in bot.tasks:
            task.cancel()
        await asyncio.gather(*bot.tasks, return_exceptions=True)
        if events is not None:
            await events.close()
        if bot.twitch is not None:
            await bot.twitch.close()  # type: ignore[attr-defined]
        if bot.overlay is not None:
            await bot.overlay.stop()
        if bot.link is not None:
            await bot.link.close()
        await rt.close()

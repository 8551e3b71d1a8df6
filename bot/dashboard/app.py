"""The live dashboard: chat with verdicts, the queue, what is being said, alerts,
connections, stage timings and warnings on one screen, with keys to take over.

It reads the `BotMonitor` and the chat flow four times a second and never blocks the
bot: it runs in the bot's own event loop, and every key acts at once through
`DashboardActions`. Function keys act wherever the focus is, so typing to the avatar
in the input line never triggers one by accident.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rich.markup import escape
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Input, RichLog, Static

from bot.chat.flow import ChatFlow
from bot.chat.queue import Priority
from bot.monitor import BotMonitor
from bot.monitor.monitor import STAGES

from .actions import DashboardActions

REFRESH_S = 0.25
STATE_STYLE = {"up": "green", "connecting": "yellow", "down": "red", "off": "grey50"}
STAGE_LABELS = {"moderation": "moderation", "llm_first_token": "LLM first token",
                "tts_first_chunk": "TTS first chunk", "first_audio": "time to first audio"}

LineHandler = Callable[[str], Awaitable[str | None]]


@dataclass
class _Seen:
    """How many rows of each history the screen has shown (they only grow)."""

    chat: int = 0
    log: int = 0


class Dashboard(App[None]):
    TITLE = "vtbot"
    CSS = """
    Screen { layout: vertical; }
    #status { height: 1; padding: 0 1; background: $boost; }
    #top { height: 1fr; }
    #middle { height: 12; }
    #chat { width: 2fr; border: round $primary; }
    #side { width: 1fr; }
    #connections { height: auto; border: round $primary; }
    #timings { height: auto; border: round $primary; }
    #queue { width: 2fr; height: 100%; border: round $primary; }
    #events { width: 1fr; height: 100%; border: round $primary; }
    #speaking { height: 4; border: round $accent; padding: 0 1; }
    #log { height: 6; border: round $warning; }
    #say { dock: bottom; }
    """
    BINDINGS = [
        Binding("f12", "panic", "PANIC", priority=True),
        Binding("f2", "skip", "Skip", priority=True),
        Binding("f3", "mute", "Mute", priority=True),
        Binding("f4", "pause", "Pause AI", priority=True),
        Binding("f5", "approve", "Approve", priority=True),
        Binding("f6", "reject", "Reject", priority=True),
        Binding("f7", "approval", "Approval mode", priority=True),
        Binding("f8", "vfx", "Fireworks", priority=True),
        Binding("f9", "clear", "Clear queue", priority=True),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, monitor: BotMonitor, flow: ChatFlow, actions: DashboardActions, *,
                 persona: str = "vtbot", on_line: LineHandler | None = None):
        super().__init__()
        self.monitor = monitor
        self.flow = flow
        self.actions = actions
        self.persona = persona
        self.on_line = on_line
        self.last_said = ""  # the last key's outcome, shown in the status line
        self._seen = _Seen()

    # -- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        with Horizontal(id="top"):
            yield RichLog(id="chat", markup=True, wrap=True, max_lines=500)
            with Vertical(id="side"):
                yield Static(id="connections")
                yield Static(id="timings")
        with Horizontal(id="middle"):
            yield DataTable(id="queue", cursor_type="row", zebra_stripes=True)
            yield Static(id="events")
        yield Static(id="speaking")
        yield RichLog(id="log", markup=True, wrap=True, max_lines=300)
        yield Input(placeholder=f"talk to {self.persona} as the streamer, or /help", id="say")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"vtbot — {self.persona}"
        self.query_one("#chat", RichLog).border_title = "Chat · verdicts"
        self.query_one("#connections", Static).border_title = "Connections"
        self.query_one("#timings", Static).border_title = "Timings (last 200)"
        self.query_one("#events", Static).border_title = "Alerts"
        self.query_one("#speaking", Static).border_title = "Now speaking"
        self.query_one("#log", RichLog).border_title = "Log"
        table = self.query_one("#queue", DataTable)
        table.border_title = "Queue"
        table.add_columns("#", "kind", "viewer", "prompt", "age", "state")
        self.refresh_all()
        self.set_interval(REFRESH_S, self.refresh_all)
        self.query_one("#say", Input).focus()

    # -- refresh -----------------------------------------------------------------------

    def refresh_all(self) -> None:
        self._status()
        self._chat()
        self._queue()
        self._speaking()
        self._events()
        self._connections()
        self._timings()
        self._log()

    def _status(self) -> None:
        f = self.flow
        parts = [f"[b]{escape(self.persona)}[/b]"]
        if f.ai_paused and f.muted:
            parts.append("[b white on red] PANIC — F12 resumes [/]")
        else:
            parts.append("[red]MUTED[/]" if f.muted else "[green]voice on[/]")
            parts.append("[yellow]AI PAUSED[/]" if f.ai_paused else "[green]AI on[/]")
        parts.append("[yellow]manual approval[/]" if f.manual_approval else "auto approval")
        parts.append(f"queue {len(f.queue)}")
        c = self.monitor.counts
        parts.append(f"answered {f.answered} · blocked {c['blocked']} · skipped {f.skipped}")
        if c["errors"]:
            parts.append(f"[red]errors {c['errors']} (see Log)[/]")
        if self.last_said:
            parts.append(f"[i]{escape(self.last_said)}[/i]")
        self.query_one("#status", Static).update("  │  ".join(parts))

    def _chat(self) -> None:
        rows, self._seen.chat = _new_rows(self.monitor.chat, self.monitor.chat_total, self._seen.chat)
        view = self.query_one("#chat", RichLog)
        for row in rows:
            stamp = time.strftime("%H:%M:%S", time.localtime(row.at))
            if row.allowed is None:
                mark = "[grey50]≡[/]"
            elif row.allowed:
                mark = "[green]✓[/]" if row.reason != "answer" else "[magenta]▸[/]"
            else:
                mark = "[red]✗[/]"
            style = "magenta" if row.reason == "answer" else "cyan"
            line = f"[grey50]{stamp}[/] {mark} [b {style}]{escape(row.user)}[/]: {escape(row.text)}"
            if row.reason != "answer":
                line += f"  [grey50]→ {escape(row.outcome)}[/]"
            view.write(Text.from_markup(line))

    def _queue(self) -> None:
        table = self.query_one("#queue", DataTable)
        prompts = self.flow.queue.snapshot()
        hold = self.flow.queue.hold
        now = self.flow.queue.clock()
        table.clear()
        for p in prompts:
            held = hold is not None and hold(p)
            state = ("waiting for approval" if held and self.flow.manual_approval and not p.approved
                     else "held (AI paused)" if held else "approved" if p.approved else "next")
            table.add_row(str(p.seq), "alert" if p.verbatim else Priority(p.priority).name.lower(),
                          p.viewer, _short(p.text, 60), f"{now - p.enqueued_at:.0f}s", state,
                          key=str(p.seq))
        table.border_title = f"Queue ({len(prompts)})"

    def _speaking(self) -> None:
        now = self.monitor.now
        widget = self.query_one("#speaking", Static)
        current = self.flow.current
        if now is None:
            idle = "[grey50](quiet)[/]"
            if self.monitor.last_answer:
                idle += f"  last: [i]{escape(_short(self.monitor.last_answer, 100))}[/]"
            widget.update(idle)
            return
        heard, made = now.progress(self.monitor.monotonic())
        bar = _bar(heard / made if made > 0 else 0.0, 30)
        who = f"to [b]{escape(now.viewer)}[/]" if now.viewer else ""
        prompt = escape(_short(current.text if current is not None else now.prompt, 60))
        widget.update(f"{who} «{prompt}»  {bar} {heard:4.1f}/{made:.1f} s\n"
                      f"[b magenta]{escape(now.caption[-300:])}[/]")

    def _events(self) -> None:
        lines = []
        for row in list(self.monitor.events)[-9:]:
            stamp = time.strftime("%H:%M", time.localtime(row.at))
            acts = " ".join(f"{a}:{'✓' if s == 'done' else s}" for a, s, _ in row.actions)
            lines.append(f"[grey50]{stamp}[/] [b]{escape(row.summary)}[/] [grey50]{row.what}[/] {escape(acts)}")
        self.query_one("#events", Static).update("\n".join(lines) or "[grey50](no alerts yet)[/]")

    def _connections(self) -> None:
        table = Table.grid(padding=(0, 1))
        for row in self.monitor.connections():
            style = STATE_STYLE.get(row.state, "white")
            table.add_row(f"[{style}]●[/]", f"[b]{escape(row.name)}[/]", escape(_short(row.detail or row.state, 48)))
        self.query_one("#connections", Static).update(table)

    def _timings(self) -> None:
        table = Table.grid(padding=(0, 1))
        table.add_row("", "[grey50]last[/]", "[grey50]p50[/]", "[grey50]p95[/]", "[grey50]n[/]")
        for stage in STAGES:
            stat = self.monitor.timings[stage]
            table.add_row(STAGE_LABELS[stage], _ms(stat.last), _ms(stat.p50), _ms(stat.p95), str(stat.count))
        self.query_one("#timings", Static).update(table)

    def _log(self) -> None:
        rows, self._seen.log = _new_rows(self.monitor.log, self.monitor.log_total, self._seen.log)
        view = self.query_one("#log", RichLog)
        for row in rows:
            style = {"WARNING": "yellow", "ERROR": "red", "CRITICAL": "b red"}.get(row.level, "white")
            stamp = time.strftime("%H:%M:%S", time.localtime(row.at))
            view.write(Text.from_markup(f"[grey50]{stamp}[/] [{style}]{row.level.lower()}[/] "
                                        f"{escape(row.message)}"))

    # -- keys --------------------------------------------------------------------------

    def _said(self, text: str) -> None:
        self.last_said = text
        self.refresh_all()

    def action_panic(self) -> None:
        self._said(self.actions.panic_or_resume())

    def action_skip(self) -> None:
        self._said(self.actions.skip())

    def action_mute(self) -> None:
        self._said(self.actions.toggle_mute())

    def action_pause(self) -> None:
        self._said(self.actions.toggle_pause())

    def action_approve(self) -> None:
        self._said(self.actions.approve(self._selected()))

    def action_reject(self) -> None:
        self._said(self.actions.reject(self._selected()))

    def action_approval(self) -> None:
        self._said(self.actions.toggle_approval())

    def action_clear(self) -> None:
        self._said(self.actions.clear())

    async def action_vfx(self) -> None:
        self._said(await self.actions.play_vfx())

    def _selected(self) -> int | None:
        """The queue row under the cursor when the queue has the focus, else None (first held)."""
        table = self.query_one("#queue", DataTable)
        if not table.has_focus or table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:  # noqa: BLE001 - no such row: act on the first held one
            return None
        return int(key.value) if key.value is not None else None

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        event.input.value = ""
        if not text:
            return
        if text in ("/quit", "/exit"):
            self.exit()
            return
        if self.on_line is not None:
            shown = await self.on_line(text)
            if shown:
                self._said(shown)


def _new_rows(rows, total: int, seen: int) -> tuple[list, int]:
    """Rows added since ``seen`` (of ``total`` ever added; the deque keeps the newest)."""
    fresh = min(total - seen, len(rows))
    return (list(rows)[len(rows) - fresh:] if fresh > 0 else []), total


def _short(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 0.01:
        return f"{seconds * 1000:.2f} ms"  # the input gate takes tens of microseconds
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def _bar(fraction: float, width: int) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return f"[magenta]{'█' * filled}[/][grey35]{'░' * (width - filled)}[/]"


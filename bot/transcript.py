"""A readable transcript of who said what, on the terminal and in a Markdown file."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape

from bot.speech.segment import SpeechSegment, Utterance, UtteranceStats


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v * 1000:.0f} ms"


class TranscriptSink:
    def __init__(self, console: Console, persona: str, path: Path | None = None,
                 *, echo_viewer: bool = True):
        self.console = console
        self.echo_viewer = echo_viewer  # off when the viewer just typed the line themselves
        self.persona = persona
        self.path = path
        self._last_caption: dict[str, tuple[int, str]] = {}
        self._lines: list[str] = []

    async def start(self, utterance: Utterance) -> None:
        if utterance.viewer:
            if self.echo_viewer:
                self.console.print(f"[bold cyan]{escape(utterance.viewer)}[/]: {escape(utterance.prompt)}")
            self._lines.append(f"**{utterance.viewer}**: {utterance.prompt}  ")

    async def segment(self, segment: SpeechSegment) -> None:
        key = (segment.index, segment.caption)
        last = self._last_caption.get(segment.utterance_id)
        if last is not None and last[1] == segment.caption:
            return  # one piece spoken as several audio chunks
        self._last_caption[segment.utterance_id] = key
        self.console.print(f"  [bold magenta]{escape(self.persona)}[/] ▸ {escape(segment.caption)}")

    async def finish(self, utterance: Utterance, stats: UtteranceStats) -> None:
        self._last_caption.pop(utterance.id, None)
        timing = (f"first token {_ms(stats.first_token_s)} · first audio {_ms(stats.first_audio_s)} · "
                  f"{stats.audio_s:.1f} s of speech")
        if stats.error:
            self.console.print(f"  [bold red]✗ {escape(stats.error)}[/]")
        self.console.print(f"  [dim]{timing}[/]")
        reply = stats.text or f"_(no answer: {stats.error})_"
        self._lines.append(f"**{self.persona}**: {reply}  ")
        self._lines.append(f"<sub>{timing}</sub>\n")
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text("# vtbot transcript\n\n" + "\n".join(self._lines) + "\n", encoding="utf-8")

    async def close(self) -> None:
        return None

"""`vtbot kb`: manage the knowledge base from the terminal (add, search, rebuild, status)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from bot.config import LoadedConfig

kb_app = typer.Typer(help="The knowledge base: the lore your avatar can look up.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)

SAMPLE = typer.Option("--sample", help="Use the shipped sample lore (Mochi's, as in the demo) with its own index.")


def _open(ctx: typer.Context, sample: bool):
    from bot.cli import _load
    from bot.knowledge.base import KnowledgeBase
    from bot.knowledge.encoder import EncoderUnavailable, SentenceEncoder
    from bot.mind import index_path, lore_folder

    loaded: LoadedConfig = _load(ctx)
    k = loaded.config.knowledge
    folder = lore_folder(loaded, demo=sample) if sample and k.folder is None else k.folder
    if folder is None:
        where = loaded.files[-1] if len(loaded.files) > 1 else "your config (vtbot.yaml)"
        err_console.print(f"[bold red]error:[/] knowledge.folder is not set in {where}: name a folder of "
                          "Markdown/text files there (or use --sample for the shipped sample lore)")
        raise typer.Exit(2)
    index = index_path(loaded)
    try:
        encoder = SentenceEncoder(k.model)
    except EncoderUnavailable as e:
        err_console.print(f"[bold red]error:[/] knowledge.model: {e}")
        raise typer.Exit(1) from None
    return loaded, KnowledgeBase(Path(folder), index, encoder, max_chunk_tokens=k.chunk_tokens)


def _fail(e: Exception) -> None:
    err_console.print(f"[bold red]error:[/] {escape(str(e))}")
    raise typer.Exit(1)


def _report(report) -> None:
    console.print(f"[green]✓[/] {report.summary()}")
    for name, items in (("added", report.added), ("updated", report.updated), ("removed", report.removed)):
        for item in items:
            console.print(f"  {name}: {escape(item)}")
    for err in report.errors:
        err_console.print(f"  [yellow]skipped:[/] {escape(err)}")


@contextmanager
def _kb(ctx: typer.Context, sample: bool):
    """The opened knowledge base; a problem with it ends the command with its message."""
    from bot.knowledge.base import KnowledgeError

    loaded, kb = _open(ctx, sample)
    try:
        yield loaded, kb
    except KnowledgeError as e:
        _fail(e)
    finally:
        kb.close()


@kb_app.command("add")
def add(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Markdown or text files to copy into knowledge.folder.")],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace files of the same name.")] = False,
) -> None:
    """Copy FILES into the knowledge folder and index them (only what changed is embedded)."""
    with _kb(ctx, False) as (_, kb):
        copied, report = kb.add(files, overwrite=overwrite)
    for path in copied:
        console.print(f"copied {escape(str(path))}")
    _report(report)


@kb_app.command("search")
def search(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="What a viewer might ask.")],
    k: Annotated[Optional[int], typer.Option("-k", help="How many passages (default: knowledge.top_k).")] = None,
    sample: Annotated[bool, SAMPLE] = False,
) -> None:
    """Show the passages a question finds, with their scores; those under knowledge.min_score
    are not given to the model."""
    from bot.knowledge.context import clean_query

    with _kb(ctx, sample) as (loaded, kb):
        cfg = loaded.config
        report = kb.sync()
        hits = kb.search(clean_query(question, [cfg.persona.name, *cfg.chat.names]), k or cfg.knowledge.top_k)
    if report.changed:
        _report(report)
    if not hits:
        console.print("no passages (is the folder empty?)")
    for h in hits:
        used = h.score >= cfg.knowledge.min_score
        mark = "[green]quoted[/]" if used else f"[dim]below min_score {cfg.knowledge.min_score:g}[/]"
        console.print(f"[bold]{h.score:.3f}[/] {escape(h.path)} › {escape(h.heading)}  {mark}")
        console.print(f"   {escape(h.text)}", highlight=False)


@kb_app.command("rebuild")
def rebuild(ctx: typer.Context, sample: Annotated[bool, SAMPLE] = False) -> None:
    """Embed every file again (after changing knowledge.model or chunk_tokens this happens by itself)."""
    with _kb(ctx, sample) as (_, kb):
        report = kb.sync(rebuild=True)
    _report(report)


@kb_app.command("status")
def status(ctx: typer.Context, sample: Annotated[bool, SAMPLE] = False) -> None:
    """What is indexed: files, passages, the index file and the model."""
    with _kb(ctx, sample) as (_, kb):
        report = kb.sync()
        files = kb.files()
    if report.changed:
        _report(report)
    console.print(f"folder: {escape(str(kb.folder))} ({len(files)} files, {kb.size} passages)")
    console.print(f"index:  {escape(str(kb.db_path))}")
    console.print(f"model:  {escape(str(kb.encoder.model_dir))}")

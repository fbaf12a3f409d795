"""``keytrail load``: read CloudTrail records from files into the store under an incident name."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from keytrail.cli.output import print_json
from keytrail.cli.settings import open_store, settings_of
from keytrail.graph.writer import DEFAULT_BATCH_SIZE
from keytrail.ingest import Ingest, LoadSummary
from keytrail.loaders.files import FileSource
from keytrail.loaders.records import LoaderItem


class _Progress:
    """Files, records and records/s on standard error while a load runs."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task
        self._began = time.perf_counter()
        self._shown = 0.0

    def __call__(self, summary: LoadSummary, item: LoaderItem) -> None:
        now = time.perf_counter()
        if now - self._shown < 0.1:
            return
        self._shown = now
        rate = summary.read / max(now - self._began, 1e-6)
        self._progress.update(self._task, completed=max(summary.origins - 1, 0), description=f"{summary.read:,} records, {rate:,.0f} records/s")


def load(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or directories (walked recursively).", exists=True)],
    incident: Annotated[str, typer.Option("--incident", "-i", help="Name the events are loaded under.")] = "default",
    batch_size: Annotated[int, typer.Option(help="Events per write transaction.", min=1)] = DEFAULT_BATCH_SIZE,
    rejects: Annotated[Path | None, typer.Option(help="Where to keep rejected records (JSON lines). Default: ./keytrail-rejects-<run>.jsonl")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Load CloudTrail records: S3 log files (.json, .json.gz), JSON lines, lookup-events output,
    EventBridge events, arrays or single records. Exits 1 if anything was rejected."""
    settings = settings_of(ctx)
    source = FileSource(paths)
    total = sum(1 for _ in source.files())
    err = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("files"), TimeElapsedColumn())
    with open_store(settings) as backend, Progress(*columns, console=err, transient=True, disable=as_json) as progress:
        task = progress.add_task("starting", total=total)
        ingest = Ingest(backend, incident, batch_size=batch_size, rejects_path=rejects, progress=_Progress(progress, task))
        summary = ingest.run(source, [str(p) for p in paths])
    report(summary, as_json=as_json)
    if not summary.ok:
        raise typer.Exit(1)


def report(summary: LoadSummary, *, as_json: bool) -> None:
    """Print what a load did: the accounting line, and where rejected records went."""
    if as_json:
        print_json(summary.as_dict())
        return
    console = Console()
    console.print(f"Loaded [bold]{summary.loaded:,}[/bold] events into incident [bold]{summary.incident}[/bold] ({summary.store}) in {summary.seconds:.1f} s.")
    console.print(
        f"Read {summary.read:,} records = {summary.loaded:,} loaded + {summary.duplicates:,} duplicates "
        f"+ {summary.rejected:,} rejected; {summary.origins:,} files, {summary.skipped_origins:,} skipped "
        f"(digests, empty), {summary.rejected_origins:,} unreadable."
    )
    if summary.problems:
        err = Console(stderr=True)
        for problem in summary.problems[:20]:
            err.print(f"[red]rejected[/red] {problem}", highlight=False)
        if len(summary.problems) > 20:
            err.print(f"... and more: see {summary.rejects_path}")
        err.print(f"Rejected records are kept in {summary.rejects_path}")

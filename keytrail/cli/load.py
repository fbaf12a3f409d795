"""``keytrail load``: read CloudTrail records into the store under an incident name.

Targets are local files and directories, a trail's bucket (``s3://BUCKET[/PREFIX]``),
an Athena table (``athena://DATABASE.TABLE``) or the ``lookup-events`` API: any kind in
:data:`keytrail.loaders.sources.KINDS`. Every target feeds the same load, so
de-duplication, rejects and the summary are the same whatever the records came from.
This module knows sources only through :class:`~keytrail.loaders.base.Source`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from keytrail.cli import exits
from keytrail.cli.follow import FollowFilters, derive_filters
from keytrail.cli.interrupts import exit_status
from keytrail.cli.output import print_json
from keytrail.cli.settings import open_store, settings_of
from keytrail.graph.backends import Backend
from keytrail.graph.bulk import BulkError, BulkLoad, describe, open_bulk
from keytrail.graph.keys import KEY_BYTES
from keytrail.graph.writer import DEFAULT_BATCH_SIZE
from keytrail.ingest import PARALLEL_FROM, Ingest, LoadSummary, ObjectManifest, default_rejects, new_run_id
from keytrail.loaders.base import DEFAULT_MARGIN_DAYS, DEFAULT_MAX_ATTEMPTS, Source, SourceError, SourceOptions, TimeWindow, parse_time
from keytrail.loaders.records import LoaderItem
from keytrail.loaders.sources import KEY_RE, KINDS, check_targets, kind_of, open_source
from keytrail.prepare import WorkerFailed, default_processes
from keytrail.report.literal import literal_console, visible

_CLOUD = f"Cloud sources ({', '.join(kind.scheme for kind in KINDS if kind.scheme)})"
_ATHENA = "Athena"
_USAGES = [kind.usage for kind in KINDS]
_TARGETS = f"{', '.join(_USAGES[:-1])}, or {_USAGES[-1]}." if len(_USAGES) > 1 else f"{_USAGES[0]}."


class _Progress:
    """The line on standard error while a load runs.

    Files (or S3 objects) read of all, the records read and per second, the events written
    (the load's ``loaded``, a batch behind the reading), what each source adds (MB downloaded,
    the Athena query's state), and once every source can tell how many files it reads, the
    time left at the pace so far. Rich's own column shows the time elapsed.
    """

    def __init__(self, progress: Progress, sources: Sequence[Source], *, clock: Callable[[], float] = time.perf_counter) -> None:
        self._progress = progress
        self._sources = sources
        self._clock = clock
        self._began = clock()
        self._shown: float | None = None
        self._summary: LoadSummary | None = None
        self._task = progress.add_task("starting", total=None)
        self.refresh()

    def refresh(self) -> None:
        """Redraw the line, at most ten times a second."""
        now = self._clock()
        if self._shown is not None and now - self._shown < 0.1:
            return
        self._shown = now
        totals = [source.total_files() for source in self._sources]
        total = None if None in totals else sum(t for t in totals if t is not None)
        done = sum(source.progress.files_done for source in self._sources)
        self._progress.update(self._task, total=total or None, completed=done, description=self.line(now - self._began, done, total))

    def line(self, elapsed: float, done: int, total: int | None) -> str:
        """The text of the line, ``elapsed`` seconds into the load with ``done`` files of ``total`` read."""
        summary = self._summary
        read, loaded = (summary.read, summary.loaded) if summary else (0, 0)
        words = [f"{done:,}/{total:,} files"] if total is not None else [f"{done:,} files"] if done else []
        words += [f"{read:,} records", f"{read / max(elapsed, 1e-6):,.0f} records/s", f"{loaded:,} events written"]
        words += [said for said in (source.progress.words() for source in self._sources) if said]
        if total is not None and 0 < done <= total:
            # At the pace so far, in files: the one measure every source with a total gives.
            words.append(f"ETA {timedelta(seconds=round(elapsed * (total - done) / done))}")
        return ", ".join(words)

    def __call__(self, summary: LoadSummary, item: LoaderItem) -> None:
        self._summary = summary
        self.refresh()


def _incident_name(value: str) -> str:
    """An incident's name is the key of its node, and a store cannot index a long one (keytrail/graph/keys.py)."""
    if len(value) * 4 > KEY_BYTES and (size := len(value.encode("utf-8", "surrogatepass"))) > KEY_BYTES:
        raise typer.BadParameter(f"an incident's name is at most {KEY_BYTES:,} bytes in UTF-8, this one is {size:,}")
    return value


def load(
    ctx: typer.Context,
    targets: Annotated[
        list[str],
        typer.Argument(
            help=_TARGETS,
            metavar="TARGET...",
        ),
    ],
    incident: Annotated[str, typer.Option("--incident", "-i", help="Name the events are loaded under.", callback=_incident_name)] = "default",
    batch_size: Annotated[int, typer.Option(help="Events per write transaction.", min=1)] = DEFAULT_BATCH_SIZE,
    processes: Annotated[
        int | None,
        typer.Option(
            help=(
                f"Worker processes that check records and make their rows, once {PARALLEL_FROM:,} records were read "
                "(0: none, all in this process). Default: one per core with --bulk, none without (they gain an online load nothing)."
            ),
            min=0,
        ),
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(help="Where to keep rejected records (JSON lines, owner-only). Default: <home>/rejects/keytrail-rejects-<run>.jsonl"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    start: Annotated[
        str | None, typer.Option(help="Only records at or after this time (ISO 8601; UTC unless an offset is given).", rich_help_panel=_CLOUD)
    ] = None,
    end: Annotated[str | None, typer.Option(help="Only records at or before this time; a date alone means its last second.", rich_help_panel=_CLOUD)] = None,
    account: Annotated[
        list[str] | None, typer.Option("--account", help="Account id to read (repeat for several). Default: all.", rich_help_panel=_CLOUD)
    ] = None,
    region: Annotated[
        list[str] | None,
        typer.Option("--region", help="Region to read (repeat). Default: all (S3, Athena), the session's region (lookup-events).", rich_help_panel=_CLOUD),
    ] = None,
    org_id: Annotated[
        str | None, typer.Option("--org-id", help="Organisation id of an organisation trail (S3). Default: found by listing.", rich_help_panel=_CLOUD)
    ] = None,
    profile: Annotated[
        str | None, typer.Option(help="AWS profile. Default: the standard chain (AWS_PROFILE, environment, instance role).", rich_help_panel=_CLOUD)
    ] = None,
    key: Annotated[
        list[str] | None, typer.Option("--key", help="Only events made with this access key id (Athena, lookup-events; repeat).", rich_help_panel=_CLOUD)
    ] = None,
    principal: Annotated[
        list[str] | None,
        typer.Option(
            "--principal",
            help="Only events made by this principal ARN, or by sessions of this role (Athena; repeat). With --key: made by a key or a principal.",
            rich_help_panel=_ATHENA,
        ),
    ] = None,
    follow: Annotated[
        str | None,
        typer.Option(
            "--follow",
            metavar="KEY",
            help="Second pass: add --key/--principal filters for what KEY's blast radius reaches in the store (Athena; docs/cloud-sources.md).",
            rich_help_panel=_ATHENA,
        ),
    ] = None,
    workers: Annotated[int, typer.Option(help="Concurrent S3 downloads.", min=1, rich_help_panel=_CLOUD)] = 8,
    margin_days: Annotated[
        float,
        typer.Option(help="How long after --end records may still be delivered, in days (0.25 = 6 h); read too (S3, Athena).", min=0, rich_help_panel=_CLOUD),
    ] = DEFAULT_MARGIN_DAYS,
    max_attempts: Annotated[
        int, typer.Option(help="Attempts per AWS call before throttling is an error.", min=1, rich_help_panel=_CLOUD)
    ] = DEFAULT_MAX_ATTEMPTS,
    event_name: Annotated[list[str] | None, typer.Option("--event-name", help="Only events of this name (repeat).", rich_help_panel=_ATHENA)] = None,
    workgroup: Annotated[str | None, typer.Option(help="Athena workgroup.", rich_help_panel=_ATHENA)] = None,
    output: Annotated[str | None, typer.Option(help="Athena query result location (s3://…), unless the workgroup sets one.", rich_help_panel=_ATHENA)] = None,
    all_time: Annotated[
        bool, typer.Option("--all", help="Allow an Athena query without --start (scans, and bills, the whole table).", rich_help_panel=_ATHENA)
    ] = False,
    date_partition: Annotated[
        str | None, typer.Option(help="The table's date partition column. Default: found from the table.", rich_help_panel=_ATHENA)
    ] = None,
    date_format: Annotated[str | None, typer.Option(help="Its format, e.g. yyyy/MM/dd. Default: the projection's format.", rich_help_panel=_ATHENA)] = None,
    region_partition: Annotated[
        str | None, typer.Option(help="The table's region partition column. Default: found from the table.", rich_help_panel=_ATHENA)
    ] = None,
    account_partition: Annotated[
        str | None, typer.Option(help="The table's account partition column. Default: found from the table.", rich_help_panel=_ATHENA)
    ] = None,
    bulk: Annotated[
        bool,
        typer.Option(
            "--bulk",
            help="Into an empty local Neo4j (scripts/neo4j-local): write CSV files, stop the server, import them with neo4j-admin, start it. "
            "Refused unless the store is empty.",
        ),
    ] = False,
) -> None:
    """Load CloudTrail records: S3 log files (.json, .json.gz), JSON lines, lookup-events output,
    EventBridge events, arrays or single records, from disk, from a trail's bucket, from Athena or
    from the LookupEvents API. Exits 1 if anything was rejected, 4 if a cloud source cannot be read."""
    settings = settings_of(ctx)
    try:
        window = TimeWindow(parse_time(start) if start else None, parse_time(end, end=True) if end else None)
        options = SourceOptions(
            window=window,
            accounts=tuple(account or ()),
            regions=tuple(region or ()),
            org_id=org_id,
            profile=profile,
            keys=tuple(key or ()),
            principals=tuple(principal or ()),
            event_names=tuple(event_name or ()),
            workgroup=workgroup,
            output=output,
            all_time=all_time,
            workers=workers,
            margin_days=margin_days,
            date_partition=date_partition,
            date_format=date_format,
            region_partition=region_partition,
            account_partition=account_partition,
            max_attempts=max_attempts,
        )
        check_targets(targets, options)
        if follow is not None:
            check_follow(follow, targets)
    except SourceError as exc:
        raise typer.BadParameter(str(exc)) from exc

    err = literal_console(stderr=True)
    # File names come from the evidence: shown as they are, never read as markup.
    columns = (TextColumn("{task.description}", markup=False), BarColumn(), TimeElapsedColumn())
    stop = _StopRelay()
    with open_store(settings, on_signal=stop.request) as backend, Progress(*columns, console=err, transient=True, disable=as_json) as progress:
        run_id = new_run_id()
        try:
            bulk_load = open_bulk(backend, settings.neo4j, run_id) if bulk else None
        except BulkError as exc:
            _refuse(err, exc)
        # A bulk load reads into its files; the store is touched only by the import, at the end.
        store = bulk_load.store if bulk_load else backend
        manifest = ObjectManifest(store, incident, run_id)
        followed = None
        if follow is not None:
            followed, options = follow_options(backend, follow, incident, options, targets)
            for line in [] if as_json else followed.lines():
                err.print(Text(visible(line)))
        try:
            sources = [open_source(target, options, manifest=manifest) for target in targets]
        except SourceError as exc:
            _fail(err, exc)
        for warning in (w for s in sources for w in s.warnings):
            err.print(Text.assemble(("warning", "yellow"), " ", visible(str(warning))))
        # With --json nothing is shown: no walk to count files, no redraw per record.
        shown = None if as_json else _Progress(progress, sources)
        for source in sources:
            source.on_progress = shown.refresh if shown else None
        rejects_path = rejects or default_rejects(run_id, settings.home)
        ingest = Ingest(
            store,
            incident,
            batch_size=batch_size,
            rejects_path=rejects_path,
            progress=shown,
            run_id=run_id,
            on_origins_loaded=_tell(sources),
            processes=default_processes(bulk=bulk) if processes is None else processes,
        )
        stop.attach(ingest)
        try:
            summary = _run_bulk(bulk_load, ingest, sources, targets, err) if bulk_load else ingest.run(_chain(sources), list(targets))
        except SourceError as exc:
            _fail(err, exc)
        except WorkerFailed as exc:
            # What was stored before stays, whole (each batch is one unit); a later load counts it as duplicates.
            err.print(Text.assemble(("error:", "red"), " ", visible(str(exc))), soft_wrap=True)
            raise typer.Exit(exits.NOT_ALL) from exc
    if bulk_load and summary.stopped_by is not None:
        err.print(Text(f"stopped by {summary.stopped_by} before the import: nothing was stored, the store is as it was; run the load again"))
        raise typer.Exit(exit_status(summary.stopped_by))
    report(summary, as_json=as_json, sources=sources, followed=followed)
    if bulk_load and not as_json:
        for line in describe(bulk_load.times, summary.loaded):
            err.print(Text(f"bulk: {line}"))
    if summary.stopped_by is not None:
        err.print(
            Text(
                f"stopped by {summary.stopped_by}: the {summary.read:,} records read so far are stored and saved; "
                "run the same load again to read the rest (what is stored already counts as duplicates)"
            )
        )
        raise typer.Exit(exit_status(summary.stopped_by))
    if stop.reason is not None:
        # The signal came after the last record was read: nothing was cut short, but it was asked for.
        err.print(Text(f"{stop.reason} arrived after every record was read: the load is complete and saved"))
        raise typer.Exit(exit_status(stop.reason))
    if not summary.ok:
        raise typer.Exit(exits.NOT_ALL)


class _StopRelay:
    """Passes the first stop signal to the load, even one that arrives before the load exists."""

    def __init__(self) -> None:
        self._ingest: Ingest | None = None
        self.reason: str | None = None

    def request(self, reason: str) -> None:
        self.reason = reason
        if self._ingest is not None:
            self._ingest.request_stop(reason)

    def attach(self, ingest: Ingest) -> None:
        self._ingest = ingest
        if self.reason is not None:
            ingest.request_stop(self.reason)


def _fail(err: Console, exc: SourceError) -> NoReturn:
    err.print(Text.assemble(("error:", "red"), " ", visible(str(exc))))
    raise typer.Exit(exits.SOURCE) from exc


def _refuse(err: Console, exc: BulkError) -> NoReturn:
    """A bulk load that cannot be, or whose import failed: one line (never wrapped), exit 1."""
    err.print(Text.assemble(("error:", "red"), " ", visible(str(exc))), soft_wrap=True)
    raise typer.Exit(exits.NOT_ALL) from exc


def _run_bulk(bulk_load: BulkLoad, ingest: Ingest, sources: Sequence[Source], targets: Sequence[str], err: Console) -> LoadSummary:
    """``load --bulk``: read into CSV files, import them, finish online; a failure of the import is one line and exit 1."""
    try:
        return bulk_load.load(ingest, _chain(sources), list(targets))
    except BulkError as exc:
        _refuse(err, exc)


def _chain(sources: Sequence[Source]) -> Iterator[LoaderItem]:
    for source in sources:
        yield from source


def _tell(sources: Sequence[Source]) -> Callable[[list[str]], None]:
    """The load's 'origins stored' notice, passed to every source (those without a manifest ignore it)."""
    listeners = [s.origins_loaded for s in sources]

    def told(origins: list[str]) -> None:
        for listener in listeners:
            listener(origins)

    return told


def check_follow(key: str, targets: Sequence[str]) -> None:
    """Refuse ``--follow`` for anything but Athena targets, and a value that is not a key id.

    Raises:
        SourceError: naming what is wrong.
    """
    if not KEY_RE.match(key):
        raise SourceError(f"--follow {key!r} is not an access key id (AKIA… or ASIA…, upper-case letters and digits)")
    others = [target for target in targets if kind_of(target).name != "athena"]
    if others:
        raise SourceError(f"--follow applies to athena targets only (its filters are --key and --principal of the Athena query), not to {others[0]}")


def follow_options(backend: Backend, key: str, incident: str, options: SourceOptions, targets: Sequence[str]) -> tuple[FollowFilters, SourceOptions]:
    """The filters ``--follow KEY`` derives from the store, added to the ``--key``/``--principal`` given; exits 2 when KEY is not there."""
    followed = derive_filters(backend, key, incident)
    if not followed.seen:
        raise typer.BadParameter(
            f"--follow {key}: the key signed no event of incident {incident!r} in the store; load its slice first (load athena://… --key {key} -i {incident})"
        )
    keys = tuple(dict.fromkeys((*options.keys, *followed.key_ids)))
    principals = tuple(dict.fromkeys((*options.principals, *followed.principal_arns)))
    options = replace(options, keys=keys, principals=principals)
    try:
        check_targets(targets, options)
    except SourceError as exc:
        raise typer.BadParameter(str(exc)) from exc
    return followed, options


def report(summary: LoadSummary, *, as_json: bool, sources: Sequence[Source] = (), followed: FollowFilters | None = None) -> None:
    """Print what a load did: the accounting line, what each source adds (files say nothing more), and where rejected records went."""
    if as_json:
        data = summary.as_dict()
        described = [d for d in (source.as_dict() for source in sources) if d is not None]
        if described:
            data["sources"] = described
        if followed is not None:
            data["follow"] = followed.as_dict()
        print_json(data)
        return
    console = literal_console()
    console.print(
        Text.assemble(
            "Loaded ",
            (f"{summary.loaded:,}", "bold"),
            " events into incident ",
            (visible(summary.incident), "bold"),
            f" ({summary.store}) in {summary.seconds:.1f} s.",
        )
    )
    console.print(
        f"Read {summary.read:,} records = {summary.loaded:,} loaded + {summary.duplicates:,} duplicates "
        f"+ {summary.rejected:,} rejected{f' ({summary.conflicts:,} conflicting duplicates)' if summary.conflicts else ''}; "
        f"{summary.origins:,} files, {summary.skipped_origins:,} skipped"
        f"{' (why: on stderr)' if summary.skipped else ''}, {summary.rejected_origins:,} unreadable."
    )
    if summary.skipped:
        err = literal_console(stderr=True)
        for skipped in summary.skipped[:20]:
            err.print(Text.assemble(("skipped", "yellow"), " ", visible(skipped)))
        if summary.skipped_origins > 20:
            err.print(Text(f"... and {summary.skipped_origins - 20:,} more skipped (load --json lists the first 50)"))
    for line in (source.summary() for source in sources):
        if line is not None:
            console.print(Text(visible(line)))
    if summary.problems:
        err = literal_console(stderr=True)
        for problem in summary.problems[:20]:
            err.print(Text.assemble(("rejected", "red"), " ", visible(problem)))
        if len(summary.problems) > 20:
            err.print(Text(f"... and more: see {visible(str(summary.rejects_path))}"))
        err.print(Text(f"Rejected records are kept in {visible(str(summary.rejects_path))}"))

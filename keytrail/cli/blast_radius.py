"""``keytrail blast-radius KEY``: everything that follows from a leaked key."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import orjson
import typer

from keytrail.cli import exits
from keytrail.cli.browser import browser_url
from keytrail.cli.output import print_json
from keytrail.cli.settings import Settings, open_store, require_incident, settings_of
from keytrail.loaders.sources import KEY_RE
from keytrail.report.blast_radius import build_blast_radius
from keytrail.report.browser import UnsafeValue, investigation_links
from keytrail.report.evidence import EvidenceError, write_evidence
from keytrail.report.exports import navigator_layer, timeline_csv, timeline_rows
from keytrail.report.geoip import GeoIP, GeoIPError
from keytrail.report.html import html_report
from keytrail.report.indicators import AwsRanges, RangesError, load_aws_ranges
from keytrail.report.literal import visible
from keytrail.report.model import BlastRadius
from keytrail.report.render import blast_radius_header, blast_radius_sections, markdown, print_sections, report_console


def blast_radius(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The access key id (AKIA… or ASIA…).")],
    incident: Annotated[str | None, typer.Option("--incident", "-i", help="Only events loaded under this incident.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (fields in docs/blast-radius.md).")] = False,
    as_markdown: Annotated[bool, typer.Option("--markdown", help="Print the report as Markdown.")] = False,
    timeline: Annotated[bool, typer.Option("--timeline/--no-timeline", help="Include the timeline in the terminal and Markdown reports.")] = True,
    all_findings: Annotated[bool, typer.Option("--all", help="List the discovery findings too (counted, not listed, by default).")] = False,
    html_file: Annotated[
        Path | None, typer.Option("--html", help="Also write the report as one self-contained HTML page, with the lineage drawn as a graph.", metavar="FILE")
    ] = None,
    timeline_csv_file: Annotated[
        Path | None,
        typer.Option("--timeline-csv", help="Also write the timeline as CSV for Timesketch (message, datetime, timestamp_desc).", metavar="FILE"),
    ] = None,
    timeline_jsonl_file: Annotated[
        Path | None, typer.Option("--timeline-jsonl", help="Also write the timeline as JSON lines for Timesketch.", metavar="FILE")
    ] = None,
    navigator_file: Annotated[
        Path | None, typer.Option("--navigator", help="Also write an ATT&CK Navigator layer of the techniques seen, scored by count.", metavar="FILE")
    ] = None,
    evidence_dir: Annotated[
        Path | None,
        typer.Option("--evidence", help="Also write the raw records of every event, with their sources' SHA-256, to a new folder.", metavar="DIR"),
    ] = None,
    geoip_files: Annotated[
        list[Path] | None,
        typer.Option("--geoip", help="A MaxMind database (country, city or ASN; repeatable): each address's country and ASN.", metavar="FILE"),
    ] = None,
    browser_links: Annotated[bool, typer.Option("--browser", help="After the report, a link per section that opens Neo4j Browser with its query.")] = False,
    aws_ranges_file: Annotated[
        Path | None,
        typer.Option("--aws-ip-ranges", help="AWS's ip-ranges.json (you download it): name the AWS service and region of an address.", metavar="FILE"),
    ] = None,
) -> None:
    """Follow a key through the evidence: derived credentials, upstream, findings, sleepers, what is still alive,
    pivots, indicators, containment and the timeline. Exits 1 if the key is not in the store or the incident does not exist."""
    if as_json and as_markdown:
        raise typer.BadParameter("choose one of --json and --markdown")
    ranges = _ranges(aws_ranges_file)
    try:
        geoip = GeoIP(geoip_files) if geoip_files else None
    except GeoIPError as exc:
        typer.echo(f"error: {visible(str(exc))}", err=True)
        raise typer.Exit(exits.USAGE) from None
    settings = settings_of(ctx)
    with open_store(settings) as backend:
        require_incident(backend, incident)
        try:
            report = build_blast_radius(backend, key.strip(), incident, aws_ranges=ranges, geoip=geoip)
        finally:
            if geoip is not None:
                geoip.close()
        if evidence_dir is not None and report.found:
            try:
                write_evidence(backend, report, evidence_dir, settings.store_description)
            except EvidenceError as exc:
                typer.echo(f"error: {visible(str(exc))}", err=True)
                raise typer.Exit(exits.USAGE) from None
    if report.found:
        exports: list[tuple[Path | None, Callable[[], bytes]]] = [
            (html_file, lambda: html_report(report, sections=blast_radius_sections(report, all_findings=all_findings)).encode()),
            (timeline_csv_file, lambda: timeline_csv(report).encode()),
            (timeline_jsonl_file, lambda: b"".join(orjson.dumps(row) + b"\n" for row in timeline_rows(report))),
            (navigator_file, lambda: orjson.dumps(navigator_layer(report), option=orjson.OPT_INDENT_2) + b"\n"),
        ]
        for path, content in exports:
            if path is not None:
                _write_private(path, content())
    if as_json:
        print_json(report.to_json())
    elif as_markdown:
        sys.stdout.write(markdown(blast_radius_header(report), blast_radius_sections(report, timeline=timeline, all_findings=all_findings)))
    else:
        print_sections(report_console(), blast_radius_header(report), blast_radius_sections(report, timeline=timeline, all_findings=all_findings))
    if browser_links and report.found and not as_json:
        _print_links(settings, report, incident)
    if not report.found:
        raise typer.Exit(exits.NOT_ALL)


def _ranges(path: Path | None) -> AwsRanges | None:
    if path is None:
        return None
    try:
        return load_aws_ranges(path)
    except RangesError as exc:
        typer.echo(f"error: --aws-ip-ranges {visible(str(exc))}", err=True)
        raise typer.Exit(exits.USAGE) from None


def _write_private(path: Path, data: bytes) -> None:
    """An export holds evidence: written owner-only (a file that exists keeps its own mode and is replaced)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        typer.echo(f"error: cannot write {visible(str(path))}: {exc.strerror or exc}", err=True)
        raise typer.Exit(exits.USAGE) from None


def _print_links(settings: Settings, report: BlastRadius, incident: str | None) -> None:
    """A link per section: the key's, with the report's own credentials for the doors."""
    credentials = [{"id": c.id, "since": c.born_at or ""} for c in report.credentials if KEY_RE.match(c.id)]
    try:
        links = investigation_links(browser_url(settings, None), report.key, incident, credentials)
    except UnsafeValue as exc:
        typer.echo(f"no Browser links: {visible(str(exc))}", err=True)
        return
    sys.stdout.write("\nOpen in Neo4j Browser (keytrail browser writes its style and favourites):\n")
    for step, name, link in links:
        sys.stdout.write(f"- {step} ({name}): {link}\n")

"""``keytrail blast-radius KEY``: everything that follows from a leaked key."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from keytrail.cli import exits
from keytrail.cli.output import print_json
from keytrail.cli.settings import open_store, require_incident, settings_of
from keytrail.report.blast_radius import build_blast_radius
from keytrail.report.render import blast_radius_header, blast_radius_sections, markdown, print_sections, report_console


def blast_radius(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="The access key id (AKIA… or ASIA…).")],
    incident: Annotated[str | None, typer.Option("--incident", "-i", help="Only events loaded under this incident.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (fields in docs/blast-radius.md).")] = False,
    as_markdown: Annotated[bool, typer.Option("--markdown", help="Print the report as Markdown.")] = False,
    timeline: Annotated[bool, typer.Option("--timeline/--no-timeline", help="Include the timeline in the terminal and Markdown reports.")] = True,
) -> None:
    """Follow a key through the evidence: derived credentials, upstream, findings, sleepers, what is still alive,
    pivots, containment and the timeline. Exits 1 if the key is not in the store or the incident does not exist."""
    if as_json and as_markdown:
        raise typer.BadParameter("choose one of --json and --markdown")
    with open_store(settings_of(ctx)) as backend:
        require_incident(backend, incident)
        report = build_blast_radius(backend, key.strip(), incident)
    if as_json:
        print_json(report.to_json())
    elif as_markdown:
        sys.stdout.write(markdown(blast_radius_header(report), blast_radius_sections(report, timeline=timeline)))
    else:
        print_sections(report_console(), blast_radius_header(report), blast_radius_sections(report, timeline=timeline))
    if not report.found:
        raise typer.Exit(exits.NOT_ALL)

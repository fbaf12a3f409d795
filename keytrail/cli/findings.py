"""``keytrail findings``: suspicious events across the store, grouped by the credential that made them."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from keytrail.cli.output import print_json
from keytrail.cli.settings import open_store, require_incident, settings_of
from keytrail.report.attack import TACTIC_ORDER
from keytrail.report.findings import build_findings_report
from keytrail.report.model import LISTED_AT_MOST, to_json
from keytrail.report.render import findings_header, findings_sections, markdown, print_sections, report_console


def findings(
    ctx: typer.Context,
    incident: Annotated[str | None, typer.Option("--incident", "-i", help="Only events loaded under this incident.")] = None,
    category: Annotated[str | None, typer.Option("--category", "-c", help=f"Only findings with this ATT&CK tactic: {', '.join(TACTIC_ORDER)}.")] = None,
    credential: Annotated[
        str | None, typer.Option("--credential", help="Only the findings of this access key (or of this principal's calls made without a key); lists them.")
    ] = None,
    events: Annotated[bool, typer.Option("--events", help=f"List every finding, however many (by default only up to {LISTED_AT_MOST}).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: the counts per credential, and the findings when listed.")] = False,
    as_markdown: Annotated[bool, typer.Option("--markdown", help="Print the same sections as Markdown.")] = False,
) -> None:
    """Every event with an ATT&CK label, failed attempts included, counted per credential that made it:
    which keys to start a blast radius from. The findings themselves are listed when they are few, or with
    --credential or --events. Exits 1 if the incident does not exist."""
    if as_json and as_markdown:
        raise typer.BadParameter("choose one of --json and --markdown")
    if category is not None and category not in TACTIC_ORDER:
        raise typer.BadParameter(f"unknown tactic {category!r}; one of {', '.join(TACTIC_ORDER)}", param_hint="--category")
    with open_store(settings_of(ctx)) as backend:
        require_incident(backend, incident)
        report = build_findings_report(backend, incident, category, credential, events=events)
    if as_json:
        print_json(to_json(report))
        return
    if as_markdown:
        sys.stdout.write(markdown(findings_header(report), findings_sections(report)))
        return
    print_sections(report_console(), findings_header(report), findings_sections(report))

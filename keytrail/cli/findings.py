"""``keytrail findings``: suspicious events across the store, grouped by the credential that made them."""

from __future__ import annotations

from typing import Annotated

import typer

from keytrail.cli.output import print_json
from keytrail.cli.settings import open_store, require_incident, settings_of
from keytrail.report.attack import TACTIC_ORDER
from keytrail.report.findings import build_findings, group_by_credential
from keytrail.report.model import to_json
from keytrail.report.render import findings_sections, print_sections, report_console


def findings(
    ctx: typer.Context,
    incident: Annotated[str | None, typer.Option("--incident", "-i", help="Only events loaded under this incident.")] = None,
    category: Annotated[str | None, typer.Option("--category", "-c", help=f"Only findings with this ATT&CK tactic: {', '.join(TACTIC_ORDER)}.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of finding objects.")] = False,
) -> None:
    """Every event with an ATT&CK label, failed attempts included, grouped by the credential that made it:
    which keys to start a blast radius from. Exits 1 if the incident does not exist."""
    if category is not None and category not in TACTIC_ORDER:
        raise typer.BadParameter(f"unknown tactic {category!r}; one of {', '.join(TACTIC_ORDER)}", param_hint="--category")
    with open_store(settings_of(ctx)) as backend:
        require_incident(backend, incident)
        found = build_findings(backend, incident, category)
    if as_json:
        print_json(to_json(found))
        return
    scope = f"incident {incident}" if incident else "the whole store"
    header = [f"Findings in {scope}" + (f", tactic {category}" if category else ""), f"{len(found)} findings"]
    print_sections(report_console(), header, findings_sections(found, group_by_credential(found)))

"""``keytrail incidents``: the incidents of the store, one row each."""

from __future__ import annotations

from typing import Annotated

import typer

from keytrail.cli.output import print_json
from keytrail.cli.settings import open_store, settings_of
from keytrail.report.incidents import build_incidents
from keytrail.report.model import to_json
from keytrail.report.render import Cell, Section, print_sections, report_console

app = typer.Typer(name="incidents", help="The incidents of the store.")


@app.callback(invoke_without_command=True)
def incidents(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array, one object per incident.")] = False,
) -> None:
    """One row per incident: its events, first and last event, the accounts and regions they were recorded in,
    the access keys that signed them, the principals that made them, and its loads."""
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_of(ctx)
    with open_store(settings) as backend:
        found = build_incidents(backend)
    if as_json:
        print_json(to_json(found))
        return
    rows: list[tuple[Cell, ...]] = [
        (
            row.name,
            f"{row.events:,}",
            row.first_event or "",
            row.last_event or "",
            ", ".join(row.accounts),
            ", ".join(row.regions),
            f"{row.access_keys:,}",
            f"{row.principals:,}",
            f"{row.loads:,}",
        )
        for row in found
    ]
    columns = ("incident", "events", "first event", "last event", "accounts", "regions", "access keys", "principals", "loads")
    empty = "none: load records with keytrail load PATH --incident NAME"
    # Names, accounts and regions come from whoever loaded the evidence and from the logs: the sections show them literally.
    print_sections(report_console(), [f"Incidents in {settings.store_description}"], iter([Section("Incidents", columns, rows, empty=empty)]))

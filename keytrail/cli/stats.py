"""``keytrail stats``: what the store holds."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from keytrail.cli.output import print_json
from keytrail.cli.settings import open_store, settings_of
from keytrail.graph.runner import store_stats
from keytrail.report.literal import literal_console, visible


def stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Count events, nodes and relationships in the store, and say which store is in use."""
    settings = settings_of(ctx)
    with open_store(settings) as backend:
        data = store_stats(backend)
    data["location"] = settings.store_description
    if as_json:
        print_json(data)
        return
    console = literal_console()
    console.print(f"Store: {settings.store_description}")
    console.print(f"Events: {data['events']:,}   Nodes: {data['nodes']:,}   Relationships: {data['relationships']:,}")
    table = Table("incident", "events", "first event", "last event", "loads")
    for row in data["incidents"]:
        # Incident names are typed by whoever loaded the evidence: shown literally.
        table.add_row(Text(visible(str(row["incident"]))), f"{row['events']:,}", str(row["firstEvent"]), str(row["lastEvent"]), str(row["loads"]))
    if data["incidents"]:
        console.print(table)

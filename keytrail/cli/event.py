"""``keytrail event ID``: one stored event, and with ``--raw`` the record exactly as it was read."""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer

from keytrail.cli import exits
from keytrail.cli.output import print_json
from keytrail.cli.settings import open_store, settings_of
from keytrail.graph.runner import run_query


def event(
    ctx: typer.Context,
    event_id: Annotated[str, typer.Argument(help="The event's eventID.")],
    raw: Annotated[
        bool, typer.Option("--raw", help="Print only the record as it was read (JSON, session tokens redacted), for a ticket or a legal hold.")
    ] = False,
) -> None:
    """Where an event was read from, its fingerprint and incidents, and the record itself. Exits 1 if no such event is stored."""
    with open_store(settings_of(ctx)) as backend:
        rows = run_query(backend, "event-record", {"eventID": event_id})
    if not rows:
        typer.echo(f"error: no event {event_id!r} in the store", err=True)
        raise typer.Exit(exits.NOT_ALL)
    found = rows[0]
    if raw:
        if found["raw"] is None:
            typer.echo(f"error: event {event_id!r} was stored by a keytrail that did not keep the record; load its source again into a new store", err=True)
            raise typer.Exit(exits.NOT_ALL)
        # Exactly the kept text: no re-serialisation, nothing interpreted.
        sys.stdout.write(found["raw"] + "\n")
        return
    print_json({**{k: v for k, v in found.items() if k != "raw"}, "record": orjson.loads(found["raw"]) if found["raw"] else None})

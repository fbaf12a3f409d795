"""``keytrail reset``: remove keytrail's data from the store, nothing else."""

from __future__ import annotations

from typing import Annotated

import typer

from keytrail.cli import exits
from keytrail.cli.settings import open_store, settings_of
from keytrail.graph.runner import reset_store


def reset(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: delete every node keytrail wrote.")] = False,
) -> None:
    """Delete every node with one of keytrail's labels (events, keys, principals...); other data stays."""
    settings = settings_of(ctx)
    if not yes:
        typer.secho(f"refusing to reset {settings.store_description} without --yes", err=True, fg=typer.colors.RED)
        raise typer.Exit(exits.USAGE)
    with open_store(settings) as backend:
        deleted = reset_store(backend)
    typer.echo(f"Deleted {deleted:,} keytrail nodes from {settings.store_description}.")

"""The ``keytrail`` application: settings once in the callback, one module per command."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from keytrail import __version__
from keytrail.cli import blast_radius, browser, demo, event, exits, findings, incidents, load, queries, reset, stats, store
from keytrail.cli.settings import make_settings

app = typer.Typer(
    name="keytrail",
    help="Trace a leaked AWS access key through CloudTrail: what it did, what it created, what is still alive.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"keytrail {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    neo4j: Annotated[str | None, typer.Option("--neo4j", envvar="NEO4J_URI", help="Neo4j Bolt URI; without it keytrail uses its embedded store.")] = None,
    username: Annotated[str | None, typer.Option("--neo4j-user", envvar="NEO4J_USERNAME", help="Neo4j user.")] = None,
    password: Annotated[
        str | None, typer.Option("--neo4j-password", envvar="NEO4J_PASSWORD", help="Neo4j password (prefer the variable).", show_default=False)
    ] = None,
    database: Annotated[str, typer.Option("--neo4j-database", envvar="NEO4J_DATABASE", help="Neo4j database.")] = "neo4j",
    home: Annotated[Path | None, typer.Option("--home", envvar="KEYTRAIL_HOME", help="Folder of the embedded store.")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print keytrail's version and exit.")] = False,
) -> None:
    """Choose the store once for every command."""
    ctx.obj = make_settings(neo4j or None, username, password, database, home)


app.command("load")(load.load)
app.command("stats")(stats.stats)
app.command("queries")(queries.list_queries)
app.command("query")(queries.query)
app.command("reset")(reset.reset)
app.command("blast-radius")(blast_radius.blast_radius)
app.command("findings")(findings.findings)
app.command("event")(event.event)
app.command("demo")(demo.demo)
app.command("browser")(browser.browser)
app.add_typer(store.app, name="store")
app.add_typer(incidents.app, name="incidents")


def run() -> None:
    """The console script: the app, with a closed pipe on standard output a quiet :data:`~keytrail.cli.exits.BROKEN_PIPE`."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    try:
        app()
    except SystemExit:
        # Typer's click meets EPIPE by muting both streams (a PacifyFlushWrapper) and exiting 1, the status that
        # means "not found" here: the muted stream is how a closed pipe is told apart. Typer vendors its own
        # click, so the wrapper is known by its name (tests/integration/test_cli_conventions.py runs it).
        if type(sys.stdout).__name__ == "PacifyFlushWrapper":
            raise SystemExit(exits.BROKEN_PIPE) from None
        raise

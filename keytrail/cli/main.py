"""The ``keytrail`` application: settings once in the callback, one module per command."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from keytrail.cli import blast_radius, demo, event, findings, load, queries, reset, stats, store
from keytrail.cli.settings import make_settings

app = typer.Typer(
    name="keytrail",
    help="Trace a leaked AWS access key through CloudTrail: what it did, what it created, what is still alive.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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
app.add_typer(store.app, name="store")


def run() -> None:  # pragma: no cover - console script entry point
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()

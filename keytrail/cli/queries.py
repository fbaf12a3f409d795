"""``keytrail queries`` and ``keytrail query NAME``: the named Cypher queries."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from keytrail.cli import exits
from keytrail.cli.output import print_json, print_rows
from keytrail.cli.settings import open_store, require_incident, settings_of
from keytrail.graph.queries import QueryParameterError, UnknownQueryError, analysis_queries, get_query
from keytrail.graph.runner import run_query
from keytrail.report.literal import literal_console


def list_queries(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List the named queries with their purpose, parameters and columns."""
    found = analysis_queries()
    if as_json:
        print_json([{"name": q.name, "purpose": q.purpose, "parameters": {p.name: p.description for p in q.params}, "returns": list(q.returns)} for q in found])
        return
    table = Table("name", "purpose", "parameters", "returns", show_lines=True)
    for q in found:
        params = "\n".join(f"${p.name}: {p.description}" for p in q.params) or "-"
        table.add_row(q.name, q.purpose, params, ", ".join(q.returns))
    literal_console().print(table)


def parse_params(values: list[str]) -> dict[str, Any]:
    """``name=text`` gives a string; ``name:=json`` gives any JSON value (numbers, lists)."""
    params: dict[str, Any] = {}
    for value in values:
        if ":=" in value and value.index(":=") < value.index("=") + 1:
            name, raw = value.split(":=", 1)
            try:
                params[name] = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise typer.BadParameter(f"{name}: not JSON: {raw!r}") from exc
        elif "=" in value:
            name, text = value.split("=", 1)
            params[name] = text
        else:
            raise typer.BadParameter(f"expected name=value, got {value!r}")
    return params


def query(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A query name from `keytrail queries`.")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="name=value (string) or name:=JSON; repeatable.")] = None,
    incident: Annotated[
        str | None, typer.Option("--incident", "-i", help="Only events loaded under this incident (for a query with an $incident parameter).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of row objects.")] = False,
) -> None:
    """Run a named query and print its rows. A query's $incident is --incident (the whole store without it).
    Exits 1 if the incident does not exist."""
    try:
        named = get_query(name)
    except UnknownQueryError:
        known = ", ".join(q.name for q in analysis_queries())
        typer.secho(f"error: no query named {name!r}; known: {known}", err=True, fg=typer.colors.RED)
        raise typer.Exit(exits.USAGE) from None
    if named.kind != "analysis":
        what = "a Neo4j Browser query (keytrail browser writes it with the others)" if named.kind == "browser" else "an internal write query"
        typer.secho(f"error: {name} is {what}", err=True, fg=typer.colors.RED)
        raise typer.Exit(exits.USAGE)
    params = parse_params(param or [])
    if any(p.name == "incident" for p in named.params):
        if "incident" in params and incident is not None:
            raise typer.BadParameter("give the incident once: --incident, or -p incident=...", param_hint="--incident")
        params.setdefault("incident", incident)
    elif incident is not None:
        raise typer.BadParameter(f"query {name} reads the whole store: it takes no incident", param_hint="--incident")
    try:
        named.check_params(params)
    except QueryParameterError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(exits.USAGE) from None
    with open_store(settings_of(ctx)) as backend:
        require_incident(backend, params.get("incident"))
        rows = run_query(backend, name, params)
    if as_json:
        print_json(rows)
    else:
        print_rows(rows, named.returns, title=name)

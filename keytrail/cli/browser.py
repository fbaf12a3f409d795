"""``keytrail browser [KEY]``: the Neo4j Browser kit (style, favourites) and links that open the investigation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from keytrail.cli import exits
from keytrail.cli.settings import Settings, settings_of
from keytrail.graph.neo4j_local import local_home
from keytrail.loaders.sources import KEY_RE
from keytrail.report.browser import DEFAULT_BROWSER, UnsafeValue, investigation_links, write_kit
from keytrail.report.literal import visible


def browser_url(settings: Settings, given: str | None) -> str:
    """The Browser of the Neo4j in use: given, or the HTTP port of a scripts/neo4j-local server, or the default."""
    if given:
        return given
    home = local_home(settings.neo4j.uri) if settings.neo4j is not None else None
    if home is not None:
        try:
            http = (home / "run" / "neo4j-local.ports").read_text().split()[1]
            return f"http://127.0.0.1:{http}/browser/"
        except (OSError, IndexError):
            pass
    return DEFAULT_BROWSER


def browser(
    ctx: typer.Context,
    key: Annotated[str | None, typer.Argument(help="An access key id: print a link per investigation step for it.")] = None,
    incident: Annotated[str | None, typer.Option("--incident", "-i", help="Only events loaded under this incident, in the links.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the style and the favourites. Default: <KEYTRAIL_HOME>/browser-kit")] = None,
    url: Annotated[str | None, typer.Option("--browser-url", help="Neo4j Browser's address (default: the local server's, else 127.0.0.1:7474).")] = None,
) -> None:
    """Write the Neo4j Browser kit: keytrail.grass (drag it onto the Browser) and keytrail-queries.zip (import it
    in Favorites); with KEY, print a link per investigation step that opens the Browser with the query and its
    parameters filled in."""
    settings = settings_of(ctx)
    if key is not None and not KEY_RE.match(key):
        typer.echo(f"error: {visible(key)!r} is not an access key id (AKIA… or ASIA…)", err=True)
        raise typer.Exit(exits.USAGE)
    folder = out or settings.home / "browser-kit"
    style, favourites = write_kit(folder)
    base = browser_url(settings, url)
    typer.echo(f"Neo4j Browser: {base}")
    typer.echo(f"Style:      {visible(str(style))}  (drag the file onto the Browser window)")
    typer.echo(f"Favourites: {visible(str(favourites))}  (Favorites, Import, choose the file)")
    if key is None:
        return
    try:
        links = investigation_links(base, key, incident)
    except UnsafeValue as exc:
        typer.echo(f"error: {visible(str(exc))}: give --incident as letters, digits and -_.:/@, or leave it out", err=True)
        raise typer.Exit(exits.USAGE) from None
    for step, name, link in links:
        typer.echo(f"\n{step} ({name}):\n  {link}")

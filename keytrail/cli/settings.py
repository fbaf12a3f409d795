"""One settings object, built once in the app callback and passed to every command."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import typer

from keytrail.cli import exits
from keytrail.cli.interrupts import Interrupted, handled_signals
from keytrail.graph.backends import Backend, BackendError, Neo4jSettings, default_home, open_backend
from keytrail.graph.neo4j_local import credentials_for
from keytrail.graph.runner import run_query
from keytrail.report.literal import visible


@dataclass(frozen=True, slots=True)
class Settings:
    """Which store to use. The Neo4j password is held here and never printed."""

    neo4j: Neo4jSettings | None
    home: Path

    @property
    def store_description(self) -> str:
        """A printable description of the store: never includes the password."""
        if self.neo4j is not None:
            return f"Neo4j at {self.neo4j.uri} (database {self.neo4j.database})"
        return f"embedded FalkorDB in {self.home}"


def settings_of(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    if not isinstance(settings, Settings):  # pragma: no cover - the callback always sets it
        raise RuntimeError("settings missing")
    return settings


@contextmanager
def open_store(settings: Settings, on_signal: Callable[[str], None] | None = None) -> Iterator[Backend]:
    """Open the configured store for one command, and close it whatever ends the command.

    A store that cannot be reached, or fails during the command, is one line on stderr naming
    the store and exit status 3, never a traceback. SIGINT, SIGTERM and SIGHUP end the command
    with 128 + the signal's number (``on_signal`` gets the first one instead: a load's clean
    stop); the embedded store is then closed without saving what was not a whole.
    """
    try:
        with handled_signals(on_signal):
            backend = open_backend(settings.neo4j, settings.home)
            try:
                yield backend
            finally:
                backend.close()
    except BackendError as exc:
        typer.secho(f"error: {visible(str(exc))}", err=True, fg=typer.colors.RED)
        typer.secho(f"the store is {settings.store_description}; {_what_to_do(settings)}", err=True)
        raise typer.Exit(exits.STORE) from None
    except Interrupted as exc:
        typer.secho(f"stopped by {exc}: nothing unfinished was saved; run the command again", err=True, fg=typer.colors.RED)
        raise typer.Exit(exc.exit_status) from None


def _what_to_do(settings: Settings) -> str:
    if settings.neo4j is not None:
        return "check that Neo4j is running and reachable (scripts/neo4j-local status), then run the command again: a load completes what it did not store"
    return "run the command again: a load completes what it did not store; if it fails again, see docs/reliability.md"


def make_settings(uri: str | None, username: str | None, password: str | None, database: str, home: Path | None) -> Settings:
    if uri:
        # A server from scripts/neo4j-local: its generated password, read from its home (never printed).
        username, password = credentials_for(uri, username, password)
    neo4j = Neo4jSettings(uri, username, password, database) if uri else None
    return Settings(neo4j, home or default_home())


def require_incident(backend: Backend, incident: str | None) -> None:
    """Exit 1 with the known incidents when ``incident`` is not in the store (``None``: the whole store, always fine)."""
    if incident is None:
        return
    known = [row["incident"] for row in run_query(backend, "incident-names")]
    if incident not in known:
        typer.echo(f"error: no incident {incident!r} in the store; known incidents: {', '.join(visible(k) for k in known) or 'none'}", err=True)
        raise typer.Exit(exits.NOT_ALL)
